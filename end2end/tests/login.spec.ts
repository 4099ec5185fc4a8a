// The tutorial's main path: guest -> FusionAuth login -> profile -> logout.
import { ISSUER, PROVIDER_COOKIE_PREFIXES, USER } from './support/env';
import { expect, test } from './support/fixtures';
import {
  AT_PROVIDER, atApp, claimValue, clickLogin, expectGuestHome, expectLoggedIn, expectProviderLoginForm,
  loginFrom, logout, submitCredentials,
} from './support/flows';

test('guest home offers a Login form that leaves for the provider', async ({ page }) => {
  await page.goto('/');
  await expectGuestHome(page);
  const form = page.locator('form[method=get][action="/login"]');
  await expect(form).toHaveCount(1);
  await expect(form.locator('input[type=hidden][name=return_to]')).toHaveCount(1);
  await expect(form.getByRole('button', { name: 'Login', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Profile' })).toBeVisible();

  await clickLogin(page);
  await expectProviderLoginForm(page);
  await expect(page).toHaveURL(AT_PROVIDER);
});

test('login shows the email and the OpenID claims, logout returns to guest', async ({ page }) => {
  await loginFrom(page, '/');

  await expect(page.getByTestId('claims-table')).toBeVisible();
  await expect(claimValue(page, 'email')).toHaveText(USER.email);
  await expect(claimValue(page, 'sub')).toHaveText(USER.sub);
  await expect(claimValue(page, 'name')).toHaveText(USER.name);
  await expect(claimValue(page, 'iss')).toHaveText(ISSUER);
  // Time claims: the number, and beside it the date it stands for.
  for (const claim of ['exp', 'iat', 'auth_time']) {
    await expect(claimValue(page, claim)).toHaveText(/^\d{10}\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
  }
  await expect(page.getByTestId('session-expiry').locator('time')).toHaveCount(1);
  await expect(page.locator('form[method=post][action="/auth/logout"]')
    .getByRole('button', { name: 'Logout', exact: true })).toBeVisible();

  const visited = await logout(page);
  expect(visited.some((url) => url.startsWith(`${ISSUER}/oauth2/logout`)),
    `logout goes through the provider's logout page; visited: ${visited.join(' -> ')}`).toBe(true);
  expect(visited.at(-1)).toMatch(atApp('/'));
  await expect(page.getByTestId('logged-in-as')).toHaveCount(0);
});

test('after logout, Login shows the provider login form again (provider session ended)', async ({ page }) => {
  await loginFrom(page, '/');
  await logout(page);

  await clickLogin(page);
  await expectProviderLoginForm(page);
  await submitCredentials(page);
  await expect(page).toHaveURL(atApp('/'));
  await expectLoggedIn(page);
});

test('wrong password stays on the provider page with "Invalid login credentials."', async ({ page }) => {
  await page.goto('/');
  await clickLogin(page);
  await expectProviderLoginForm(page);
  await submitCredentials(page, 'not-the-password');

  await expect(page).toHaveURL(AT_PROVIDER);
  await expect(page.getByText('Invalid login credentials.')).toBeVisible();
  await expect(page.locator('input#loginId')).toHaveValue(USER.email);

  // Nothing reached the app's callback: the guest is still a guest.
  await page.goto('/');
  await expectGuestHome(page);
});

test('signed in at the provider, a new app session logs in without the form (SSO)', async ({ page, context }) => {
  await loginFrom(page, '/');
  // Drop only the app's session: the provider still knows the browser.
  const providerCookies = (await context.cookies())
    .filter((c) => PROVIDER_COOKIE_PREFIXES.some((prefix) => c.name.startsWith(prefix)));
  expect(providerCookies.length, 'the provider keeps a session cookie').toBeGreaterThan(0);
  await context.clearCookies();
  await context.addCookies(providerCookies);

  await page.goto('/');
  await expectGuestHome(page);
  await clickLogin(page);
  await expect(page).toHaveURL(atApp('/'));
  await expectLoggedIn(page);
});
