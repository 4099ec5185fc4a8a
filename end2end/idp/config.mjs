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
  IDP_LOGOUT_BEHAVIOR: 'AllApplications',
  IDP_REFRESH_TOKEN_POLICY: 'OneTimeUse',
  // Development values only, the same as fusionauth.env and src/defaults.rs.
  FUSIONAUTH_API_KEY: 'dev-only-api-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz',
  WEBHOOK_SIGNING_SECRET: 'dev-only-webhook-signing-secret-change-me-0123456789',
  WEBHOOK_SIGNING_KEY_ID: 'b3a1c9a8-5d1e-4f43-9c36-1f2d3e4a5b6c',
};

// The application webhook's path in the app (src/defaults.rs WEBHOOK_PATH).
const APP_WEBHOOK_PATH = '/webhooks/fusionauth';

// FusionAuth's application `oauthConfiguration.logoutBehavior` values.
export const LOGOUT_BEHAVIORS = Object.freeze(['AllApplications', 'RedirectOnly']);

// FusionAuth's application `jwtConfiguration.refreshTokenUsagePolicy` values.
export const REFRESH_TOKEN_POLICIES = Object.freeze(['OneTimeUse', 'Reusable']);

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fail(name, value, why) {
  throw new Error(`stand-in: ${name}=${JSON.stringify(value)} ${why}`);
}

function parseHttpUrl(name, raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(name, raw, 'is not an absolute URL (example: http://localhost:9011)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(name, raw, 'must be an http:// or https:// URL');
  }
  return url;
}

function readUrl(env, name) {
  const raw = env[name] ?? DEFAULTS[name];
  parseHttpUrl(name, raw);
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

/**
 * FusionAuth's client id is the application's id, a UUID, and FusionAuth
 * parses it as one: any case matches, and tokens carry the lower-case form
 * (aud). oidc-provider compares plain strings, so a UUID-shaped CLIENT_ID is
 * kept in that lower-case form: an upper-case setting still matches the
 * lower-case client_id that FusionAuth's own ids have in requests.
 */
function readClientId(env) {
  const raw = env.CLIENT_ID ?? DEFAULTS.CLIENT_ID;
  if (!raw) fail('CLIENT_ID', raw, 'must not be empty');
  return UUID_SHAPE.test(raw) ? raw.toLowerCase() : raw;
}

function readLogoutBehavior(env) {
  const raw = env.IDP_LOGOUT_BEHAVIOR ?? DEFAULTS.IDP_LOGOUT_BEHAVIOR;
  if (!LOGOUT_BEHAVIORS.includes(raw)) {
    fail('IDP_LOGOUT_BEHAVIOR', raw, `must be one of ${LOGOUT_BEHAVIORS.join(', ')} (FusionAuth's logoutBehavior)`);
  }
  return raw;
}

function readRefreshTokenPolicy(env) {
  const raw = env.IDP_REFRESH_TOKEN_POLICY ?? DEFAULTS.IDP_REFRESH_TOKEN_POLICY;
  if (!REFRESH_TOKEN_POLICIES.includes(raw)) {
    fail('IDP_REFRESH_TOKEN_POLICY', raw,
      `must be one of ${REFRESH_TOKEN_POLICIES.join(', ')} (FusionAuth's refreshTokenUsagePolicy)`);
  }
  return raw;
}

function readNonEmpty(env, name) {
  const raw = env[name] ?? DEFAULTS[name];
  // The value itself is never part of the message: these are secrets.
  if (!raw) throw new Error(`stand-in: ${name} must not be empty`);
  return raw;
}

/**
 * The URLs of the stand-in's one webhook, comma separated. Unset: the app's
 * webhook endpoint; set but empty: no webhook at all.
 */
function readWebhookUrls(env, appUrl) {
  const raw = env.WEBHOOK_URLS ?? `${appUrl}${APP_WEBHOOK_PATH}`;
  return raw.split(',').map((u) => u.trim()).filter(Boolean)
    .map((u) => parseHttpUrl('WEBHOOK_URLS', u).href);
}

export function loadConfig(env = process.env) {
  const port = readPositiveInt(env, 'IDP_PORT');
  if (port > 65535) fail('IDP_PORT', port, 'must be at most 65535');
  const clientId = readClientId(env);
  const appUrl = readUrl(env, 'APP_URL');
  return {
    port,
    issuer: readUrl(env, 'ISSUER'),
    clientId,
    clientSecret: readNonEmpty(env, 'CLIENT_SECRET'),
    appUrl,
    accessTokenTtl: readPositiveInt(env, 'IDP_ACCESS_TOKEN_TTL'),
    logoutBehavior: readLogoutBehavior(env),
    refreshTokenPolicy: readRefreshTokenPolicy(env),
    apiKey: readNonEmpty(env, 'FUSIONAUTH_API_KEY'),
    webhook: {
      urls: readWebhookUrls(env, appUrl),
      signingSecret: readNonEmpty(env, 'WEBHOOK_SIGNING_SECRET'),
      signingKeyId: readNonEmpty(env, 'WEBHOOK_SIGNING_KEY_ID'),
    },
  };
}
