// The same login with JavaScript disabled: server-rendered HTML and plain forms only.
import { expect, test } from './support/fixtures';
import { claimValue, loginFrom, logout } from './support/flows';
import { USER } from './support/env';

test.use({ javaScriptEnabled: false });

test('login works without JavaScript; tabs stay disabled and the table is shown', async ({ page }) => {
  await loginFrom(page, '/');

  await expect(page.getByTestId('claims-table')).toBeVisible();
  await expect(claimValue(page, 'email')).toHaveText(USER.email);
  await expect(page.getByTestId('claims-json')).toBeHidden();
  await expect(page.getByRole('tab', { name: 'Table' })).toBeDisabled();
  await expect(page.getByRole('tab', { name: 'JSON' })).toBeDisabled();
  await expect(page.getByRole('tab', { name: 'Table' })).toHaveAttribute('aria-selected', 'true');
});

test('logout works without JavaScript, through the provider and back to the guest page', async ({ page }) => {
  await loginFrom(page, '/');
  await logout(page);
});
