// Scaled topology: a revocation at the provider ends the user's sessions on every replica,
// told by FusionAuth's webhook, or else learnt from the refresh the provider refuses.
import { SCALED, SCALED_REFRESH_DUE_SECS } from '../support/env';
import { loginFrom, waitForHydration } from '../support/flows';
import { refreshGrants, revokeRefreshTokens } from '../support/standin';
import {
  WEBHOOK_URL, expectGuestPage, expectProfile, openOnReplica, restoreTopology, revokeUnbeknownToTheApp,
} from '../support/topology';
import { expect, test } from '../support/users';

test.skip(!SCALED, 'needs the scaled topology: E2E_TOPOLOGY=scaled (make e2e-scaled)');
test.afterEach(async () => { await restoreTopology(); });

test('refresh tokens revoked at the provider: the user sees the guest page on the next request, on either replica', async ({ page, request, anotherUser }) => {
  test.setTimeout(60_000);
  const users = [page, await anotherUser()];
  for (const user of users) await loginFrom(user, '/');
  // Both replicas serve both sessions first: one that kept a copy must still end it.
  for (const user of users) {
    for (const n of [1, 2] as const) {
      await openOnReplica(user, n, '/');
      await expectProfile(user);
    }
  }

  const refreshesBefore = await refreshGrants(request);
  const sent = await revokeRefreshTokens(request);
  expect(sent.map((d) => d.url), 'one revocation webhook, to the app').toEqual([WEBHOOK_URL]);
  expect(sent[0].status, `the app took the signed webhook (${sent[0].error ?? 'no error'})`).toBe(200);

  // The next request of each: user 1 on replica 1, user 2 on replica 2.
  expect(await openOnReplica(users[0], 1, '/')).toBe(200);
  await expectGuestPage(users[0]);
  expect(await openOnReplica(users[1], 2, '/')).toBe(200);
  await expectGuestPage(users[1]);
  // And the other way round.
  for (const [user, n] of [[users[0], 2], [users[1], 1]] as const) {
    await openOnReplica(user, n, '/');
    await expectGuestPage(user);
  }
  expect(await refreshGrants(request) - refreshesBefore,
    'the sessions ended on the webhook, not on a refused refresh').toBe(0);
});

test('a refresh the provider refuses (invalid_grant) ends the session, and the guest page says so', async ({ page, request }) => {
  test.setTimeout(60_000);
  await loginFrom(page, '/');
  const tokensIssued = Date.now();

  // With the load balancer down, the revocation webhook cannot reach the app. (The page has
  // loaded everything through it first: no download is cut off.)
  await waitForHydration(page);
  await revokeUnbeknownToTheApp(request);

  // Once the access token falls due, the next request refreshes it: the provider refuses.
  const dueAt = tokensIssued + (SCALED_REFRESH_DUE_SECS + 1) * 1000;
  await page.waitForTimeout(Math.max(0, dueAt - Date.now()));
  const refreshesBefore = await refreshGrants(request);
  expect(await openOnReplica(page, 1, '/')).toBe(200);
  await expectGuestPage(page);
  await expect(page.getByTestId('session-ended')).toBeVisible();
  expect(await refreshGrants(request) - refreshesBefore, 'one refresh, refused').toBe(1);

  // Ended for every replica.
  expect(await openOnReplica(page, 2, '/')).toBe(200);
  await expectGuestPage(page);
});
