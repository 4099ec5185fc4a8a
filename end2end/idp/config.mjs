// Configuration of the stand-in, read once from the environment at start-up.
// Every default matches the FusionAuth tutorial so the app works against the
// stand-in without any extra setting.

const DEFAULTS = {
  IDP_PORT: '9011',
  ISSUER: 'http://localhost:9011',
  CLIENT_ID: 'e9fdb985-9173-4e01-9d73-ac2d60d1dc8e',
  CLIENT_SECRET: 'change-this-in-production-to-be-a-real-secret',
  APP_URL: 'http://localhost:3000',
  IDP_ACCESS_TOKEN_TTL: '3600',
};

function fail(name, value, why) {
  throw new Error(`stand-in: ${name}=${JSON.stringify(value)} ${why}`);
}

function readUrl(env, name) {
  const raw = env[name] ?? DEFAULTS[name];
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(name, raw, 'is not an absolute URL (example: http://localhost:9011)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(name, raw, 'must be an http:// or https:// URL');
  }
  // The issuer must be reproduced byte for byte in discovery and tokens, so a
  // trailing slash is removed rather than silently kept in one place only.
  return raw.replace(/\/+$/, '');
}

function readPositiveInt(env, name) {
  const raw = env[name] ?? DEFAULTS[name];
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    fail(name, raw, 'must be a positive integer');
  }
  return value;
}

export function loadConfig(env = process.env) {
  const port = readPositiveInt(env, 'IDP_PORT');
  if (port > 65535) fail('IDP_PORT', port, 'must be at most 65535');
  const clientId = env.CLIENT_ID ?? DEFAULTS.CLIENT_ID;
  const clientSecret = env.CLIENT_SECRET ?? DEFAULTS.CLIENT_SECRET;
  if (!clientId) fail('CLIENT_ID', clientId, 'must not be empty');
  if (!clientSecret) fail('CLIENT_SECRET', clientSecret, 'must not be empty');
  return {
    port,
    issuer: readUrl(env, 'ISSUER'),
    clientId,
    clientSecret,
    appUrl: readUrl(env, 'APP_URL'),
    accessTokenTtl: readPositiveInt(env, 'IDP_ACCESS_TOKEN_TTL'),
  };
}
