#!/usr/bin/env node
// Standalone check of the stand-in: starts it on a spare port, then walks
// discovery, JWKS and a full authorization-code + PKCE login the way the app
// and a browser would, verifying the id_token signature with the JWKS.
// Exits non-zero on the first broken expectation.  Usage: npm run idp:check
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const PORT = Number(process.env.CHECK_IDP_PORT ?? 9811);
const ISSUER = `http://localhost:${PORT}`;
const APP_URL = 'http://localhost:3999';
const CLIENT_ID = 'e9fdb985-9173-4e01-9d73-ac2d60d1dc8e';
const CLIENT_SECRET = 'change-this-in-production-to-be-a-real-secret';
const REDIRECT_URI = `${APP_URL}/callback`;
const APP_UA = 'fusionauth-leptos/check';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const basicAuth = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;

/** A browser-ish cookie jar (the stand-in's cookies are all on its own host). */
class Browser {
  cookies = new Map();

  async request(url, init = {}) {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('Cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name.trim()); else this.cookies.set(name.trim(), value);
    }
    return res;
  }

  /** Follows redirects within the stand-in; stops at the first URL outside it. */
  async navigate(url, init) {
    let res = await this.request(url, init);
    let location = url;
    while ([301, 302, 303, 307, 308].includes(res.status)) {
      location = new URL(res.headers.get('location'), location).href;
      if (!location.startsWith(ISSUER)) return { res, location, left: true };
      res = await this.request(location);
    }
    return { res, location, left: false };
  }
}

function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

function authorizeUrl(discovery, { challenge, state, nonce, prompt }) {
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(prompt ? { prompt } : {}),
  }).toString();
  return url.href;
}

function formAction(html) {
  const match = html.match(/<form id="login-form" method="post" action="([^"]+)"/);
  assert.ok(match, 'login form present');
  return new URL(match[1].replaceAll('&amp;', '&'), ISSUER).href;
}

async function tokenRequest(discovery, body, { auth = 'basic' } = {}) {
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': APP_UA };
  const params = new URLSearchParams(body);
  if (auth === 'basic') headers.Authorization = basicAuth;
  else { params.set('client_id', CLIENT_ID); params.set('client_secret', CLIENT_SECRET); }
  const res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body: params });
  const json = await res.json();
  assert.equal(res.status, 200, `token endpoint: ${JSON.stringify(json)}`);
  return json;
}

async function login(browser, discovery, { password = 'password', prompt } = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const started = performance.now();
  const first = await browser.navigate(authorizeUrl(discovery, { challenge, state, nonce, prompt }));
  let callback = first;
  let shownLoginForm = false;
  if (!first.left) {
    const html = await first.res.text();
    assert.equal(first.res.status, 200);
    assert.match(html, /<title>Login \| FusionAuth<\/title>/);
    assert.match(html, /<input id="loginId" name="loginId" type="text" placeholder="Email"/);
    assert.match(html, /<input id="password" name="password" type="password"/);
    assert.match(html, /name="rememberDevice"[^>]*> Keep me signed in/);
    assert.match(html, /<button id="submit-button" type="submit">Submit<\/button>/);
    shownLoginForm = true;
    callback = await browser.navigate(formAction(html), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ loginId: 'richard@example.com', password }),
    });
    if (!callback.left) return { failedHtml: await callback.res.text(), status: callback.res.status };
  }
  const ms = performance.now() - started;
  const url = new URL(callback.location);
  assert.equal(`${url.origin}${url.pathname}`, REDIRECT_URI, 'redirected to the registered redirect_uri');
  assert.equal(url.searchParams.get('state'), state, 'state echoed');
  assert.equal(url.searchParams.get('iss'), ISSUER, 'RFC 9207 iss');
  const code = url.searchParams.get('code');
  assert.ok(code, 'code present');
  return { code, verifier, nonce, shownLoginForm, ms };
}

async function logout(browser, discovery, { postLogoutRedirectUri } = {}) {
  const url = new URL(discovery.end_session_endpoint);
  url.searchParams.set('client_id', CLIENT_ID);
  if (postLogoutRedirectUri) url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
  const page = await browser.request(url.href);
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /Logging out…/);
  assert.ok(html.includes(`<iframe class="frontchannel" title="Front-channel logout" src="${APP_URL}/logout"`), 'front-channel iframe');
  assert.match(html, /form\.submit\(\)/, 'page submits itself');
  const xsrf = html.match(/name="xsrf" value="([^"]+)"/)[1];
  const action = new URL(html.match(/<form id="op.logoutForm" method="post" action="([^"]+)"/)[1], ISSUER).href;
  const done = await browser.navigate(action, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, logout: 'yes' }),
  });
  assert.ok(done.left, 'logout leaves the provider');
  return done.location;
}

async function waitForDiscovery() {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${ISSUER}/.well-known/openid-configuration`);
      if (res.ok) return res.json();
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('stand-in did not start');
}

async function run() {
  const discovery = await waitForDiscovery();
  assert.equal(discovery.issuer, ISSUER, 'issuer is exact');
  for (const [key, path] of Object.entries({
    authorization_endpoint: '/oauth2/authorize', token_endpoint: '/oauth2/token',
    userinfo_endpoint: '/oauth2/userinfo', end_session_endpoint: '/oauth2/logout', jwks_uri: '/.well-known/jwks.json',
  })) assert.equal(discovery[key], `${ISSUER}${path}`, key);
  assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  console.log('ok discovery');

  const jwks = await (await fetch(discovery.jwks_uri)).json();
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].alg, 'RS256');
  assert.ok(jwks.keys[0].kid && !jwks.keys[0].d, 'public key with a kid');
  console.log('ok jwks');

  await fetch(`${ISSUER}/__standin/stats/reset`, { method: 'POST' });
  const browser = new Browser();

  const wrong = await login(browser, discovery, { password: 'wrong' });
  assert.equal(wrong.status, 200);
  assert.match(wrong.failedHtml, /Invalid login credentials\./);
  assert.match(wrong.failedHtml, /<title>Login \| FusionAuth<\/title>/);
  console.log('ok wrong password re-renders the form (200, "Invalid login credentials.")');

  const first = await login(browser, discovery);
  assert.ok(first.shownLoginForm);
  console.log(`ok login form -> code in ${first.ms.toFixed(0)} ms`);
  const tokens = await tokenRequest(discovery, {
    grant_type: 'authorization_code', code: first.code, redirect_uri: REDIRECT_URI, code_verifier: first.verifier,
  });
  for (const field of ['access_token', 'id_token', 'refresh_token', 'expires_in', 'token_type']) {
    assert.ok(tokens[field], `token response has ${field}`);
  }
  const keySet = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(tokens.id_token, keySet, {
    issuer: ISSUER, audience: CLIENT_ID, algorithms: ['RS256'],
  });
  assert.equal(protectedHeader.kid, jwks.keys[0].kid);
  assert.equal(payload.nonce, first.nonce);
  assert.equal(payload.email, 'richard@example.com');
  assert.equal(payload.email_verified, true);
  assert.equal(payload.name, 'Richard Hendricks');
  assert.equal(payload.given_name, 'Richard');
  assert.equal(payload.family_name, 'Hendricks');
  assert.equal(payload.authenticationType, 'PASSWORD');
  assert.ok(payload.sub && payload.tid && payload.sid && payload.at_hash && payload.auth_time, `sub tid sid at_hash auth_time in ${JSON.stringify(Object.keys(payload))}`);
  const atDigest = createHash('sha256').update(tokens.access_token).digest();
  assert.equal(payload.at_hash, b64url(atDigest.subarray(0, 16)), 'at_hash matches the access token');
  assert.equal(payload.roles, undefined, 'roles only in userinfo/access token');
  console.log(`ok id_token verifies with the JWKS; claims: ${Object.keys(payload).sort().join(' ')}`);

  const userinfo = await (await fetch(discovery.userinfo_endpoint, {
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  })).json();
  assert.equal(userinfo.email, 'richard@example.com');
  assert.equal(userinfo.applicationId, CLIENT_ID);
  console.log('ok userinfo');

  const refreshed = await tokenRequest(discovery, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.ok(refreshed.access_token && refreshed.id_token, 'refresh grant issues new tokens');
  console.log('ok refresh_token grant');

  const again = await login(browser, discovery);
  assert.equal(again.shownLoginForm, false, 'signed-in user is redirected straight back');
  const postTokens = await tokenRequest(discovery, {
    grant_type: 'authorization_code', code: again.code, redirect_uri: REDIRECT_URI, code_verifier: again.verifier,
  }, { auth: 'post' });
  assert.ok(postTokens.refresh_token, 'client_secret_post accepted, refresh token issued');
  console.log('ok SSO: second authorize skips the form; client_secret_post accepted');

  const reauth = await login(browser, discovery, { prompt: 'login' });
  assert.ok(reauth.shownLoginForm, 'prompt=login shows the form');
  const reauthTokens = await tokenRequest(discovery, {
    grant_type: 'authorization_code', code: reauth.code, redirect_uri: REDIRECT_URI, code_verifier: reauth.verifier,
  });
  assert.ok(reauthTokens.refresh_token, 'offline_access kept with prompt=login');
  console.log('ok prompt=login keeps offline_access');

  const landed = await logout(browser, discovery, { postLogoutRedirectUri: `${APP_URL}/logout` });
  assert.equal(landed, `${APP_URL}/logout`);
  const afterLogout = await login(browser, discovery);
  assert.ok(afterLogout.shownLoginForm, 'login form shown again after logout');
  console.log('ok logout with post_logout_redirect_uri ends the provider session');

  const landed2 = await logout(browser, discovery);
  assert.equal(landed2, `${APP_URL}/logout`, 'no post_logout_redirect_uri -> app logout URL');
  console.log('ok logout without post_logout_redirect_uri lands on APP_URL/logout');

  const stats = await (await fetch(`${ISSUER}/__standin/stats`)).json();
  assert.deepEqual(stats, { app_requests: { '/oauth2/token': 4 } });
  await fetch(`${ISSUER}/__standin/stats/reset`, { method: 'POST' });
  assert.deepEqual(await (await fetch(`${ISSUER}/__standin/stats`)).json(), { app_requests: {} });
  console.log('ok stats count only app requests, reset zeroes them');

  const issued = await (await fetch(`${ISSUER}/__standin/issued-token-digests`)).json();
  const digestOf = (v) => createHash('sha256').update(v).digest('hex');
  assert.ok(issued.digests.includes(digestOf(tokens.access_token)), 'access token digest listed');
  assert.ok(issued.digests.includes(digestOf(tokens.refresh_token)), 'refresh token digest listed');
  assert.equal(tokens.access_token.length, issued.token_length);
  console.log('ok issued-token digests list the access and refresh tokens');
}

const server = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], {
  env: { ...process.env, IDP_PORT: String(PORT), ISSUER, APP_URL },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let serverLog = '';
server.stdout.on('data', (d) => { serverLog += d; });
server.stderr.on('data', (d) => { serverLog += d; });

try {
  await run();
  console.log('stand-in check: all passed');
} catch (err) {
  console.error(`stand-in check FAILED: ${err.stack}`);
  console.error(`--- stand-in output ---\n${serverLog}`);
  process.exitCode = 1;
} finally {
  server.kill('SIGINT');
}
