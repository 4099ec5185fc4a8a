// The stand-in's sessions, checked the way FusionAuth behaves: token
// lifetimes, refresh tokens used once (OneTimeUse) or again (Reusable).
// Run by check-flow.mjs.
import { strict as assert } from 'node:assert';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import {
  basicAuth, Browser, CLIENT_ID, DEMO, exchangeCode, login, tokenRequest, tokenResponse,
} from './check-support.mjs';

// The lifetime the app's refresh tests use.
export const SHORT_TTL = 10;

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

/** The copy with IDP_ACCESS_TOKEN_TTL=SHORT_TTL and OneTimeUse. */
export async function checkSessions(idp) {
  const keySet = createRemoteJWKSet(new URL(idp.discovery.jwks_uri));
  await checkLifetimes(idp, keySet, SHORT_TTL);
  const tokens = await checkRotation(idp, keySet);
  await checkGrantCounts(idp, tokens);
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
