// The stand-in provider's FusionAuth admin API and its test-support records (end2end/idp/):
// what the specs use to revoke a user's refresh tokens and to see what the app was told or asked.
import { expect, type APIRequestContext } from '@playwright/test';

import { FUSIONAUTH_API_KEY, ISSUER, USER } from './env';

/** One webhook the stand-in sent (`GET /__standin/webhooks`). */
export interface WebhookDelivery {
  url: string;
  type: string;
  eventId: string;
  /** The receiver's HTTP status; null when it could not be reached. */
  status: number | null;
  error?: string;
}

export async function webhookDeliveries(request: APIRequestContext): Promise<WebhookDelivery[]> {
  const response = await request.get(`${ISSUER}/__standin/webhooks`);
  expect(response.status(), 'GET /__standin/webhooks').toBe(200);
  return await response.json() as WebhookDelivery[];
}

/** How many refresh_token grants the app has asked the stand-in for (refused ones included). */
export async function refreshGrants(request: APIRequestContext): Promise<number> {
  const response = await request.get(`${ISSUER}/__standin/stats`);
  expect(response.status(), 'GET /__standin/stats').toBe(200);
  const stats = await response.json() as { app_token_grants?: Record<string, number> };
  expect(stats.app_token_grants, 'the stand-in counts token grants').toBeDefined();
  return stats.app_token_grants?.refresh_token ?? 0;
}

/**
 * FusionAuth's `DELETE /api/jwt/refresh?userId=`: revokes every refresh token of the user. The
 * stand-in sends its `jwt.refresh-token.revoke` webhook before it answers; returns those sent.
 */
export async function revokeRefreshTokens(request: APIRequestContext, userId: string = USER.sub) {
  const before = (await webhookDeliveries(request)).length;
  const response = await request.delete(`${ISSUER}/api/jwt/refresh?userId=${encodeURIComponent(userId)}`, {
    headers: { Authorization: FUSIONAUTH_API_KEY },
  });
  expect(response.status(), 'DELETE /api/jwt/refresh answers 200').toBe(200);
  return (await webhookDeliveries(request)).slice(before).filter((d) => d.type === 'jwt.refresh-token.revoke');
}
