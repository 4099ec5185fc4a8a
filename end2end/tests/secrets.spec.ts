// Tokens stay on the server: the browser gets one opaque, HttpOnly, SameSite=Lax session cookie.
import { createHash } from 'node:crypto';

import { expect, test } from './support/fixtures';
import { loginFrom, waitForHydration } from './support/flows';
import { APP_COOKIE, APP_URL, ISSUER, PROVIDER_COOKIE_PREFIXES } from './support/env';

/**
 * A JWT (id_token, or FusionAuth's access token): a base64url `{"` header, a dot, a base64url `{"`
 * payload. A bare `eyJ` is not enough: random base64url values (the `sid` claim, a nonce) can hold it.
 */
const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/;
/** A token response or token field serialized into the page, e.g. `"access_token":` or `refresh_token=`. */
const TOKEN_FIELD = /["']?\b(id_token|access_token|refresh_token)\b["']?\s*[:=]/;

interface IssuedDigests { algorithm: 'sha256'; token_length: number; digests: string[] }

/** Every standalone base64url run of the opaque tokens' length, hashed like the stand-in does. */
function opaqueTokenDigests(text: string, length: number): Set<string> {
  const candidates = text.match(new RegExp(`(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{${length}}(?![A-Za-z0-9_-])`, 'g')) ?? [];
  return new Set(candidates.map((c) => createHash('sha256').update(c).digest('hex')));
}

test('the app sets exactly one session cookie, HttpOnly and SameSite=Lax', async ({ page, context }) => {
  await loginFrom(page, '/');
  // Every cookie of the app's host, whatever its path (the login's own cookies are gone).
  const appCookies = (await context.cookies())
    .filter((c) => c.domain === new URL(APP_URL).hostname)
    .filter((c) => !PROVIDER_COOKIE_PREFIXES.some((prefix) => c.name.startsWith(prefix)));
  expect(appCookies.map((c) => c.name)).toEqual([APP_COOKIE]);
  const [cookie] = appCookies;
  expect(cookie.httpOnly, 'HttpOnly').toBe(true);
  expect(cookie.sameSite, 'SameSite').toBe('Lax');
  expect(cookie.value, 'cookie holds no JWT').not.toMatch(JWT);
});

test('no token reaches the page HTML, JS-visible storage or cookies (token leakage)', async ({ page, context, request }) => {
  // The pattern itself: a JWT is found, a random value with `eyJ` inside is not.
  expect('x eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln y').toMatch(JWT);
  expect('YqUYfpjmzJQTTeyJnJEeJErc3guIo2OXVygmqq7FsJ4').not.toMatch(JWT);
  await loginFrom(page, '/');
  await waitForHydration(page);

  const seen: Record<string, string> = {
    'server HTML of /': await (await page.request.get('/')).text(),
    'server HTML of /profile': await (await page.request.get('/profile')).text(),
    'live DOM': await page.content(),
    ...await page.evaluate(() => ({
      'document.cookie': document.cookie,
      localStorage: JSON.stringify({ ...localStorage }),
      sessionStorage: JSON.stringify({ ...sessionStorage }),
    })),
  };
  for (const cookie of await context.cookies(APP_URL)) seen[`cookie ${cookie.name}`] = cookie.value;

  expect(seen['document.cookie'], 'the session cookie is readable from JavaScript').not.toContain(APP_COOKIE);

  // The stand-in's access and refresh tokens are opaque: compare digests with the ones it issued.
  const issued = await (await request.get(`${ISSUER}/__standin/issued-token-digests`)).json() as IssuedDigests;
  expect(issued.digests.length, 'the stand-in issued tokens to the app').toBeGreaterThan(0);
  const issuedSet = new Set(issued.digests);

  for (const [where, text] of Object.entries(seen)) {
    expect(text, `${where} contains a JWT`).not.toMatch(JWT);
    expect(text, `${where} serializes a token field`).not.toMatch(TOKEN_FIELD);
    const leaked = [...opaqueTokenDigests(text, issued.token_length)].filter((d) => issuedSet.has(d));
    expect(leaked, `${where} contains an access or refresh token issued to the app`).toEqual([]);
  }
});
