// Where the suite runs the app and the stand-in. Ports differ from the
// development defaults (3000, 9011) so a developer's running app or real
// FusionAuth never collides with a test run.
import { existsSync } from 'node:fs';

export const APP_PORT = Number(process.env.E2E_APP_PORT ?? 3300);
export const IDP_PORT = Number(process.env.E2E_IDP_PORT ?? 9911);
export const APP_URL = `http://localhost:${APP_PORT}`;
export const ISSUER = `http://localhost:${IDP_PORT}`;
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
