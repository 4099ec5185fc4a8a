// The stand-in's sessions, checked the way FusionAuth behaves: token
// lifetimes, refresh tokens used once (OneTimeUse) or again (Reusable), the
// admin API that revokes them or deactivates the user, and the signed webhooks
// that tell the app, received by a local listener this check starts itself.
// Run by check-flow.mjs.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import {
  basicAuth, Browser, CLIENT_ID, DEMO, exchangeCode, login, tokenRequest, tokenResponse,
} from './check-support.mjs';

// The stand-in's defaults, the development values of fusionauth.env and
// src/defaults.rs; check-flow's configuration check holds them equal.
export const API_KEY = 'dev-only-api-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz';
export const SIGNING_SECRET = 'dev-only-webhook-signing-secret-change-me-0123456789';
export const SIGNING_KEY_ID = 'b3a1c9a8-5d1e-4f43-9c36-1f2d3e4a5b6c';
// The lifetime the app's refresh tests use.
export const SHORT_TTL = 10;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REVOKE = 'jwt.refresh-token.revoke';
const DEACTIVATE = 'user.deactivate';

/**
 * Receives the webhooks: `/hook` answers 204, `/fails` 500 (a failing
 * receiver must not stop the others, nor the admin API). Keeps the raw bytes.
 */
export async function startWebhookListener() {
  const received = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
    res.statusCode = req.url === '/fails' ? 500 : 204;
    res.end();
  });
  await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    urls: [`${base}/hook`, `${base}/fails`],
    take: () => received.splice(0),
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Verifies a delivery as a receiver must: the JWT's signature, then its hash against the raw body. */
async function verifiedEvent({ headers, body }) {
  assert.equal(headers['content-type'], 'application/json');
  const jwt = headers['x-fusionauth-signature-jwt'];
  assert.ok(jwt, 'X-FusionAuth-Signature-JWT present');
  const { payload, protectedHeader } = await jwtVerify(jwt, new TextEncoder().encode(SIGNING_SECRET), {
    algorithms: ['HS256'],
  });
  assert.deepEqual(protectedHeader, { alg: 'HS256', typ: 'JWT', kid: SIGNING_KEY_ID });
  assert.deepEqual(Object.keys(payload), ['request_body_sha256'], "FusionAuth's only claim: no iat, no exp");
  assert.equal(payload.request_body_sha256, createHash('sha256').update(body).digest('base64'),
    'request_body_sha256 is the base64 SHA-256 of the raw body');
  const { event } = JSON.parse(body.toString('utf8'));
  assert.match(event.id, UUID);
  assert.ok(Math.abs(Date.now() - event.createInstant) < 10_000, 'createInstant in ms since the epoch');
  assert.equal(event.tenantId, DEMO.tenantId);
  assert.deepEqual(event.info, {});
  return event;
}

/** The events the admin call just sent, in order: each delivered, signed, to both URLs. */
async function takeEvents(listener, types) {
  const received = listener.take();
  const hook = received.filter((r) => r.path === '/hook');
  const fails = received.filter((r) => r.path === '/fails');
  assert.equal(received.length, hook.length + fails.length);
  const events = await Promise.all(hook.map(verifiedEvent));
  assert.deepEqual(events.map((e) => e.type), types, 'events delivered before the admin API answered');
  assert.deepEqual(fails.map((r) => JSON.parse(r.body).event.id).sort(), events.map((e) => e.id).sort(),
    'the same events reached every URL');
  return events;
}

function assertUser(user, { active }) {
  assert.equal(user.id, DEMO.id);
  assert.equal(user.email, DEMO.email);
  assert.equal(user.tenantId, DEMO.tenantId);
  assert.equal(user.active, active);
  assert.ok(!('password' in user), 'no password in the user object');
}

function assertRevokeEvent(event, { single, active = true }) {
  assert.equal(event.userId, DEMO.id);
  assertUser(event.user, { active });
  assert.deepEqual(event.applicationTimeToLiveInSeconds, { [CLIENT_ID]: SHORT_TTL });
  // FusionAuth's JWTRefreshTokenRevokeEvent sets applicationId for one token only.
  if (single) assert.equal(event.applicationId, CLIENT_ID);
  else assert.ok(!('applicationId' in event), 'revoking by user: no applicationId');
}

/** The raw API key in Authorization; `key: null` sends none. */
async function admin(idp, method, path, { key = API_KEY, form } = {}) {
  const headers = key === null ? {} : { Authorization: key };
  if (form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(`${idp.issuer}${path}`, { method, headers, body: form && new URLSearchParams(form) });
  return { status: res.status, text: await res.text() };
}

async function assertAdmin(idp, method, path, status, options) {
  const res = await admin(idp, method, path, options);
  assert.equal(res.status, status, `${method} ${path}`);
  return res;
}

async function assertEmpty(idp, method, path, status, options) {
  const res = await assertAdmin(idp, method, path, status, options);
  assert.equal(res.text, '', `${method} ${path} ${status}: empty body, as FusionAuth`);
}

const refresh = (idp, token) => tokenResponse(idp, { grant_type: 'refresh_token', refresh_token: token });

async function assertRefused(idp, token, why) {
  const { status, json } = await refresh(idp, token);
  assert.equal(status, 400, why);
  assert.equal(json.error, 'invalid_grant', why);
}

async function signIn(idp, browser = new Browser(idp.issuer)) {
  const tokens = await exchangeCode(idp, await login(browser, idp));
  assert.ok(tokens.refresh_token, 'offline_access yields a refresh token');
  return tokens;
}

const userinfoStatus = async (idp, accessToken) => (await fetch(idp.discovery.userinfo_endpoint, {
  headers: { Authorization: `Bearer ${accessToken}` },
})).status;

/** expires_in and the exp of the id_token and (introspected) access token follow IDP_ACCESS_TOKEN_TTL. */
async function checkLifetimes(idp, keySet, ttl) {
  const assertTokens = async (tokens, when) => {
    assert.equal(tokens.expires_in, ttl, `${when}: expires_in`);
    const { payload } = await jwtVerify(tokens.id_token, keySet, { issuer: idp.issuer, audience: CLIENT_ID });
    assert.equal(payload.exp - payload.iat, ttl, `${when}: id_token lifetime`);
    const introspected = await (await fetch(`${idp.issuer}/oauth2/introspect`, {
      method: 'POST',
      headers: { Authorization: basicAuth(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token }),
    })).json();
    assert.equal(introspected.active, true);
    assert.equal(introspected.exp - introspected.iat, ttl, `${when}: access token lifetime`);
  };
  const tokens = await signIn(idp);
  await assertTokens(tokens, 'code');
  await assertTokens(await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 'refresh');
  console.log(`ok IDP_ACCESS_TOKEN_TTL=${ttl}: expires_in, id_token exp and access token exp (introspection) all ${ttl} s, after a refresh too`);
}

/** OneTimeUse: every refresh returns new tokens; the used refresh token is refused, the new one keeps working. */
async function checkRotation(idp, keySet) {
  let tokens = await signIn(idp);
  for (let i = 1; i <= 5; i += 1) {
    const next = await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.ok(next.refresh_token && next.refresh_token !== tokens.refresh_token, `rotation ${i}: a new refresh token`);
    assert.notEqual(next.access_token, tokens.access_token, `rotation ${i}: a new access token`);
    assert.notEqual(next.id_token, tokens.id_token, `rotation ${i}: a new id_token`);
    const { payload } = await jwtVerify(next.id_token, keySet, { issuer: idp.issuer, audience: CLIENT_ID });
    assert.equal(payload.sub, DEMO.id);
    await assertRefused(idp, tokens.refresh_token, `rotation ${i}: the used refresh token is refused`);
    tokens = next;
  }
  assert.equal(await userinfoStatus(idp, tokens.access_token), 200);
  console.log('ok OneTimeUse: 5 refreshes in a row, each a new refresh, access and id token; every used refresh token then 400 invalid_grant, the newest still valid');
  return tokens;
}

async function checkGrantCounts(idp, tokens) {
  await fetch(`${idp.issuer}/__standin/stats/reset`, { method: 'POST' });
  await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  const stats = await (await fetch(`${idp.issuer}/__standin/stats`)).json();
  assert.deepEqual(stats, { app_requests: { '/oauth2/token': 1 }, app_token_grants: { refresh_token: 1 } });
  console.log('ok stats: app_token_grants counts token requests per grant type (exactly one refresh_token)');
}

/** 401 with an empty body and nothing revoked, for a wrong, missing or Bearer-prefixed key. */
async function checkAdminAuthentication(idp, listener) {
  const tokens = await signIn(idp);
  const path = `/api/jwt/refresh?userId=${DEMO.id}`;
  for (const key of ['wrong-key', null, `Bearer ${API_KEY}`]) {
    await assertEmpty(idp, 'DELETE', path, 401, { key });
  }
  await assertEmpty(idp, 'DELETE', `/api/user/${DEMO.id}`, 401, { key: 'wrong-key' });
  await assertEmpty(idp, 'PUT', `/api/user/${DEMO.id}?reactivate=true`, 401, { key: null });
  assert.deepEqual(listener.take(), [], 'no webhook for a refused call');
  await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  console.log('ok admin API: a wrong, missing or "Bearer " key is 401 with an empty body; nothing revoked');
}

/** Revoking by user id: every refresh token refused, one signed event, access tokens left to expire. */
async function checkRevokeByUser(idp, listener) {
  const [a, b] = [await signIn(idp), await signIn(idp)];
  await fetch(`${idp.issuer}/__standin/webhooks/reset`, { method: 'POST' });
  await assertEmpty(idp, 'DELETE', `/api/jwt/refresh?userId=${DEMO.id}`, 200);
  const [event] = await takeEvents(listener, [REVOKE]);
  assertRevokeEvent(event, { single: false });
  await assertRefused(idp, a.refresh_token, 'revoked by user id (first session)');
  await assertRefused(idp, b.refresh_token, 'revoked by user id (second session)');
  // FusionAuth's access tokens are JWTs: they stay valid until they expire.
  assert.equal(await userinfoStatus(idp, a.access_token), 200);

  const [hook, fails] = listener.urls;
  const deliveries = await (await fetch(`${idp.issuer}/__standin/webhooks`)).json();
  assert.deepEqual(deliveries.sort((x, y) => x.url.localeCompare(y.url)), [
    { url: fails, type: REVOKE, eventId: event.id, status: 500, error: 'HTTP 500' },
    { url: hook, type: REVOKE, eventId: event.id, status: 204 },
  ]);
  assert.ok(idp.log.includes(`stand-in webhook: ${REVOKE} to ${fails} failed: HTTP 500`), 'a failed delivery is logged');

  await assertEmpty(idp, 'DELETE', `/api/jwt/refresh?userId=${DEMO.id}`, 200);
  assert.deepEqual(listener.take(), [], 'no refresh token left: no event, as FusionAuth documents');
  await assertEmpty(idp, 'DELETE', '/api/jwt/refresh?userId=00000000-0000-0000-0000-000000000000', 404);
  assert.match((await assertAdmin(idp, 'DELETE', '/api/jwt/refresh', 400)).text, /"generalErrors"/);
  console.log('ok DELETE /api/jwt/refresh?userId: 200 empty, every refresh token then invalid_grant, access tokens left to expire; '
    + 'one jwt.refresh-token.revoke, HS256-signed, request_body_sha256 = base64 SHA-256 of the raw body, sent to every URL before the answer; '
    + 'deliveries listed at /__standin/webhooks, the failing one logged; nothing left: no event; unknown user 404');
}

/** Revoking one token, by query or form body: only that one refused; applicationId in the event. */
async function checkRevokeByToken(idp, listener) {
  const [a, b] = [await signIn(idp), await signIn(idp)];
  await assertEmpty(idp, 'DELETE', `/api/jwt/refresh?token=${encodeURIComponent(a.refresh_token)}`, 200);
  assertRevokeEvent((await takeEvents(listener, [REVOKE]))[0], { single: true });
  await assertRefused(idp, a.refresh_token, 'revoked by token');
  const b2 = await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: b.refresh_token });

  await assertEmpty(idp, 'DELETE', '/api/jwt/refresh', 200, { form: { token: b2.refresh_token } });
  assertRevokeEvent((await takeEvents(listener, [REVOKE]))[0], { single: true });
  await assertRefused(idp, b2.refresh_token, 'revoked by token in a form body');
  await assertEmpty(idp, 'DELETE', `/api/jwt/refresh?token=${encodeURIComponent(b2.refresh_token)}`, 404);
  assert.deepEqual(listener.take(), []);
  assert.ok(!idp.log.includes(a.refresh_token) && !idp.log.includes(b2.refresh_token), 'no token in the log');
  console.log('ok DELETE /api/jwt/refresh?token= (or as a form body): 200 empty, only that token refused, event with applicationId; again 404');
}

/** Deactivation (soft delete): no refresh, no login even with an SSO session, until reactivated. */
async function checkDeactivate(idp, listener) {
  const browser = new Browser(idp.issuer);
  const tokens = await signIn(idp, browser);
  await assertEmpty(idp, 'DELETE', `/api/user/${DEMO.id}`, 200);
  const [deactivated, revoked] = await takeEvents(listener, [DEACTIVATE, REVOKE]);
  assertUser(deactivated.user, { active: false });
  assertRevokeEvent(revoked, { single: false, active: false });
  await assertRefused(idp, tokens.refresh_token, 'deactivated user');
  assert.equal(await userinfoStatus(idp, tokens.access_token), 401, 'userinfo: the account is gone');

  const sso = await login(browser, idp);
  assert.match(sso.failedHtml ?? '', /Invalid login credentials\./, 'SSO session: the form again, the password refused');
  const fresh = await login(new Browser(idp.issuer), idp);
  assert.match(fresh.failedHtml ?? '', /Invalid login credentials\./, 'new login refused');

  const { text } = await assertAdmin(idp, 'PUT', `/api/user/${DEMO.id}?reactivate=true`, 200);
  assertUser(JSON.parse(text).user, { active: true });
  assert.deepEqual(listener.take(), [], 'the webhook has no reactivate event enabled');
  await signIn(idp, browser);
  await assertEmpty(idp, 'DELETE', '/api/user/00000000-0000-0000-0000-000000000000', 404);
  console.log('ok DELETE /api/user/{id}: 200 empty, user.deactivate then jwt.refresh-token.revoke; refresh invalid_grant, userinfo 401, '
    + 'login refused even with an SSO session; PUT /api/user/{id}?reactivate=true: 200 {user}, login works again');
}

/** The copy with IDP_ACCESS_TOKEN_TTL=SHORT_TTL, OneTimeUse and the listener's URLs as WEBHOOK_URLS. */
export async function checkSessions(idp, listener) {
  const keySet = createRemoteJWKSet(new URL(idp.discovery.jwks_uri));
  await checkLifetimes(idp, keySet, SHORT_TTL);
  const tokens = await checkRotation(idp, keySet);
  await checkGrantCounts(idp, tokens);
  await checkAdminAuthentication(idp, listener);
  await checkRevokeByUser(idp, listener);
  await checkRevokeByToken(idp, listener);
  await checkDeactivate(idp, listener);
}

/** Reusable: a refresh returns the same refresh token, which keeps working; the default lifetime. */
export async function checkReusable(idp) {
  const tokens = await signIn(idp);
  assert.equal(tokens.expires_in, 3600, 'IDP_ACCESS_TOKEN_TTL defaults to 3600');
  for (let i = 1; i <= 2; i += 1) {
    const again = await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(again.refresh_token, tokens.refresh_token, `refresh ${i}: the same refresh token`);
    assert.ok(again.access_token && again.id_token);
  }
  console.log('ok [Reusable] a refresh returns the same refresh token, which keeps working; expires_in 3600 by default');
}
