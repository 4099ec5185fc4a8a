// Shared by the stand-in's own checks (check-flow.mjs, check-sessions.mjs):
// the app's settings, a cookie-keeping browser, the login and token calls as
// the app makes them, and starting a copy of the stand-in.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const APP_URL = 'http://localhost:3999';
export const CLIENT_ID = 'e9fdb985-9173-4e01-9d73-ac2d60d1dc8e';
export const CLIENT_SECRET = 'change-this-in-production-to-be-a-real-secret';
export const REDIRECT_URI = `${APP_URL}/callback`;
export const APP_UA = 'fusionauth-leptos/check';

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const basicAuth = (secret = CLIENT_SECRET) => `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(secret)}`).toString('base64')}`;
export const unescapeHtml = (s) => s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<')
  .replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** The kickstart's demo user: the stand-in's one user must be the same person. */
function kickstartDemoUser() {
  const path = fileURLToPath(new URL('../../kickstart/kickstart.json', import.meta.url));
  const { variables, requests } = JSON.parse(readFileSync(path, 'utf8'));
  const create = requests.find((r) => r.url === '/api/user/registration/#{demoUserId}');
  assert.ok(create, 'kickstart creates the demo user at /api/user/registration/#{demoUserId}');
  return { id: variables.demoUserId, tenantId: variables.defaultTenantId, applicationId: variables.applicationId, ...create.body.user };
}

export const DEMO = kickstartDemoUser();

/** A browser-ish cookie jar (the stand-in's cookies are all on its own host). */
export class Browser {
  cookies = new Map();

  constructor(issuer) {
    this.issuer = issuer;
  }

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
      if (new URL(location).origin !== this.issuer) return { res, location, left: true };
      res = await this.request(location);
    }
    return { res, location, left: false };
  }
}

export function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

export function authorizeUrl(idp, { challenge, state, nonce, prompt }) {
  const url = new URL(idp.discovery.authorization_endpoint);
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

/** The start tag of the element with this id (fields are found by id, never by text). */
export function tagById(html, id) {
  const match = html.match(new RegExp(`<\\w+\\b[^>]*\\bid="${id}"[^>]*>`));
  assert.ok(match, `element #${id} present`);
  return match[0];
}

export function formAction(html, issuer) {
  const action = tagById(html, 'login-form').match(/\baction="([^"]+)"/);
  assert.ok(action, 'login form has an action');
  return new URL(unescapeHtml(action[1]), issuer).href;
}

/** FusionAuth's login page, by ids and names; its texts only where the stand-in promises them. */
export function assertLoginForm(html) {
  assert.match(tagById(html, 'login-form'), /method="post"/);
  const loginId = tagById(html, 'loginId');
  assert.match(loginId, /^<input\b/);
  assert.match(loginId, /\bname="loginId"/);
  const password = tagById(html, 'password');
  assert.match(password, /^<input\b[^>]*\bname="password"/);
  assert.match(password, /\btype="password"/);
  assert.match(tagById(html, 'rememberDevice'), /^<input\b[^>]*\bname="rememberDevice"[^>]*\btype="checkbox"/);
  assert.match(html, /id="rememberDevice"[^>]*> Keep me signed in/);
  assert.match(html, /<button id="submit-button" type="submit">Submit<\/button>/);
  // The texts FusionAuth 1.64 and later show (the stand-in's own promise;
  // tests of the app never rely on them).
  assert.match(html, /<title>Login<\/title>/);
  assert.match(loginId, /\bplaceholder="Login"/);
}

/** A token endpoint call as the app makes it; `auth` is basic or post. */
export async function tokenResponse(idp, body, { auth = 'basic', secret = CLIENT_SECRET } = {}) {
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': APP_UA };
  const params = new URLSearchParams(body);
  if (auth === 'basic') headers.Authorization = basicAuth(secret);
  else { params.set('client_id', CLIENT_ID); params.set('client_secret', secret); }
  idp.appRequests += 1;
  idp.appGrants[body.grant_type] = (idp.appGrants[body.grant_type] ?? 0) + 1;
  const res = await fetch(idp.discovery.token_endpoint, { method: 'POST', headers, body: params });
  return { status: res.status, json: await res.json() };
}

export async function tokenRequest(idp, body, options) {
  const { status, json } = await tokenResponse(idp, body, options);
  assert.equal(status, 200, `token endpoint: ${JSON.stringify(json)}`);
  return json;
}

export async function exchangeCode(idp, login, options) {
  return tokenRequest(idp, {
    grant_type: 'authorization_code', code: login.code, redirect_uri: REDIRECT_URI, code_verifier: login.verifier,
  }, options);
}

export async function login(browser, idp, { password = DEMO.password, prompt } = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const started = performance.now();
  const first = await browser.navigate(authorizeUrl(idp, { challenge, state, nonce, prompt }));
  let callback = first;
  let shownLoginForm = false;
  if (!first.left) {
    const html = await first.res.text();
    assert.equal(first.res.status, 200);
    assertLoginForm(html);
    shownLoginForm = true;
    callback = await browser.navigate(formAction(html, idp.issuer), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ loginId: DEMO.email, password }),
    });
    if (!callback.left) return { failedHtml: await callback.res.text(), status: callback.res.status };
  }
  const ms = performance.now() - started;
  const url = new URL(callback.location);
  assert.equal(`${url.origin}${url.pathname}`, REDIRECT_URI, 'redirected to the registered redirect_uri');
  assert.equal(url.searchParams.get('state'), state, 'state echoed');
  assert.equal(url.searchParams.get('iss'), idp.issuer, 'RFC 9207 iss');
  const code = url.searchParams.get('code');
  assert.ok(code, 'code present');
  return { code, verifier, nonce, shownLoginForm, ms };
}

export async function waitForDiscovery(issuer) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (res.ok) return res.json();
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`stand-in at ${issuer} did not start`);
}

// The stand-in's own settings (config.mjs): a copy never inherits one from
// the caller's environment, so each check sees the defaults it expects.
const STANDIN_SETTING = /^(IDP_|ISSUER$|CLIENT_(ID|SECRET)$|APP_URL$|FUSIONAUTH_API_KEY$|WEBHOOK_)/;

const callerEnvironment = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !STANDIN_SETTING.test(name)));

/** Starts one copy of the stand-in; its output is kept for a failure report. */
export function startStandin(port, env = {}) {
  const issuer = `http://localhost:${port}`;
  const child = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], {
    env: { ...callerEnvironment(), IDP_PORT: String(port), ISSUER: issuer, APP_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const standin = { issuer, child, log: '', appRequests: 0, appGrants: {}, discovery: undefined };
  child.stdout.on('data', (d) => { standin.log += d; });
  child.stderr.on('data', (d) => { standin.log += d; });
  return standin;
}
