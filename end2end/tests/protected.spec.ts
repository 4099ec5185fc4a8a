// /profile is protected: a guest goes through the provider and lands back on it.
import { expect, test } from './support/fixtures';
import { atApp, claimValue, expectProviderLoginForm, loginFrom, submitCredentials } from './support/flows';
import { USER } from './support/env';

test('guest opening /profile logs in at the provider and lands on /profile', async ({ page }) => {
  await page.goto('/profile');
  await expectProviderLoginForm(page);
  await submitCredentials(page);
  await expect(page).toHaveURL(atApp('/profile'));
  await expect(page.getByTestId('logged-in-as')).toHaveText(`You are logged in as ${USER.email}`);
  await expect(claimValue(page, 'email')).toHaveText(USER.email);
});

test('the Profile link of a signed-in user opens the profile without a new login', async ({ page }) => {
  await loginFrom(page, '/');
  await page.getByRole('link', { name: 'Profile' }).click();
  await expect(page).toHaveURL(atApp('/profile'));
  await expect(claimValue(page, 'email')).toHaveText(USER.email);
});
