// Test-support endpoints. Counters: how many requests the app's server-side
// HTTP client (User-Agent "fusionauth-leptos/...") made, per path and, at the
// token endpoint, per grant type; the benchmark reads them to prove a
// warmed-up login costs exactly one request (the token call), tests to count
// refreshes. Digests of issued tokens: for the "no token in the browser"
// end-to-end test. Webhook deliveries: proof that the app was told.
import { createHash } from 'node:crypto';

export const APP_USER_AGENT_PREFIX = 'fusionauth-leptos/';
export const STATS_PATH = '/__standin/stats';
export const STATS_RESET_PATH = '/__standin/stats/reset';
export const ISSUED_DIGESTS_PATH = '/__standin/issued-token-digests';
export const WEBHOOKS_PATH = '/__standin/webhooks';
export const WEBHOOKS_RESET_PATH = '/__standin/webhooks/reset';

const TOKEN_PATH = '/oauth2/token';

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
  let grants = new Map();
  const sorted = (map) => Object.fromEntries([...map].sort());
  const body = () => ({ app_requests: sorted(counts), app_token_grants: sorted(grants) });

  /** Koa middleware: counts app requests, serves the two stats routes. */
  return async function stats(ctx, next) {
    if (ctx.path === STATS_PATH && ctx.method === 'GET') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = body();
      return;
    }
    if (ctx.path === STATS_RESET_PATH && ctx.method === 'POST') {
      counts = new Map();
      grants = new Map();
      ctx.set('Cache-Control', 'no-store');
      ctx.body = body();
      return;
    }
    const fromApp = ctx.get('User-Agent').startsWith(APP_USER_AGENT_PREFIX);
    if (fromApp) counts.set(ctx.path, (counts.get(ctx.path) ?? 0) + 1);
    await next();
    // The grant type is in the form body, which oidc-provider has parsed by
    // now (refused requests included); reading it here would consume it.
    const grantType = ctx.oidc?.params?.grant_type;
    if (fromApp && ctx.path === TOKEN_PATH && grantType) {
      grants.set(grantType, (grants.get(grantType) ?? 0) + 1);
    }
  };
}

/** The webhook deliveries, oldest first: `[{url, type, eventId, status, error?}]`. */
export function createWebhookDeliveries(webhooks) {
  return async function webhookDeliveries(ctx, next) {
    if (ctx.path === WEBHOOKS_PATH && ctx.method === 'GET') {
      ctx.body = webhooks.deliveries();
    } else if (ctx.path === WEBHOOKS_RESET_PATH && ctx.method === 'POST') {
      webhooks.reset();
      ctx.body = [];
    } else {
      return next();
    }
    ctx.set('Cache-Control', 'no-store');
    return undefined;
  };
}
