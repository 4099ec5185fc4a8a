// The metrics an operator alerts on, as a real browser moves them: one login in Chromium moves
// the login counters by exactly one and the callback is counted under its route template; the
// scrape after it is kept as an attachment (test-results/…/metrics.txt).
import { writeFile } from 'node:fs/promises';

import { expect, test, type APIRequestContext } from '@playwright/test';

import { APP_URL, METRICS_URL, SCALED } from './support/env';
import { loginFrom } from './support/flows';

test.skip(SCALED, 'METRICS_ADDR is set on the single app process only');

async function scrape(request: APIRequestContext): Promise<string> {
  const response = await request.get(METRICS_URL);
  expect(response.status()).toBe(200);
  return response.text();
}

/** The value of the series `name` (no labels), 0 when it is not exported yet. */
function value(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('a login in the browser moves the login counters by one, by route template', async ({ page, request }, testInfo) => {
  const before = await scrape(request);
  await loginFrom(page, '/');
  const after = await scrape(request);

  expect(value(after, 'oidc_sessions_logins_started_total') - value(before, 'oidc_sessions_logins_started_total')).toBe(1);
  expect(value(after, 'oidc_sessions_logins_completed_total') - value(before, 'oidc_sessions_logins_completed_total')).toBe(1);
  expect(after).toMatch(/^oidc_sessions_http_requests_total\{[^}]*route="\/callback"[^}]*status="302"/m);
  // Never a path with its query (the callback's carries the code), never the session cookie.
  expect(after).not.toMatch(/code=|state=|fa_leptos_session/);
  await writeFile(testInfo.outputPath('metrics.txt'), after);
  await testInfo.attach('metrics.txt', { path: testInfo.outputPath('metrics.txt'), contentType: 'text/plain' });
});

test('the metrics are not on the public port', async ({ request }) => {
  expect((await request.get(`${APP_URL}/metrics`)).status()).toBe(404);
});
