// Saves what a person sees, for review, in the light and the dark colour scheme: guest,
// provider login, profile (table and JSON), an error page; with E2E_TOPOLOGY=scaled, also the
// "Your session has ended" notice.
import { join } from 'node:path';

import type { Page } from '@playwright/test';

import { COLOR_SCHEMES } from './support/axe';
import { SCALED } from './support/env';
import { expect, test } from './support/fixtures';
import {
  clickLogin, expectGuestHome, expectLoggedIn, expectProviderLoginForm, submitCredentials, waitForHydration, waitForIslands,
} from './support/flows';
import { restoreTopology, showSessionEnded } from './support/topology';

const DIR = join(__dirname, '..', 'screenshots');

/** `<name>-light.png` and `<name>-dark.png`. */
async function shoot(page: Page, name: string) {
  for (const colorScheme of COLOR_SCHEMES) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: join(DIR, `${name}-${colorScheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: null });
}

test('screenshots of guest, provider login, profile (table and JSON) and an error page', async ({ page, problems }) => {
  // A guest's forged callback (a logged-in user's would just go home).
  problems.expectHttpError(/\/callback\?/, 400);
  await page.goto('/callback?code=x&state=bogus');
  await expect(page.getByTestId('error-page')).toBeVisible();
  await shoot(page, '5-error');

  await page.goto('/');
  await expectGuestHome(page);
  await shoot(page, '1-guest');

  await clickLogin(page);
  await expectProviderLoginForm(page);
  await shoot(page, '2-provider-login');

  await submitCredentials(page);
  await expectLoggedIn(page);
  await waitForHydration(page);
  await shoot(page, '3-profile-table');
  // By keyboard, so the focus ring on the selected tab shows too.
  await page.getByRole('tab', { name: 'Table' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('claims-json')).toBeVisible();
  await shoot(page, '4-profile-json');
});

test('screenshot of the "Your session has ended" notice', async ({ page, request }) => {
  test.skip(!SCALED, 'needs the scaled topology: E2E_TOPOLOGY=scaled npm run screenshots');
  test.setTimeout(60_000);
  try {
    await showSessionEnded(page, request);
    await waitForIslands(page);
    await shoot(page, '6-session-ended');
  } finally {
    await restoreTopology();
  }
});
