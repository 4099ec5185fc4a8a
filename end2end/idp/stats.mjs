// Test-support endpoints. Counters: how many requests the app's server-side
// HTTP client (User-Agent "fusionauth-leptos/...") made, per path; the
// benchmark reads them to prove a warmed-up login costs exactly one request
// (the token call). Digests of issued tokens: for the "no token in the
// browser" end-to-end test.
import { createHash } from 'node:crypto';

export const APP_USER_AGENT_PREFIX = 'fusionauth-leptos/';
export const STATS_PATH = '/__standin/stats';
export const STATS_RESET_PATH = '/__standin/stats/reset';
export const ISSUED_DIGESTS_PATH = '/__standin/issued-token-digests';

const MAX_DIGESTS = 1000;

/**
 * SHA-256 digests (hex) of the opaque access and refresh tokens issued, so a
 * test can prove none of them reached the browser without the stand-in ever
 * handing out a token. Oldest first, the last MAX_DIGESTS only.
 */
export function createIssuedTokenDigests(provider) {
  const digests = [];
  const remember = (token) => {
    digests.push(createHash('sha256').update(token.jti).digest('hex'));
    if (digests.length > MAX_DIGESTS) digests.shift();
  };
  // Opaque tokens are their own jti (id_tokens are JWTs: tests look for `eyJ`).
  provider.on('access_token.saved', remember);
  provider.on('refresh_token.saved', remember);

  return async function issuedTokenDigests(ctx, next) {
    if (ctx.path !== ISSUED_DIGESTS_PATH || ctx.method !== 'GET') return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { algorithm: 'sha256', token_length: 43, digests };
    return undefined;
  };
}

export function createStats() {
  let counts = new Map();

  /** Koa middleware: counts app requests, serves the two stats routes. */
  return async function stats(ctx, next) {
    if (ctx.path === STATS_PATH && ctx.method === 'GET') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { app_requests: Object.fromEntries([...counts].sort()) };
      return;
    }
    if (ctx.path === STATS_RESET_PATH && ctx.method === 'POST') {
      counts = new Map();
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { app_requests: {} };
      return;
    }
    const userAgent = ctx.get('User-Agent');
    if (userAgent.startsWith(APP_USER_AGENT_PREFIX)) {
      counts.set(ctx.path, (counts.get(ctx.path) ?? 0) + 1);
    }
    await next();
  };
}
