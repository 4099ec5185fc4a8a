// `make bench`: the time from navigation to a working Table/JSON switch on the profile page,
// in Chromium on loopback with a cold cache (a new browser context per sample). The island
// sets the performance mark `claims-switch-ready` when it has hydrated; its startTime is
// milliseconds since the navigation started. Each sample then clicks JSON to check that the
// switch really works. Prints a JSON array of milliseconds.
//
// Usage: node switch-timing.mjs APP_URL COOKIE_HEADER SAMPLES
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const [appUrl, cookieHeader, samples] = process.argv.slice(2);
if (!appUrl || !cookieHeader || !(Number(samples) > 0)) {
  console.error('usage: node switch-timing.mjs APP_URL COOKIE_HEADER SAMPLES');
  process.exit(2);
}
// Playwright is installed for the end-to-end suite.
const require = createRequire(new URL('../../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const executablePath = process.env.CHROMIUM_PATH
  ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const cookies = cookieHeader.split(';').map((pair) => pair.trim()).filter(Boolean).map((pair) => {
  const at = pair.indexOf('=');
  return { name: pair.slice(0, at), value: pair.slice(at + 1), url: appUrl };
});

const times = [];
try {
  for (let i = 0; i < Number(samples); i += 1) {
    const context = await browser.newContext();
    await context.addCookies(cookies);
    const page = await context.newPage();
    await page.goto(new URL('/profile', appUrl).href);
    const ready = await page.waitForFunction(
      () => performance.getEntriesByName('claims-switch-ready', 'mark')[0]?.startTime,
      undefined,
      { timeout: 15_000, polling: 5 },
    );
    times.push(await ready.jsonValue());
    await page.getByRole('tab', { name: 'JSON' }).click();
    await page.getByTestId('claims-json').waitFor({ state: 'visible', timeout: 5_000 });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(times));
