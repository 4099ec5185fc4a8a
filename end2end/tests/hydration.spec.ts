// What only the hydrated (wasm) page does: the Table/JSON tab switch, in the browser.
import { expect, test } from './support/fixtures';
import { loginFrom, waitForHydration } from './support/flows';
import { ISSUER, USER } from './support/env';

test('tabs are disabled in the server HTML and enabled once hydrated', async ({ page }) => {
  await loginFrom(page, '/');

  // The server-rendered document, fetched with the same session cookie.
  const response = await page.request.get('/');
  expect(response.status()).toBe(200);
  const html = await response.text();
  const tabs = [...html.matchAll(/<button\b[^>]*\brole="tab"[^>]*>/g)].map((m) => m[0]);
  expect(tabs, 'two role=tab buttons in the server HTML').toHaveLength(2);
  for (const tab of tabs) expect(tab, 'tab is disabled before hydration').toMatch(/\sdisabled(=|\s|>|\/)/);

  await waitForHydration(page);
  await expect(page.getByRole('tablist')).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Table' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: 'JSON' })).toHaveAttribute('aria-selected', 'false');
});

test('switching to JSON and back happens in the browser, with no network request', async ({ page }) => {
  await loginFrom(page, '/');
  await waitForHydration(page);
  await expect(page.getByTestId('claims-table')).toBeVisible();
  await expect(page.getByTestId('claims-json')).toBeHidden();

  const requests: string[] = [];
  page.on('request', (request) => { requests.push(`${request.method()} ${request.url()}`); });

  await page.getByRole('tab', { name: 'JSON' }).click();
  await expect(page.getByRole('tab', { name: 'JSON' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: 'Table' })).toHaveAttribute('aria-selected', 'false');
  const json = page.getByTestId('claims-json');
  await expect(json).toBeVisible();
  await expect(page.getByTestId('claims-table')).toBeHidden();
  const claims = JSON.parse(await json.innerText()) as Record<string, unknown>;
  expect(claims).toMatchObject({ email: USER.email, sub: USER.sub, iss: ISSUER });

  await page.getByRole('tab', { name: 'Table' }).click();
  await expect(page.getByTestId('claims-table')).toBeVisible();
  await expect(page.getByTestId('claims-json')).toBeHidden();

  // Give a request the click might have started time to show up before asserting none did.
  await page.waitForTimeout(300);
  expect(requests, 'the tab switch made network requests').toEqual([]);
});
