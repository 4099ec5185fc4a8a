// Accessibility: no WCAG 2.1 A/AA violation (axe-core) on any page a person meets, in the light
// and the dark colour scheme, after hydration. ("Your session has ended" needs the scaled
// topology's short tokens: tests/scaled/accessibility.spec.ts.)
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
