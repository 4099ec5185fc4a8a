// Scaled topology: refresh tokens are used once (the stand-in rotates them, as FusionAuth's
// OneTimeUse policy does), so of many requests that find the access token due, on any
// replica, exactly one may refresh it: the others wait for that refresh and use its result.
import { SCALED, SCALED_REFRESH_DUE_SECS, USER } from '../support/env';
import { expect, test } from '../support/fixtures';
import { loginFrom } from '../support/flows';
import { refreshGrants } from '../support/standin';
import { expectProfile, replicaUrl, type Replica } from '../support/topology';

test.skip(!SCALED, 'needs the scaled topology: E2E_TOPOLOGY=scaled (make e2e-scaled)');

test('an access token that falls due is refreshed once, whichever replicas the concurrent requests reach', async ({ page, context, request }) => {
  test.setTimeout(60_000);
  await loginFrom(page, '/');
  const tokensIssued = Date.now();
  const dueAt = tokensIssued + (SCALED_REFRESH_DUE_SECS + 1) * 1000;
  await page.waitForTimeout(Math.max(0, dueAt - Date.now()));

  const before = await refreshGrants(request);
  // 50 at once, alternating between the replicas (as the scenario asks).
  const replicas: Replica[] = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : 2));
  const pages = await Promise.all(replicas.map(async (n) => {
    const response = await context.request.get(replicaUrl(n, '/profile'), { maxRedirects: 0 });
    return { n, status: response.status(), html: await response.text() };
  }));
  for (const { n, status, html } of pages) {
    expect(status, `/profile on replica ${n}`).toBe(200);
    const text = html.replace(/<[^>]*>/g, '');
    expect(text, `/profile on replica ${n} shows the user`).toContain(`You are logged in as ${USER.email}`);
  }
  // (Polled: a replica may finish its refresh just after it answered.)
  await expect.poll(async () => await refreshGrants(request) - before, { timeout: 5_000 }).toBeGreaterThan(0);
  expect(await refreshGrants(request) - before, 'refresh_token grants for 50 concurrent requests').toBe(1);

  // The session goes on with the new tokens.
  await page.goto('/');
  await expectProfile(page);
});
