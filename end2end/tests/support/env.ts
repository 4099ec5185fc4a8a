// Where the suite runs the app and the stand-in. Ports differ from the
// development defaults (3000, 9011) so a developer's running app or real
// FusionAuth never collides with a test run.
import { existsSync } from 'node:fs';


/**
 * What the suite runs against (E2E_TOPOLOGY): `single`, one app process with its SQLite store
 * (the default); or `scaled`, scripts/topology.sh (crates/topology): nginx on :3000 round-robin
 * to two replicas on :3101 and :3102 that keep their sessions in Redis. The scaled ports are deploy/nginx.local.conf's.
 */
export const TOPOLOGY = readTopology(process.env.E2E_TOPOLOGY);
export const SCALED = TOPOLOGY === 'scaled';

/**
 * The scaled run's token timing: the stand-in's access tokens live 10 s (IDP_ACCESS_TOKEN_TTL)
 * and the app refreshes one 5 s before it expires (REFRESH_SKEW_SECS; never earlier than half
 * way through its life, crates/axum-oidc-sessions/src/oidc/flow.rs), so each falls due 5 s
 * after it was issued and refreshes, under the lease every replica honours, happen all through
 * the run.
 */
export const SCALED_ACCESS_TOKEN_TTL_SECS = 10;
export const SCALED_REFRESH_SKEW_SECS = 5;
/** Seconds after a token was issued that the next request refreshes it. */
export const SCALED_REFRESH_DUE_SECS = SCALED_ACCESS_TOKEN_TTL_SECS
  - Math.min(SCALED_REFRESH_SKEW_SECS, SCALED_ACCESS_TOKEN_TTL_SECS / 2);

export const APP_PORT = SCALED ? 3000 : Number(process.env.E2E_APP_PORT ?? 3300);
export const IDP_PORT = Number(process.env.E2E_IDP_PORT ?? 9911);
export const APP_URL = `http://localhost:${APP_PORT}`;
export const ISSUER = `http://localhost:${IDP_PORT}`;
/** The single app process's metrics listener (METRICS_ADDR): never on the app's own port. */
export const METRICS_PORT = Number(process.env.E2E_METRICS_PORT ?? 9310);
export const METRICS_URL = `http://127.0.0.1:${METRICS_PORT}/metrics`;
/** The scaled topology's replicas, each reached directly (the browser's cookies are per host,
 * not per port, so the session cookie set through the load balancer reaches both). */
export const REPLICA_URLS = ['http://localhost:3101', 'http://localhost:3102'] as const;
/** The application id both the app and the stand-in use by default (the tutorial's). */
export const CLIENT_ID = 'e9fdb985-9173-4e01-9d73-ac2d60d1dc8e';

/** The stand-in's one user (end2end/idp/account.mjs): the kickstart's demo user. */
export const USER = {
  email: 'richard@example.com',
  password: 'password',
  sub: '00000000-0000-0000-0000-111111111111',
  name: 'Richard Hendricks',
} as const;

export const APP_COOKIE = 'fa_leptos_session';

/**
 * Cookies are per host, not per port: the identity provider on the same host
 * may set cookies the app's URL also matches. These prefixes are the
 * stand-in's (`standin.*`) and real FusionAuth's (`fusionauth.*`).
 */
export const PROVIDER_COOKIE_PREFIXES = ['standin.', 'fusionauth.'];

/** Debian's chromium (or CHROMIUM_PATH); undefined = Playwright's own browser. */
export function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

/** The admin API key of the stand-in (FUSIONAUTH_API_KEY in .env.example), for its FusionAuth API. */
export const FUSIONAUTH_API_KEY = process.env.FUSIONAUTH_API_KEY
  ?? 'dev-only-api-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz';

function readTopology(raw: string | undefined): 'single' | 'scaled' {
  if (raw === undefined || raw === '' || raw === 'single') return 'single';
  if (raw === 'scaled') return 'scaled';
  throw new Error(`E2E_TOPOLOGY=${JSON.stringify(raw)}: use single (the default) or scaled`);
}
