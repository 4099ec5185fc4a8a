// Logout always ends FusionAuth's session, and only FusionAuth's logout page
// (its hidden iframe) ends the app's session from outside.
import { APP_COOKIE, APP_URL, CLIENT_ID, ISSUER } from './support/env';
import { expect, test } from './support/fixtures';
import {
  atApp, clickLogin, expectGuestHome, expectLoggedIn, expectProviderLoginForm, loginFrom, logout,
} from './support/flows';

test('Logout without the app cookie (expired, tab left open) still ends the provider session', async ({ page, context }) => {
  await loginFrom(page, '/');
  // The app's cookie is gone; the provider's SSO cookie is still there.
  const appOrigin = new URL(APP_URL);
  await context.clearCookies({ name: APP_COOKIE, domain: appOrigin.hostname });
  expect((await context.cookies(APP_URL)).map((c) => c.name)).not.toContain(APP_COOKIE);

  const visited = await logout(page);
  expect(visited.some((url) => url.startsWith(`${ISSUER}/oauth2/logout`)),
    `logout went through the provider; visited: ${visited.join(' -> ')}`).toBe(true);

  // The next person at this computer is asked for the password.
  await clickLogin(page);
  await expectProviderLoginForm(page);
});

test('a logout started at FusionAuth ends the app session through the hidden iframe', async ({ page }) => {
  await loginFrom(page, '/');
  // As when the user logs out of another application of the tenant.
  await page.goto(`${ISSUER}/oauth2/logout?client_id=${CLIENT_ID}`);
  await expect(page.getByRole('heading', { name: 'Logging out…' })).toBeVisible();
  await expect(page.locator(`iframe[src="${APP_URL}/logout"]`)).toHaveCount(1);
  // The meta refresh lands on the app's logout URL, which goes home.
  await expectGuestHome(page);
});

test('a top-level visit to /logout logs nobody out and lands on a clean /', async ({ page }) => {
  await loginFrom(page, '/');
  await page.goto('/logout?state=from-somewhere');
  await expect(page).toHaveURL(atApp('/'));
  expect(new URL(page.url()).search).toBe('');
  await expectLoggedIn(page);
});
