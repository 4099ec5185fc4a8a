// Error pages: a clear page with the right status and a way back, never a stack trace.
import { expect, test } from './support/fixtures';
import { atApp, expectGuestHome } from './support/flows';

async function expectErrorPage(page: import('@playwright/test').Page) {
  const errorPage = page.getByTestId('error-page');
  await expect(errorPage).toBeVisible();
  await expect(errorPage.getByRole('heading', { level: 1 })).not.toBeEmpty();
  await expect(errorPage.locator('p').first()).not.toBeEmpty();
  const back = errorPage.getByRole('link', { name: 'Back to start' });
  await expect(back).toHaveAttribute('href', '/');
  return back;
}

test('callback with a forged state is rejected with 400 and an error page (invalid-state)', async ({ page, problems }) => {
  problems.expectHttpError(/\/callback\?/, 400);
  const response = await page.goto('/callback?code=x&state=bogus');
  expect(response?.status()).toBe(400);
  const back = await expectErrorPage(page);

  await back.click();
  await expect(page).toHaveURL(atApp('/'));
  await expectGuestHome(page);
});

test('callback with error=access_denied shows a 4xx error page', async ({ page, problems }) => {
  problems.expectHttpError(/\/callback\?/, (status) => status >= 400 && status < 500);
  const response = await page.goto('/callback?error=access_denied&state=whatever');
  const status = response?.status() ?? 0;
  expect(status, `status ${status}`).toBeGreaterThanOrEqual(400);
  expect(status, `status ${status}`).toBeLessThan(500);
  await expectErrorPage(page);
});

test('error page does not render attacker-supplied HTML from the callback (reflected XSS)', async ({ page, problems }) => {
  problems.expectHttpError(/\/callback\?/, (status) => status >= 400 && status < 500);
  let dialog = false;
  page.on('dialog', async (d) => { dialog = true; await d.dismiss(); });
  const payload = '<img src=x id=injected onerror=alert(1)>';
  const query = new URLSearchParams({ error: payload, error_description: payload, state: payload });
  await page.goto(`/callback?${query}`);
  await expectErrorPage(page);
  await expect(page.locator('#injected')).toHaveCount(0);
  expect(dialog, 'a script from the query ran').toBe(false);
});
