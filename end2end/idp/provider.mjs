// oidc-provider configured to look like FusionAuth to the app: FusionAuth's
// routes, one confidential client, a hosted login page, automatic consent for
// the first-party application, FusionAuth's logout (page or redirect), its
// refresh token policy, and the admin API and webhooks that revoke sessions.
import { generateKeyPair, exportJWK, calculateJwkThumbprint } from 'jose';
import { randomBytes } from 'node:crypto';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

import { CLAIMS_BY_SCOPE, createUsers, TENANT_ID, USER } from './account.mjs';
import { createAdminApi } from './admin.mjs';
import { readForm } from './forms.mjs';
import { createRefreshTokens } from './refresh-tokens.mjs';
import { errorPage, loginPage, logoutPage } from './views.mjs';
import { createIssuedTokenDigests, createStats, createWebhookDeliveries } from './stats.mjs';
import { createWebhooks } from './webhooks.mjs';

const INTERACTION_PREFIX = '/oauth2/interaction/';

// Cookies are per host, not per port: scope the stand-in's cookies to its own
// paths so the app on the same host never receives them.
const COOKIE_OPTIONS = Object.freeze({ httpOnly: true, sameSite: 'lax', path: '/oauth2' });

/** A fresh RS256 signing key for this run (never a checked-in dev key). */
export async function generateSigningKey() {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  return jwk;
}

/** Logs one line per request: method, path (never the query: it holds codes), status. */
async function requestLog(ctx, next) {
  const started = performance.now();
  let status = 500;
  try {
    await next();
    status = ctx.status;
  } catch (err) {
    status = err.status ?? err.statusCode ?? 500;
    throw err;
  } finally {
    const ms = (performance.now() - started).toFixed(1);
    process.stdout.write(`${ctx.method} ${ctx.path} ${status} ${ms}ms\n`);
  }
}

/**
 * oidc-provider keeps `offline_access` only in a request with prompt=consent
 * (OIDC Core 11) and drops it otherwise. FusionAuth issues the refresh token
 * without that: add `consent` server-side; the consent prompt is then approved
 * automatically (first-party application), so the user never sees it.
 */
async function keepOfflineAccess(ctx, next) {
  if (ctx.method === 'GET' && ctx.path === '/oauth2/authorize') {
    const params = new URLSearchParams(ctx.querystring);
    const scopes = (params.get('scope') ?? '').split(' ');
    const prompts = (params.get('prompt') ?? '').split(' ').filter(Boolean);
    if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none')) {
      params.set('prompt', [...prompts, 'consent'].join(' '));
      ctx.querystring = params.toString();
    }
  }
  await next();
}

/** First-party application: every requested scope and claim is granted. */
async function grantEverythingRequested(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) {
    grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
  }
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
  await grant.save();
  return grant;
}

/**
 * oidc-provider's prompts, plus: a signed-in browser whose user was
 * deactivated since must log in again (and then fails, see checkCredentials),
 * instead of being sent straight back with a code for a user that is gone.
 */
function interactionPolicyFor(users) {
  const policy = interactionPolicy.base();
  policy.get('login').checks.add(new interactionPolicy.Check(
    'account_inactive',
    'the End-User has been deactivated',
    'login_required',
    (ctx) => {
      const { accountId } = ctx.oidc.session;
      return Boolean(accountId) && !users.isActive(accountId);
    },
  ));
  return policy;
}

function interactionRoutes(provider, users) {
  const clientName = 'FusionAuth Flask tutorial (Leptos)';

  async function approveConsent(interaction) {
    const { prompt: { details }, params, session, grantId } = interaction;
    const grant = (grantId && await provider.Grant.find(grantId))
      || new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    return { consent: { grantId: await grant.save() } };
  }

  // A consent result must keep the login result of the same authorization
  // request, or prompt=login would ask for the password again.
  async function finish(ctx, result, { merge }) {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  }

  async function handle(ctx, next) {
    const [uid, action, ...rest] = ctx.path.slice(INTERACTION_PREFIX.length).split('/');
    ctx.set('Cache-Control', 'no-store');
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== uid || rest.length) {
      throw new errors.InvalidRequest('interaction does not match');
    }
    const action_ = action ?? '';
    const loginAction = `${INTERACTION_PREFIX}${uid}/login`;

    if (ctx.method === 'GET' && action_ === '') {
      if (interaction.prompt.name === 'consent') return finish(ctx, await approveConsent(interaction), { merge: true });
      ctx.type = 'html';
      ctx.body = loginPage({ action: loginAction, clientName, loginId: interaction.params.login_hint });
      return undefined;
    }
    if (ctx.method === 'POST' && action_ === 'login' && interaction.prompt.name === 'login') {
      const form = await readForm(ctx.req);
      const accountId = users.checkCredentials(form.get('loginId'), form.get('password'));
      if (!accountId) {
        // FusionAuth re-renders its form with 200 and this exact message.
        ctx.type = 'html';
        ctx.body = loginPage({
          action: loginAction, clientName, loginId: form.get('loginId') ?? '', error: 'Invalid login credentials.',
        });
        return undefined;
      }
      return finish(ctx, {
        login: { accountId, remember: form.get('rememberDevice') === 'true', amr: ['pwd'] },
      }, { merge: false });
    }
    return next();
  }

  return async function interactions(ctx, next) {
    if (!ctx.path.startsWith(INTERACTION_PREFIX)) return next();
    try {
      return await handle(ctx, next);
    } catch (err) {
      // Expired or foreign interaction: a readable page, as for the provider's own errors.
      ctx.status = err.statusCode ?? 500;
      ctx.type = 'html';
      ctx.body = errorPage({
        error: err.error ?? 'server_error',
        description: err.expose ? err.error_description ?? err.message : 'Please return to the application and log in again.',
      });
      if (!err.expose) process.stderr.write(`stand-in interaction error: ${err.stack ?? err}\n`);
      return undefined;
    }
  };
}

/**
 * FusionAuth puts at_hash in every id_token; oidc-provider only does so at the
 * authorization endpoint. Set it at the token endpoint too (IdToken#issue
 * hashes the raw value it is given).
 */
function addAtHashAtTokenEndpoint(provider) {
  const { prototype } = provider.IdToken;
  const issue = prototype.issue;
  prototype.issue = function issueWithAtHash(options = {}) {
    const accessToken = this.ctx?.oidc?.entities?.AccessToken;
    if (options.use === 'idtoken' && accessToken?.jti && this.extra.at_hash === undefined) {
      // Opaque access tokens are their own jti.
      this.set('at_hash', accessToken.jti);
    }
    return issue.call(this, options);
  };
}

/**
 * Where FusionAuth's logout sends the browser: the post_logout_redirect_uri
 * (oidc-provider has already checked that it is registered for the client)
 * with the request's `state`, else the application's logoutURL.
 */
function logoutTarget({ postLogoutRedirectUri, state }, logoutUrl) {
  if (!postLogoutRedirectUri) return logoutUrl;
  const url = new URL(postLogoutRedirectUri);
  if (state != null) url.searchParams.set('state', state);
  return url.href;
}

/** Ends the SSO session now: a destroyed session is not saved again (lib/shared/session.js). */
async function endSsoSession(ctx) {
  await ctx.oidc.session.destroy();
  ctx.cookies.set(ctx.oidc.provider.cookieName('session'), null, COOKIE_OPTIONS);
}

/**
 * FusionAuth's GET /oauth2/logout for a signed-in browser. oidc-provider calls
 * this after validating client_id and post_logout_redirect_uri and storing them
 * (and `state`) in the session's state. FusionAuth ends the SSO session at once
 * and revokes nothing, so oidc-provider's confirm step (a form posted back to
 * it, which would also revoke the grants and their refresh tokens) is skipped.
 * Then, as the application's logoutBehavior says: AllApplications shows the
 * "Logging out…" page with every application's logoutURL in an iframe (the
 * stand-in has one application) and a meta refresh to the target;
 * RedirectOnly redirects straight there.
 */
function makeLogoutSource({ logoutBehavior, logoutUrl }) {
  return async function logoutSource(ctx) {
    const target = logoutTarget(ctx.oidc.session.state ?? {}, logoutUrl);
    await endSsoSession(ctx);
    if (logoutBehavior === 'RedirectOnly') {
      ctx.redirect(target); // 302, as FusionAuth
      return;
    }
    ctx.type = 'html';
    ctx.body = logoutPage({ target, frontChannelUrls: [logoutUrl] });
  };
}

export async function buildProvider(config, { signingKey } = {}) {
  const key = signingKey ?? await generateSigningKey();
  // The application's logoutURL, as in the kickstart: APP_URL/logout.
  const logoutUrl = `${config.appUrl}/logout`;
  const users = createUsers(config.clientId);

  const provider = new Provider(config.issuer, {
    clients: [{
      client_id: config.clientId,
      client_secret: config.clientSecret,
      client_name: 'FusionAuth Flask tutorial (Leptos)',
      redirect_uris: [`${config.appUrl}/callback`],
      post_logout_redirect_uris: [logoutUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      require_auth_time: true,
    }],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    responseTypes: ['code'],
    jwks: { keys: [key] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: { session: 'standin.sso', interaction: 'standin.interaction', resume: 'standin.resume' },
      long: COOKIE_OPTIONS,
      // No path here: oidc-provider then scopes each login's interaction cookie
      // to that login's own /oauth2/interaction/<uid> path, so two tabs can log
      // in at once, as with FusionAuth (a shared path made the second tab's
      // login overwrite the first's).
      short: { httpOnly: true, sameSite: 'lax' },
    },
    routes: {
      authorization: '/oauth2/authorize',
      token: '/oauth2/token',
      userinfo: '/oauth2/userinfo',
      end_session: '/oauth2/logout',
      introspection: '/oauth2/introspect',
      jwks: '/.well-known/jwks.json',
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: CLAIMS_BY_SCOPE,
    conformIdTokenClaims: false,
    findAccount: users.findAccount,
    loadExistingGrant: grantEverythingRequested,
    pkce: { required: () => false },
    interactions: {
      policy: interactionPolicyFor(users),
      url: (_ctx, interaction) => `${INTERACTION_PREFIX}${interaction.uid}`,
    },
    // FusionAuth's refreshTokenUsagePolicy: OneTimeUse returns a new refresh
    // token at every refresh (the used one is then deleted, see
    // refresh-tokens.mjs); Reusable returns the same one again.
    rotateRefreshToken: config.refreshTokenPolicy === 'OneTimeUse',
    discovery: {
      frontchannel_logout_supported: true,
      backchannel_logout_supported: false,
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      revocation: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: makeLogoutSource({ logoutBehavior: config.logoutBehavior, logoutUrl }),
        // Without an SSO session oidc-provider skips logoutSource and posts its
        // confirm form by itself; that lands on the post_logout_redirect_uri,
        // or here: FusionAuth falls back to the application's logoutURL.
        async postLogoutSuccessSource(ctx) {
          ctx.status = 303;
          ctx.redirect(logoutUrl);
        },
      },
    },
    ttl: {
      // FusionAuth: both are the application's jwtConfiguration.timeToLiveInSeconds.
      AccessToken: config.accessTokenTtl,
      IdToken: config.accessTokenTtl,
      AuthorizationCode: 60,
      Interaction: 60 * 60,
      Session: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
      RefreshToken: 30 * 24 * 60 * 60, // FusionAuth's default, 43,200 minutes
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage({ error: out.error, description: out.error_description });
    },
  });

  addAtHashAtTokenEndpoint(provider);
  const refreshTokens = createRefreshTokens(provider, { policy: config.refreshTokenPolicy });
  const webhooks = createWebhooks(config.webhook, { tenantId: TENANT_ID });
  provider.use(requestLog);
  provider.use(createStats());
  provider.use(createIssuedTokenDigests(provider));
  provider.use(createWebhookDeliveries(webhooks));
  provider.use(createAdminApi({
    apiKey: config.apiKey,
    accessTokenTtl: config.accessTokenTtl,
    users,
    refreshTokens,
    webhooks,
  }));
  provider.use(keepOfflineAccess);
  provider.use(interactionRoutes(provider, users));
  provider.on('server_error', (_ctx, err) => {
    process.stderr.write(`stand-in server_error: ${err.stack ?? err}\n`);
  });
  return { provider, signingKey: key, user: USER };
}
