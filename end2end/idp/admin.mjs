// The part of FusionAuth's admin REST API that ends sessions, authenticated
// with the raw API key in `Authorization` (no "Bearer"):
//   DELETE /api/jwt/refresh?userId=…      every refresh token of the user
//   DELETE /api/jwt/refresh?token=…       one refresh token (also as a form body)
//   DELETE /api/user/{id}                 deactivate (FusionAuth's soft delete)
//   PUT    /api/user/{id}?reactivate=true reactivate
// As in FusionAuth, 401 and 404 have empty bodies, a DELETE answers 200 with
// none, and the webhooks are sent before the response.
import { createHash, timingSafeEqual } from 'node:crypto';

import { readForm } from './forms.mjs';

const API_PREFIX = '/api/';
const USER_PATH = /^\/api\/user\/([^/]+)$/;

function digest(value) {
  return createHash('sha256').update(String(value)).digest();
}

function empty(ctx, status) {
  ctx.body = null; // before the status, or Koa turns a bodiless 200 into 204
  ctx.status = status;
}

/** FusionAuth's 400: an Errors object. The codes are the stand-in's, FusionAuth's may differ. */
function badRequest(ctx, code, message) {
  ctx.status = 400;
  ctx.body = { generalErrors: [{ code, message }] };
}

export function createAdminApi({ apiKey, accessTokenTtl, users, refreshTokens, webhooks }) {
  const keyDigest = digest(apiKey);

  /** FusionAuth's jwt.refresh-token.revoke for what was revoked (JWTRefreshTokenRevokeEvent). */
  function revokeEvent(userId, clientIds, { single }) {
    const ttls = Object.fromEntries(clientIds.map((id) => [id, accessTokenTtl]));
    return webhooks.send('jwt.refresh-token.revoke', {
      // Set only when one token was revoked; revoking by user names the
      // applications in applicationTimeToLiveInSeconds alone.
      ...(single ? { applicationId: clientIds[0] } : {}),
      applicationTimeToLiveInSeconds: ttls,
      user: users.fusionAuthUser(),
      userId,
    });
  }

  /** Every refresh token of the user; the event only if there was one, as FusionAuth documents. */
  async function revokeForUser(userId) {
    const clientIds = await refreshTokens.revokeForUser(userId);
    if (clientIds.length) await revokeEvent(userId, [...new Set(clientIds)], { single: false });
  }

  async function revokeRefreshTokens(ctx) {
    const params = new URLSearchParams(ctx.querystring);
    if (ctx.is('application/x-www-form-urlencoded')) {
      for (const [name, value] of await readForm(ctx.req)) params.set(name, value);
    }
    const userId = params.get('userId');
    const token = params.get('token');
    if (userId && !token && !params.has('applicationId')) {
      if (!users.exists(userId)) return empty(ctx, 404);
      await revokeForUser(userId);
      return empty(ctx, 200);
    }
    if (token && !userId && !params.has('applicationId')) {
      const revoked = await refreshTokens.revokeToken(token);
      if (!revoked) return empty(ctx, 404);
      await revokeEvent(revoked.userId, [revoked.clientId], { single: true });
      return empty(ctx, 200);
    }
    return badRequest(ctx, '[standin]parameters', 'The stand-in revokes by userId or by token (one of them).');
  }

  async function deactivate(ctx, userId) {
    if (ctx.query.hardDelete === 'true') {
      return badRequest(ctx, '[standin]hardDelete', 'The stand-in only deactivates (soft delete) its one user.');
    }
    users.setActive(false);
    await webhooks.send('user.deactivate', { user: users.fusionAuthUser() });
    // A deactivated user's refresh tokens are revoked too, with their own event.
    await revokeForUser(userId);
    return empty(ctx, 200);
  }

  function reactivate(ctx) {
    if (ctx.query.reactivate !== 'true') {
      return badRequest(ctx, '[standin]reactivate', 'The stand-in only supports PUT /api/user/{userId}?reactivate=true.');
    }
    users.setActive(true);
    ctx.status = 200;
    ctx.body = { user: users.fusionAuthUser() };
    return undefined;
  }

  async function route(ctx) {
    if (ctx.path === '/api/jwt/refresh' && ctx.method === 'DELETE') return revokeRefreshTokens(ctx);
    const userId = ctx.path.match(USER_PATH)?.[1];
    if (userId && ['DELETE', 'PUT'].includes(ctx.method)) {
      if (!users.exists(userId)) return empty(ctx, 404);
      return ctx.method === 'DELETE' ? deactivate(ctx, userId) : reactivate(ctx);
    }
    return empty(ctx, 404);
  }

  return async function adminApi(ctx, next) {
    if (!ctx.path.startsWith(API_PREFIX)) return next();
    ctx.set('Cache-Control', 'no-store');
    if (!timingSafeEqual(digest(ctx.get('Authorization')), keyDigest)) return empty(ctx, 401);
    try {
      return await route(ctx);
    } catch (err) {
      // A form body too large: FusionAuth's JSON 400, not oidc-provider's HTML error page.
      if (err.statusCode !== 400) throw err;
      return badRequest(ctx, '[standin]body', err.error_description ?? err.message);
    }
  };
}
