// The suite's `test`: every page is watched, and a test fails on any console
// error, uncaught page error, Content-Security-Policy violation, failed request
// or HTTP response >= 400 that the test did not declare as expected (an error
// page under test).
import { test as base, expect, type Page } from '@playwright/test';

type StatusMatch = number | ((status: number) => boolean);

interface Expected {
  url: RegExp;
  status: StatusMatch;
}

export class PageProblems {
  private readonly found: string[] = [];
  private readonly expected: Expected[] = [];
  /** Every main-frame navigation response, to explain a failure from the report alone. */
  readonly navigations: string[] = [];

  /** Chromium logs most CSP violations as console errors, but not all of them (e.g. a
   * blocked frame): report every `securitypolicyviolation` event of every frame too. */
  async watchCsp(page: Page) {
    await page.exposeFunction('__reportCspViolation', (line: string) => {
      this.found.push(`CSP violation: ${line}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const report = (window as unknown as { __reportCspViolation?: (line: string) => void }).__reportCspViolation;
        report?.(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} in ${e.documentURI}`);
      });
    });
  }

  constructor(page: Page, { javaScriptEnabled }: { javaScriptEnabled: boolean }) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      // Chromium reports every HTTP error as a console error on the resource's URL.
      if (this.isExpected(msg.location().url)) return;
      this.found.push(`console error: ${msg.text()} (at ${msg.location().url || 'unknown'})`);
    });
    page.on('pageerror', (err) => {
      this.found.push(`page error: ${err.name}: ${err.message}`);
    });
    page.on('requestfailed', (request) => {
      const reason = request.failure()?.errorText ?? 'unknown';
      // ERR_ABORTED is the browser cancelling a load because the page navigated
      // on (e.g. a click before the wasm finished downloading, or the logout page
      // moving on while its front-channel iframe loads): not a server failure.
      if (reason === 'net::ERR_ABORTED') return;
      // With JavaScript off, Chromium refuses script loads (e.g. Leptos'
      // <link rel=modulepreload>) and reports them as blocked by "csp".
      if (!javaScriptEnabled && reason === 'csp' && request.resourceType() === 'script') return;
      // Name the request fully, so a rare failure can be traced from the report alone.
      const frame = request.frame() === page.mainFrame() ? 'main frame' : 'subframe';
      const via = request.redirectedFrom()?.url();
      this.found.push(
        `request failed: ${request.method()} ${request.url()}: ${reason}` +
          ` (${request.resourceType()}, ${request.isNavigationRequest() ? 'navigation' : 'subresource'}, ${frame}` +
          `${via ? `, redirected from ${via}` : ''})`,
      );
    });
    page.on('response', (response) => {
      const status = response.status();
      const request = response.request();
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
        const location = response.headers()['location'];
        this.navigations.push(
          `${new Date().toISOString()} ${status} ${request.method()} ${response.url()}${location ? ` -> ${location}` : ''}`,
        );
      }
      if (status < 400 || this.isExpected(response.url(), status)) return;
      this.found.push(`HTTP ${status}: ${response.request().method()} ${response.url()}`);
    });
  }

  /** Declares an HTTP error (and the console line Chromium logs for it) as part of the test. */
  expectHttpError(url: RegExp, status: StatusMatch) {
    this.expected.push({ url, status });
  }

  list(): readonly string[] {
    return this.found;
  }

  /** Removes and returns the problems matching `pattern` (a problem the test provoked). */
  take(pattern: RegExp): string[] {
    const taken = this.found.filter((p) => pattern.test(p));
    const kept = this.found.filter((p) => !pattern.test(p));
    this.found.splice(0, this.found.length, ...kept);
    return taken;
  }

  private isExpected(url: string, status?: number): boolean {
    return this.expected.some((e) => e.url.test(url) && (status === undefined
      || (typeof e.status === 'number' ? e.status === status : e.status(status))));
  }
}

export const test = base.extend<{ problems: PageProblems }>({
  problems: [
    async ({ page, javaScriptEnabled }, use, testInfo) => {
      const problems = new PageProblems(page, { javaScriptEnabled });
      if (javaScriptEnabled) await problems.watchCsp(page);
      await use(problems);
      if (testInfo.status !== testInfo.expectedStatus) {
        // The test already failed: report what the page went through, for a rare failure.
        const report = [
          'navigations:', ...problems.navigations,
          'problems:', ...(problems.list().length ? problems.list() : ['(none)']),
        ].join('\n');
        await testInfo.attach('page history', { body: report, contentType: 'text/plain' });
        console.error(`[${testInfo.title}]\n${report}`);
        return;
      }
      expect(problems.list(), 'console errors, page errors, failed requests or HTTP errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
