#!/usr/bin/env node
// Standalone check of the stand-in: starts two copies on spare ports (one per
// FusionAuth logoutBehavior, and per refresh token policy), then walks
// discovery, JWKS, a full authorization-code + PKCE login, tokens, refresh and
// logout the way the app and a browser would, verifying the id_token
// signature with the JWKS and the user against the kickstart's demo user;
// then the sessions (check-sessions.mjs): lifetimes, rotation, revocation,
// deactivation and the webhooks.
// Exits non-zero on the first broken expectation.  Usage: npm run idp:check
import { createHash } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import {
  APP_URL, assertLoginForm, authorizeUrl, b64url, Browser, CLIENT_ID, DEMO, exchangeCode, login, pkce,
  startStandin, tokenRequest, tokenResponse, unescapeHtml, waitForDiscovery,
} from './check-support.mjs';
import {
  API_KEY, checkReusable, checkSessions, SHORT_TTL, SIGNING_KEY_ID, SIGNING_SECRET, startWebhookListener,
} from './check-sessions.mjs';
import { loadConfig } from './config.mjs';

const PORT = Number(process.env.CHECK_IDP_PORT ?? 9811);
// The second copy runs with IDP_LOGOUT_BEHAVIOR=RedirectOnly and IDP_REFRESH_TOKEN_POLICY=Reusable.
const REDIRECT_ONLY_PORT = PORT + 1;
// The application's logoutURL and the post_logout_redirect_uri the app sends.
const APP_LOGOUT_URL = `${APP_URL}/logout`;
const SESSION_COOKIE = 'standin.sso';

function logoutUrl(idp, { postLogoutRedirectUri, state }) {
  const url = new URL(idp.discovery.end_session_endpoint);
  url.searchParams.set('client_id', CLIENT_ID);
  if (postLogoutRedirectUri) url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
  if (state) url.searchParams.set('state', state);
  return url.href;
}

/** The logout response cleared the SSO cookie on the path it was set for. */
function assertSessionCookieCleared(res, browser) {
  const line = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(line, 'logout clears the SSO session cookie');
  assert.match(line, /expires=Thu, 01 Jan 1970/i);
  assert.match(line, /path=\/oauth2/i, 'cleared on the path it was set for');
  assert.ok(!browser.cookies.has(SESSION_COOKIE));
}

/** AllApplications: "Logging out…", the app's logoutURL in an iframe, a 2 s meta refresh, no script. */
function followLogoutPage(res, html) {
  assert.equal(res.status, 200);
  assert.match(html, /Logging out…/);
  const iframes = [...html.matchAll(/<iframe\b[^>]*\bsrc="([^"]*)"/g)].map((m) => unescapeHtml(m[1]));
  assert.deepEqual(iframes, [APP_LOGOUT_URL], 'one front-channel iframe per application: its logoutURL');
  assert.doesNotMatch(html, /<script\b/i, 'the page needs no JavaScript');
  const meta = html.match(/<meta http-equiv="refresh" content="([^"]*)">/i);
  assert.ok(meta, 'meta refresh present');
  const refresh = unescapeHtml(meta[1]).match(/^(\d+(?:\.\d+)?);\s*url=(.+)$/i);
  assert.ok(refresh, `meta refresh "${meta[1]}" names a URL`);
  assert.equal(Number(refresh[1]), 2, 'refresh after 2 s, as FusionAuth');
  return refresh[2];
}

/** RedirectOnly: a plain 302 to the target, no logout page. */
function followLogoutRedirect(res, html, issuer) {
  assert.equal(res.status, 302);
  assert.doesNotMatch(html, /Logging out|<iframe\b/);
  return new URL(res.headers.get('location'), issuer).href;
}

/** Without an SSO session oidc-provider posts its own confirm form (a script submits it). */
async function followConfirmForm(browser, res, html) {
  assert.equal(res.status, 200);
  const action = html.match(/<form method="post" action="([^"]+)">/);
  assert.ok(action, 'confirm form present');
  const inputs = new URLSearchParams([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)]
    .map((m) => [m[1], unescapeHtml(m[2])]));
  assert.ok(inputs.get('xsrf') && inputs.get('logout') === 'yes', 'confirm form carries xsrf and logout=yes');
  const done = await browser.navigate(new URL(unescapeHtml(action[1]), browser.issuer).href, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: inputs,
  });
  assert.ok(done.left, 'logout leaves the provider');
  return done.location;
}

/**
 * GET /oauth2/logout as the app sends it; `shape` is what the stand-in must
 * answer: 'page' (AllApplications), 'redirect' (RedirectOnly) or 'form' (no
 * SSO session). Returns the URL the browser ends up on.
 */
async function logout(browser, idp, { shape, postLogoutRedirectUri, state } = {}) {
  const res = await browser.request(logoutUrl(idp, { postLogoutRedirectUri, state }));
  const html = await res.text();
  if (shape === 'form') return followConfirmForm(browser, res, html);
  assertSessionCookieCleared(res, browser);
  return shape === 'page' ? followLogoutPage(res, html) : followLogoutRedirect(res, html, idp.issuer);
}

/** The SSO session is gone on the server, not only from the browser: its old cookie no longer signs in. */
async function assertSessionEnded(idp, cookiesBeforeLogout) {
  const replay = new Browser(idp.issuer);
  replay.cookies = new Map(cookiesBeforeLogout);
  const { res } = await replay.navigate(authorizeUrl(idp, { ...pkce(), state: 'replay', nonce: 'replay' }));
  assert.equal(res.status, 200, 'the old SSO cookie leads to the login form');
  assertLoginForm(await res.text());
}


/** Configuration checks that need no server. */
function checkConfig() {
  const upper = loadConfig({ CLIENT_ID: CLIENT_ID.toUpperCase() });
  assert.equal(upper.clientId, CLIENT_ID, 'a UUID CLIENT_ID is kept in lower case');
  assert.equal(loadConfig({ CLIENT_ID: 'My-Client' }).clientId, 'My-Client', 'other client ids are kept as they are');
  assert.equal(loadConfig({}).logoutBehavior, 'AllApplications', 'FusionAuth default');
  assert.equal(loadConfig({ IDP_LOGOUT_BEHAVIOR: 'RedirectOnly' }).logoutBehavior, 'RedirectOnly');
  assert.throws(() => loadConfig({ IDP_LOGOUT_BEHAVIOR: 'redirectonly' }),
    /IDP_LOGOUT_BEHAVIOR="redirectonly" must be one of AllApplications, RedirectOnly/);
  console.log('ok config: UUID CLIENT_ID lower-cased; IDP_LOGOUT_BEHAVIOR defaults to AllApplications, rejects others');

  const defaults = loadConfig({});
  assert.equal(defaults.accessTokenTtl, 3600);
  assert.equal(defaults.refreshTokenPolicy, 'OneTimeUse');
  assert.equal(loadConfig({ IDP_REFRESH_TOKEN_POLICY: 'Reusable' }).refreshTokenPolicy, 'Reusable');
  assert.throws(() => loadConfig({ IDP_REFRESH_TOKEN_POLICY: 'onetimeuse' }),
    /IDP_REFRESH_TOKEN_POLICY="onetimeuse" must be one of OneTimeUse, Reusable/);
  assert.deepEqual(defaults.webhook, {
    urls: ['http://localhost:3000/webhooks/fusionauth'], signingSecret: SIGNING_SECRET, signingKeyId: SIGNING_KEY_ID,
  });
  assert.equal(defaults.apiKey, API_KEY);
  assert.deepEqual(loadConfig({ APP_URL: 'http://app.test:8080/' }).webhook.urls, ['http://app.test:8080/webhooks/fusionauth']);
  assert.deepEqual(loadConfig({ WEBHOOK_URLS: ' http://a.test/x, ,http://b.test/y ' }).webhook.urls,
    ['http://a.test/x', 'http://b.test/y']);
  assert.deepEqual(loadConfig({ WEBHOOK_URLS: '' }).webhook.urls, [], 'set but empty: no webhook');
  assert.throws(() => loadConfig({ WEBHOOK_URLS: 'ftp://x.test' }), /WEBHOOK_URLS="ftp:\/\/x.test" must be an http/);
  assert.throws(() => loadConfig({ FUSIONAUTH_API_KEY: '' }), (err) => err.message === 'stand-in: FUSIONAUTH_API_KEY must not be empty');
  console.log('ok config: IDP_REFRESH_TOKEN_POLICY defaults to OneTimeUse; WEBHOOK_URLS defaults to APP_URL/webhooks/fusionauth, '
    + 'empty means none; the API key and webhook signing key default to the development values');
}

async function checkDiscoveryAndJwks(idp) {
  const { discovery, issuer } = idp;
  assert.equal(discovery.issuer, issuer, 'issuer is exact');
  for (const [key, path] of Object.entries({
    authorization_endpoint: '/oauth2/authorize', token_endpoint: '/oauth2/token',
    userinfo_endpoint: '/oauth2/userinfo', end_session_endpoint: '/oauth2/logout', jwks_uri: '/.well-known/jwks.json',
  })) assert.equal(discovery[key], `${issuer}${path}`, key);
  assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  for (const method of ['client_secret_basic', 'client_secret_post']) {
    assert.ok(discovery.token_endpoint_auth_methods_supported.includes(method), `discovery lists ${method}`);
  }
  // FusionAuth 1.69 (RFC 9207): the app then refuses a callback without `iss`.
  assert.equal(discovery.authorization_response_iss_parameter_supported, true, 'discovery promises iss (RFC 9207)');
  console.log('ok discovery');

  const jwks = await (await fetch(discovery.jwks_uri)).json();
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].alg, 'RS256');
  assert.ok(jwks.keys[0].kid && !jwks.keys[0].d, 'public key with a kid');
  console.log('ok jwks');
  return jwks;
}

/** The id_token's signature, and the kickstart's demo user in its claims. */
async function checkIdToken(idp, tokens, jwks, nonce) {
  const keySet = createRemoteJWKSet(new URL(idp.discovery.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(tokens.id_token, keySet, {
    issuer: idp.issuer, audience: CLIENT_ID, algorithms: ['RS256'],
  });
  assert.equal(protectedHeader.kid, jwks.keys[0].kid);
  assert.equal(payload.nonce, nonce);
  assert.equal(payload.sub, DEMO.id, 'sub is the kickstart demo user id (variables.demoUserId)');
  assert.equal(payload.tid, DEMO.tenantId, 'tid is the kickstart tenant (variables.defaultTenantId)');
  assert.equal(payload.email, DEMO.email);
  assert.equal(payload.email_verified, true);
  assert.equal(payload.name, DEMO.fullName);
  assert.equal(payload.given_name, DEMO.firstName);
  assert.equal(payload.family_name, DEMO.lastName);
  assert.equal(payload.authenticationType, 'PASSWORD');
  assert.ok(!('preferred_username' in payload), 'no preferred_username: the demo user has no username');
  assert.ok(payload.sid && payload.at_hash && payload.auth_time, `sid at_hash auth_time in ${JSON.stringify(Object.keys(payload))}`);
  const atDigest = createHash('sha256').update(tokens.access_token).digest();
  assert.equal(payload.at_hash, b64url(atDigest.subarray(0, 16)), 'at_hash matches the access token');
  assert.equal(payload.roles, undefined, 'roles only in userinfo/access token');
  return payload;
}

/**
 * Both client authentication methods FusionAuth accepts, and a wrong secret
 * refused by each. Returns the refresh token to use next (OneTimeUse rotates it).
 */
async function checkClientAuthentication(idp, refreshToken) {
  let current = refreshToken;
  for (const auth of ['basic', 'post']) {
    const wrong = await tokenResponse(idp, { grant_type: 'refresh_token', refresh_token: current }, { auth, secret: 'wrong' });
    assert.equal(wrong.status, 401, `client_secret_${auth} with a wrong secret`);
    assert.equal(wrong.json.error, 'invalid_client');
    const refreshed = await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: current }, { auth });
    assert.ok(refreshed.access_token && refreshed.id_token, `client_secret_${auth}: refresh grant issues new tokens`);
    current = refreshed.refresh_token;
  }
  console.log('ok client_secret_basic and client_secret_post both accepted (refresh grant), a wrong secret refused by each');
  return current;
}

/** The AllApplications copy: the whole flow, logout with its page. */
async function checkAllApplications(idp) {
  const jwks = await checkDiscoveryAndJwks(idp);
  await fetch(`${idp.issuer}/__standin/stats/reset`, { method: 'POST' });
  const browser = new Browser(idp.issuer);

  const wrong = await login(browser, idp, { password: 'wrong' });
  assert.equal(wrong.status, 200);
  assert.match(wrong.failedHtml, /Invalid login credentials\./);
  assertLoginForm(wrong.failedHtml);
  console.log('ok wrong password re-renders the form (200, "Invalid login credentials.")');

  const first = await login(browser, idp);
  assert.ok(first.shownLoginForm);
  console.log(`ok login form (found by id) -> code in ${first.ms.toFixed(0)} ms`);
  const tokens = await exchangeCode(idp, first);
  for (const field of ['access_token', 'id_token', 'refresh_token', 'expires_in', 'token_type']) {
    assert.ok(tokens[field], `token response has ${field}`);
  }
  const payload = await checkIdToken(idp, tokens, jwks, first.nonce);
  console.log(`ok id_token verifies with the JWKS; the kickstart's demo user; claims: ${Object.keys(payload).sort().join(' ')}`);

  const userinfo = await (await fetch(idp.discovery.userinfo_endpoint, {
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  })).json();
  assert.equal(userinfo.sub, DEMO.id);
  assert.equal(userinfo.email, DEMO.email);
  assert.equal(userinfo.applicationId, CLIENT_ID);
  assert.equal(userinfo.applicationId, DEMO.applicationId, 'the kickstart application');
  assert.ok(!('preferred_username' in userinfo), 'no preferred_username in userinfo either');
  console.log('ok userinfo');

  const refreshToken = await checkClientAuthentication(idp, tokens.refresh_token);

  const again = await login(browser, idp);
  assert.equal(again.shownLoginForm, false, 'signed-in user is redirected straight back');
  const postTokens = await exchangeCode(idp, again, { auth: 'post' });
  assert.ok(postTokens.refresh_token, 'client_secret_post accepted for the code, refresh token issued');
  console.log('ok SSO: second authorize skips the form; code exchanged with client_secret_post');

  const reauth = await login(browser, idp, { prompt: 'login' });
  assert.ok(reauth.shownLoginForm, 'prompt=login shows the form');
  const reauthTokens = await exchangeCode(idp, reauth);
  assert.ok(reauthTokens.refresh_token, 'offline_access kept with prompt=login');
  console.log('ok prompt=login keeps offline_access');

  const cookiesBeforeLogout = new Map(browser.cookies);
  const landed = await logout(browser, idp, { shape: 'page', postLogoutRedirectUri: APP_LOGOUT_URL, state: 'st a&te' });
  assert.equal(landed, `${APP_LOGOUT_URL}?state=st+a%26te`, 'meta refresh to post_logout_redirect_uri with state');
  await assertSessionEnded(idp, cookiesBeforeLogout);
  const afterLogout = await login(browser, idp);
  assert.ok(afterLogout.shownLoginForm, 'login form shown again after logout');
  console.log('ok logout page: "Logging out…", iframe APP_URL/logout, 2 s refresh to post_logout_redirect_uri + state; SSO session ended');

  const kept = await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: refreshToken });
  assert.ok(kept.access_token, 'a refresh token from before the logout still works');
  console.log('ok logout revokes nothing: a refresh token issued before it still works');

  const landed2 = await logout(browser, idp, { shape: 'page' });
  assert.equal(landed2, APP_LOGOUT_URL, 'no post_logout_redirect_uri -> the application logoutURL');
  console.log('ok logout without post_logout_redirect_uri refreshes to APP_URL/logout');

  const unregistered = await new Browser(idp.issuer).request(logoutUrl(idp, { postLogoutRedirectUri: 'http://localhost:3999/elsewhere' }));
  assert.equal(unregistered.status, 400, 'an unregistered post_logout_redirect_uri is refused');
  assert.equal(unregistered.headers.get('location'), null);
  console.log('ok unregistered post_logout_redirect_uri refused (400, no redirect)');

  const signedOut = new Browser(idp.issuer);
  assert.equal(await logout(signedOut, idp, { shape: 'form', postLogoutRedirectUri: APP_LOGOUT_URL, state: 's1' }),
    `${APP_LOGOUT_URL}?state=s1`);
  assert.equal(await logout(signedOut, idp, { shape: 'form' }), APP_LOGOUT_URL);
  console.log('ok logout without an SSO session still lands on post_logout_redirect_uri + state, else APP_URL/logout');

  const stats = await (await fetch(`${idp.issuer}/__standin/stats`)).json();
  assert.deepEqual(stats, { app_requests: { '/oauth2/token': idp.appRequests }, app_token_grants: idp.appGrants });
  await fetch(`${idp.issuer}/__standin/stats/reset`, { method: 'POST' });
  assert.deepEqual(await (await fetch(`${idp.issuer}/__standin/stats`)).json(), { app_requests: {}, app_token_grants: {} });
  console.log('ok stats count only app requests, reset zeroes them');

  const issued = await (await fetch(`${idp.issuer}/__standin/issued-token-digests`)).json();
  const digestOf = (v) => createHash('sha256').update(v).digest('hex');
  assert.ok(issued.digests.includes(digestOf(tokens.access_token)), 'access token digest listed');
  assert.ok(issued.digests.includes(digestOf(tokens.refresh_token)), 'refresh token digest listed');
  assert.equal(tokens.access_token.length, issued.token_length);
  console.log('ok issued-token digests list the access and refresh tokens');
}

/**
 * The RedirectOnly copy, configured with an upper-case CLIENT_ID: requests
 * with the lower-case client_id work; logout is a plain 302.
 */
async function checkRedirectOnly(idp) {
  const browser = new Browser(idp.issuer);
  const first = await login(browser, idp);
  assert.ok(first.shownLoginForm);
  const tokens = await exchangeCode(idp, first);
  assert.ok(tokens.refresh_token);
  console.log('ok [RedirectOnly, CLIENT_ID in upper case] login and token call with the lower-case client_id');

  const landed = await logout(browser, idp, { shape: 'redirect', postLogoutRedirectUri: APP_LOGOUT_URL, state: 'xyz' });
  assert.equal(landed, `${APP_LOGOUT_URL}?state=xyz`);
  const afterLogout = await login(browser, idp);
  assert.ok(afterLogout.shownLoginForm, 'login form shown again after logout');
  await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(await logout(browser, idp, { shape: 'redirect' }), APP_LOGOUT_URL);
  console.log('ok [RedirectOnly] logout is a 302 to post_logout_redirect_uri + state, else APP_URL/logout; session ended, nothing revoked');
}


const webhookListener = await startWebhookListener();
const allApplications = startStandin(PORT, {
  IDP_ACCESS_TOKEN_TTL: String(SHORT_TTL), WEBHOOK_URLS: webhookListener.urls.join(','),
});
const redirectOnly = startStandin(REDIRECT_ONLY_PORT, {
  IDP_LOGOUT_BEHAVIOR: 'RedirectOnly', CLIENT_ID: CLIENT_ID.toUpperCase(), IDP_REFRESH_TOKEN_POLICY: 'Reusable',
});

try {
  checkConfig();
  allApplications.discovery = await waitForDiscovery(allApplications.issuer);
  await checkAllApplications(allApplications);
  await checkSessions(allApplications, webhookListener);
  redirectOnly.discovery = await waitForDiscovery(redirectOnly.issuer);
  await checkRedirectOnly(redirectOnly);
  await checkReusable(redirectOnly);
  console.log('stand-in check: all passed');
} catch (err) {
  console.error(`stand-in check FAILED: ${err.stack}`);
  for (const { issuer, log } of [allApplications, redirectOnly]) {
    console.error(`--- stand-in output (${issuer}) ---\n${log}`);
  }
  process.exitCode = 1;
} finally {
  allApplications.child.kill('SIGINT');
  redirectOnly.child.kill('SIGINT');
  webhookListener.close();
}
