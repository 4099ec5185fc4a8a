#!/usr/bin/env node
// FusionAuth-shaped stand-in OIDC provider for development and end-to-end
// tests. Not a product: see README.md beside this file.
import http from 'node:http';

import { loadConfig } from './config.mjs';
import { buildProvider } from './provider.mjs';

// localhost may resolve to 127.0.0.1 or ::1: listen on both.
const HOSTS = ['127.0.0.1', '::1'];

function listen(server, host, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function main() {
  const config = loadConfig();
  const { provider } = await buildProvider(config);
  const handler = provider.callback();
  const servers = [];
  for (const host of HOSTS) {
    const server = http.createServer(handler);
    try {
      await listen(server, host, config.port);
      servers.push(server);
    } catch (err) {
      // A machine without IPv6 has no ::1; one address is enough there.
      if (host === '::1' && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) continue;
      throw err;
    }
  }
  process.stdout.write(
    `stand-in OIDC provider: issuer ${config.issuer}, listening on ${servers.length} address(es) port ${config.port}, `
    + `client ${config.clientId}, app ${config.appUrl}, logoutBehavior ${config.logoutBehavior}, `
    + `refreshTokenUsagePolicy ${config.refreshTokenPolicy}, webhook ${config.webhook.urls.join(' ') || '(none)'}\n`,
  );

  const stop = (signal) => {
    process.stdout.write(`stand-in: ${signal}, shutting down\n`);
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`stand-in failed to start: ${err.message}\n`);
  process.exit(1);
});
