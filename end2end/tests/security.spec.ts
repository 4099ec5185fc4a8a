// What an attacker's page or injected script can do: nothing. Several tabs
// logging in at once all succeed.
import { APP_URL, USER } from './support/env';
import { expect, test } from './support/fixtures';
import {
  atApp, clickLogin, expectLoggedIn, expectProviderLoginForm, loginFrom, submitCredentials, waitForHydration,
} from './support/flows';

test('the CSP blocks a script without the page nonce, and the suite sees the violation', async ({ page, problems }) => {
  await loginFrom(page, '/');
  await waitForHydration(page);
  const policy = (await page.request.get('/')).headers()['content-security-policy'];
  expect(policy).toMatch(/script-src [^;]*'nonce-[A-Za-z0-9_-]+'/);
  expect(policy).not.toContain('unsafe-inline');

  const ran = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true;';
    document.body.append(script);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran, 'an injected inline script ran').toBe(false);
  await expect.poll(() => problems.take(/Content Security Policy|CSP violation/).length).toBeGreaterThan(0);
});

test('a form on another site cannot log the user out (403, still logged in)', async ({ page, problems }) => {
  await loginFrom(page, '/');
  problems.expectHttpError(/\/auth\/logout$/, 403);
  const evil = 'http://evil.localhost:4444/';
  await page.route(evil, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<form method="post" action="${APP_URL}/auth/logout"><button>Win a prize</button></form>`,
  }));
  await page.goto(evil);
  const [response] = await Promise.all([
    page.waitForResponse(`${APP_URL}/auth/logout`),
    page.getByRole('button', { name: 'Win a prize' }).click(),
  ]);
  expect(response.status()).toBe(403);
  await expect(page.getByTestId('error-page')).toContainText('Request refused');

  await page.goto('/');
  await expectLoggedIn(page);
});

test('two tabs that start a login at the same time both complete', async ({ context }) => {
  const [first, second] = [await context.newPage(), await context.newPage()];
  for (const tab of [first, second]) {
    await tab.goto('/');
    await clickLogin(tab);
    await expectProviderLoginForm(tab);
  }
  await submitCredentials(second);
  await expect(second).toHaveURL(atApp('/'));
  await expectLoggedIn(second);

  // The first tab's form was shown before the second login; it still completes.
  await submitCredentials(first);
  await expect(first).toHaveURL(atApp('/'));
  await expect(first.getByTestId('logged-in-as')).toHaveText(`You are logged in as ${USER.email}`);
});
