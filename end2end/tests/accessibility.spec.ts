// Accessibility: no WCAG 2.1 A/AA violation (axe-core) on any page a person meets, in the light
// and the dark colour scheme, after hydration; and the Table/JSON switch works by keyboard alone,
// as the WAI-ARIA tabs pattern says. ("Your session has ended" needs the scaled topology's short
// tokens: tests/scaled/accessibility.spec.ts.)
import type { Locator, Page } from '@playwright/test';

import { expectNoWcagViolations } from './support/axe';
import { APP_URL } from './support/env';
import { expect, test } from './support/fixtures';
import { expectGuestHome, loginFrom, waitForHydration, waitForIslands } from './support/flows';

test('the guest page has no WCAG 2.1 A/AA violations', async ({ page }) => {
  await page.goto('/');
  await expectGuestHome(page);
  await waitForIslands(page);
  await expectNoWcagViolations(page, 'the guest page');
});

test('the profile page has no WCAG 2.1 A/AA violations, in its Table and its JSON tab', async ({ page }) => {
  await loginFrom(page, '/profile');
  await waitForHydration(page);
  await expect(page.getByTestId('claims-table')).toBeVisible();
  await expectNoWcagViolations(page, 'the profile page, Table tab');

  await page.getByRole('tab', { name: 'JSON' }).click();
  await expect(page.getByTestId('claims-json')).toBeVisible();
  await expectNoWcagViolations(page, 'the profile page, JSON tab');
});

test('error pages have no WCAG 2.1 A/AA violations: Leptos\'s, the 404 and the static one', async ({ page, problems }) => {
  problems.expectHttpError(/\/callback\?/, 400);
  problems.expectHttpError(/\/no-such-page$/, 404);
  problems.expectHttpError(/\/auth\/logout$/, 403);
  const pages: [string, number][] = [
    ['/callback?code=x&state=bogus', 400], // a forged callback (invalid-state)
    ['/no-such-page', 404],
  ];
  for (const [path, status] of pages) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(status);
    await expect(page.getByTestId('error-page')).toBeVisible();
    await expectNoWcagViolations(page, `the error page of ${path}`);
  }

  // The static error page (src/server/error_pages.rs): a form on another site, refused.
  const evil = 'http://evil.localhost:4444/';
  await page.route(evil, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<form method="post" action="${APP_URL}/auth/logout"><button>Win a prize</button></form>`,
  }));
  await page.goto(evil);
  await page.getByRole('button', { name: 'Win a prize' }).click();
  await expect(page.getByTestId('error-page')).toContainText('Request refused');
  await expectNoWcagViolations(page, 'the static error page (403)');
});

test('the Table/JSON switch works by keyboard alone (WAI-ARIA tabs: roving tabindex, arrows, Home, End)', async ({ page }) => {
  await loginFrom(page, '/profile');
  await waitForHydration(page);
  const tablist = page.getByRole('tablist', { name: 'Profile format' });
  const table = tablist.getByRole('tab', { name: 'Table' });
  const json = tablist.getByRole('tab', { name: 'JSON' });

  // Tab from the top of the freshly loaded page: the selected tab is the tablist's one stop.
  for (let presses = 0; presses < 10 && !(await isFocused(table)); presses++) await page.keyboard.press('Tab');
  await expect(table).toBeFocused();
  await expectSelected(page, table, json, 'table');
  // The next Tab leaves the tablist for the panel: the unselected tab is not a stop.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('tabpanel', { name: 'Table' })).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(table).toBeFocused();

  await page.keyboard.press('ArrowRight');
  await expect(json).toBeFocused();
  await expectSelected(page, json, table, 'json');
  await page.keyboard.press('ArrowRight'); // wraps round to the first
  await expect(table).toBeFocused();
  await expectSelected(page, table, json, 'table');
  await page.keyboard.press('ArrowLeft'); // wraps round to the last
  await expect(json).toBeFocused();
  await expectSelected(page, json, table, 'json');
  await page.keyboard.press('ArrowLeft');
  await expect(table).toBeFocused();
  await expectSelected(page, table, json, 'table');
  await page.keyboard.press('End');
  await expect(json).toBeFocused();
  await expectSelected(page, json, table, 'json');
  await page.keyboard.press('Home');
  await expect(table).toBeFocused();
  await expectSelected(page, table, json, 'table');

  // The JSON panel is reached the same way once its tab is selected.
  await page.keyboard.press('End');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('tabpanel', { name: 'JSON' })).toBeFocused();
});

async function isFocused(locator: Locator): Promise<boolean> {
  return await locator.evaluate((el) => el === document.activeElement);
}

/** `selected` is selected and the one tab stop, `other` is neither, and only `view`'s panel shows. */
async function expectSelected(page: Page, selected: Locator, other: Locator, view: 'table' | 'json') {
  await expect(selected).toHaveAttribute('aria-selected', 'true');
  await expect(selected).toHaveAttribute('tabindex', '0');
  await expect(other).toHaveAttribute('aria-selected', 'false');
  await expect(other).toHaveAttribute('tabindex', '-1');
  const [shown, hidden] = view === 'table' ? ['Table', 'JSON'] : ['JSON', 'Table'];
  await expect(page.getByRole('tabpanel', { name: shown })).toBeVisible();
  await expect(page.getByRole('tabpanel', { name: hidden, includeHidden: true })).toBeHidden();
  await expect(page.getByTestId(view === 'table' ? 'claims-table' : 'claims-json')).toBeVisible();
}
