// Saves what a person sees, for review: guest, provider login, profile, error page.
import { join } from 'node:path';

import { expect, test } from './support/fixtures';
import { clickLogin, expectGuestHome, expectLoggedIn, expectProviderLoginForm, submitCredentials, waitForHydration } from './support/flows';

const DIR = join(__dirname, '..', 'screenshots');

test('screenshots of guest, provider login, profile (table and JSON) and an error page', async ({ page, problems }) => {
  // A guest's forged callback (a logged-in user's would just go home).
  problems.expectHttpError(/\/callback\?/, 400);
  await page.goto('/callback?code=x&state=bogus');
  await expect(page.getByTestId('error-page')).toBeVisible();
  await page.screenshot({ path: join(DIR, '5-error.png'), fullPage: true });

  await page.goto('/');
  await expectGuestHome(page);
  await page.screenshot({ path: join(DIR, '1-guest.png'), fullPage: true });

  await clickLogin(page);
  await expectProviderLoginForm(page);
  await page.screenshot({ path: join(DIR, '2-provider-login.png'), fullPage: true });

  await submitCredentials(page);
  await expectLoggedIn(page);
  await waitForHydration(page);
  await page.screenshot({ path: join(DIR, '3-profile-table.png'), fullPage: true });
  await page.getByRole('tab', { name: 'JSON' }).click();
  await expect(page.getByTestId('claims-json')).toBeVisible();
  await page.screenshot({ path: join(DIR, '4-profile-json.png'), fullPage: true });

});
