// Scaled topology: two replicas behind nginx share each session through Redis, whichever
// replica made it and whichever ends it.
import { APP_COOKIE, APP_URL, ISSUER, REPLICA_URLS, SCALED, USER } from '../support/env';
import { expect, test } from '../support/fixtures';
import { claimValue, loginFrom } from '../support/flows';
import {
  expectGuestPage, expectProfile, openOnReplica, replicaUrl, sessionCookie,
} from '../support/topology';

test.skip(!SCALED, 'needs the scaled topology: E2E_TOPOLOGY=scaled (make e2e-scaled)');

test('logged in through the load balancer, /profile loaded directly on each replica shows the profile', async ({ page }) => {
  await loginFrom(page, '/');
  for (const n of [1, 2] as const) {
    expect(await openOnReplica(page, n, '/profile'), `/profile on replica ${n}`).toBe(200);
    await expectProfile(page);
    await expect(claimValue(page, 'email')).toHaveText(USER.email);
    await expect(claimValue(page, 'sub')).toHaveText(USER.sub);
  }
});

test('logout handled by replica 2 ends the session on replica 1 (its cookie shows the guest page)', async ({ page, context }) => {
  await loginFrom(page, '/');
  // Both replicas serve the session first: one that kept a copy must still see the logout.
  for (const n of [1, 2] as const) {
    await openOnReplica(page, n, '/');
    await expectProfile(page);
  }
  const cookie = await sessionCookie(context);
  const action = await page.locator('form[method=post]')
    .filter({ has: page.getByRole('button', { name: 'Logout', exact: true }) })
    .getAttribute('action');
  expect(action, 'the Logout form posts to the logout server function').toBe('/auth/logout');

  // The Logout form's POST, sent to replica 2 as the browser sends it from the app's origin.
  const response = await context.request.post(replicaUrl(2, action!), {
    headers: { Origin: new URL(APP_URL).origin },
    form: {},
    maxRedirects: 0,
  });
  expect(response.status(), 'logout answers with a redirect').toBe(303);
  expect(response.headers()['location']).toMatch(new RegExp(`^${ISSUER}/oauth2/logout\\?`));
  expect((await context.cookies(REPLICA_URLS[0])).map((c) => c.name), 'logout expired the cookie')
    .not.toContain(APP_COOKIE);

  // The same cookie again (another tab, a copy): replica 1 must not know that session any more.
  await context.addCookies([cookie]);
  expect(await openOnReplica(page, 1, '/')).toBe(200);
  await expectGuestPage(page);
  expect(await openOnReplica(page, 2, '/')).toBe(200);
  await expectGuestPage(page);
});
