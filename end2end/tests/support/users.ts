// More than one person at once: each `anotherUser()` is a fresh browser context (its own
// cookies: a separate session of the stand-in's one user), watched like the test's own page.
import type { Page } from '@playwright/test';

import { APP_URL } from './env';
import { expect, PageProblems, test as base } from './fixtures';

export const test = base.extend<{ anotherUser: () => Promise<Page> }>({
  anotherUser: async ({ browser }, use, testInfo) => {
    const made: { page: Page; problems: PageProblems }[] = [];
    await use(async () => {
      const context = await browser.newContext({ baseURL: APP_URL });
      const page = await context.newPage();
      const problems = new PageProblems(page, { javaScriptEnabled: true });
      await problems.watchCsp(page);
      made.push({ page, problems });
      return page;
    });
    for (const [i, { page, problems }] of made.entries()) {
      if (testInfo.status === testInfo.expectedStatus) {
        expect(problems.list(), `another user's page (${i + 1}): console errors, page errors, failed requests or HTTP errors`)
          .toEqual([]);
      }
      await page.context().close();
    }
  },
});

export { expect };
