// Steps a person takes, shared by the specs. Selectors follow the app's
// contract (headings, roles, data-testid) and FusionAuth's login page, whose
// fields are found by id only: its title and placeholders change between
// FusionAuth versions ("Login | FusionAuth" and "Email" before, "Login" since 1.64).
import { expect, type Page } from '@playwright/test';

import { APP_URL, ISSUER, USER } from './env';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Any URL of the identity provider. */
export const AT_PROVIDER = new RegExp(`^${escapeRegExp(ISSUER)}/`);

/** A URL of the app, with the given path and any query. */
export function atApp(path: string): RegExp {
  return new RegExp(`^${escapeRegExp(APP_URL)}${escapeRegExp(path)}(\\?.*)?$`);
}

export async function expectGuestHome(page: Page) {
  await expect(page).toHaveURL(atApp('/'));
  await expect(page.getByRole('heading', { level: 1, name: 'Hello Guest', exact: true })).toBeVisible();
  await expect(page.getByText('Please Login to see your profile')).toBeVisible();
}

export async function clickLogin(page: Page) {
  await page.getByRole('button', { name: 'Login', exact: true }).click();
}

export async function expectProviderLoginForm(page: Page) {
  await expect(page).toHaveURL(AT_PROVIDER);
  await expect(page.locator('input#loginId[name=loginId]')).toBeVisible();
  await expect(page.locator('input#password[name=password][type=password]')).toBeVisible();
  await expect(page.locator('button#submit-button')).toBeVisible();
}

export async function submitCredentials(page: Page, password: string = USER.password) {
  await page.locator('input#loginId').fill(USER.email);
  await page.locator('input#password').fill(password);
  await page.locator('button#submit-button').click();
}

/** Guest on `path` -> Login -> provider form -> back on the app at `landing`. */
export async function loginFrom(page: Page, path = '/', landing = path) {
  await page.goto(path);
  if (path === '/') await clickLogin(page);
  await expectProviderLoginForm(page);
  await submitCredentials(page);
  await expect(page).toHaveURL(atApp(landing));
  await expectLoggedIn(page);
}

export async function expectLoggedIn(page: Page) {
  await expect(page.getByTestId('logged-in-as')).toHaveText(`You are logged in as ${USER.email}`);
  await expect(page.getByRole('heading', { level: 2, name: 'Here is your OpenID profile' })).toBeVisible();
}

/** The profile's tabs become enabled only once the wasm has hydrated the page. */
export async function waitForHydration(page: Page) {
  await expect(page.getByRole('tab', { name: 'JSON' })).toBeEnabled();
  await expect(page.getByRole('tab', { name: 'Table' })).toBeEnabled();
}

/**
 * For islands that change nothing a test can see when they hydrate (the guest view): waits
 * until the wasm has arrived and the network has been quiet for half a second; the island
 * script hydrates as soon as the wasm is instantiated.
 */
export async function waitForIslands(page: Page) {
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('.wasm')));
  await page.waitForLoadState('networkidle');
}

/** Value cell of a claim row in the claims table. */
export function claimValue(page: Page, claim: string) {
  return page.getByTestId('claims-table')
    .locator('tr', { has: page.locator('th[scope=row]', { hasText: new RegExp(`^${escapeRegExp(claim)}$`) }) })
    .locator('td');
}

/** Clicks Logout and records the main-frame URLs the browser went through. */
export async function logout(page: Page): Promise<string[]> {
  const visited: string[] = [];
  const onNavigate = (frame: import('@playwright/test').Frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  };
  page.on('framenavigated', onNavigate);
  await page.getByRole('button', { name: 'Logout', exact: true }).click();
  await expectGuestHome(page);
  page.off('framenavigated', onNavigate);
  return visited;
}
