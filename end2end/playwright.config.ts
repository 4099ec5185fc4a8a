import { defineConfig, devices } from '@playwright/test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  APP_PORT, APP_URL, FUSIONAUTH_API_KEY, IDP_PORT, ISSUER, METRICS_PORT, SCALED,
  SCALED_ACCESS_TOKEN_TTL_SECS, SCALED_REFRESH_SKEW_SECS, chromiumPath,
} from './tests/support/env';

const CI = !!process.env.CI;

// A fresh session store per run, so no session from an earlier run survives.
const SESSION_DB = process.env.E2E_SESSION_DB
  ?? join(tmpdir(), `fusionauth-leptos-e2e-${Date.now()}-${process.pid}.db`);

// Test-only secret: 64 characters, never used outside this suite.
const APP_SECRET_KEY = 'e2e-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH';

// The app's warnings and errors always show, so a failure can be read beside what the server
// logged; E2E_SERVER_LOGS=1 adds every request and the stand-in's output.
const SERVER_LOGS = !!process.env.E2E_SERVER_LOGS;
const IDP_STDOUT = SERVER_LOGS ? 'pipe' : 'ignore';
const APP_LOG_FILTER = process.env.RUST_LOG ?? (SERVER_LOGS ? 'info' : 'warn');

// Flags that Debian's chromium needs when run as root on a machine without a GPU
// (see shared/toolchain.md). Headless mode itself is Playwright's `headless` option.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The app: one process with its SQLite store (E2E_TOPOLOGY unset or single) ...
const SINGLE_APP = {
  name: 'app',
  command: '../scripts/run-app.sh',
  url: `${APP_URL}/healthz`,
  env: {
    LEPTOS_SITE_ADDR: `127.0.0.1:${APP_PORT}`,
    APP_URL,
    ISSUER,
    SESSION_DB,
    APP_SECRET_KEY,
    RUST_LOG: APP_LOG_FILTER,
    // Prometheus's listener, apart from the app's port (tests/metrics.spec.ts scrapes it).
    METRICS_ADDR: `127.0.0.1:${METRICS_PORT}`,
  },
  reuseExistingServer: !CI,
  timeout: 60_000,
  gracefulShutdown: { signal: 'SIGINT' as const, timeout: 5_000 },
  stdout: 'pipe' as const,
  stderr: 'pipe' as const,
};

// ... or, with E2E_TOPOLOGY=scaled, scripts/topology.sh (crates/topology; `make e2e` builds it):
// nginx on APP_URL (:3000) round-robin to two replicas (:3101, :3102) with their sessions in Redis;
// it sets APP_URL, LEPTOS_SITE_ADDR, REDIS_URL and a SESSION_DB per replica itself. Never reused: a `make dev` on :3000 is one process.
// Access tokens fall due 5 s after they were issued (support/env.ts): refreshes, and the lock that
// makes one replica do each, happen all through the run.
const SCALED_TOPOLOGY = {
  name: 'scaled topology',
  command: '../scripts/topology.sh up',
  url: `${APP_URL}/healthz`,
  env: {
    ISSUER,
    APP_SECRET_KEY,
    REFRESH_SKEW_SECS: String(SCALED_REFRESH_SKEW_SECS),
    RUST_LOG: APP_LOG_FILTER,
    // A test runner killed outright (no shutdown signal for its servers) still stops it.
    TOPOLOGY_WATCH_PID: String(process.pid),
  },
  reuseExistingServer: false,
  timeout: 120_000,
  // The whole process group gets it; the supervisor stops every part and checks the ports are free.
  gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 20_000 },
  stdout: 'pipe' as const,
  stderr: 'pipe' as const,
};

export default defineConfig({
  testDir: './tests',
  testMatch: '**/*.spec.ts',
  outputDir: SCALED ? './test-results/scaled' : './test-results',
  fullyParallel: false,
  workers: 1, // two cores: the app, the stand-in and the browser already share them
  retries: 0, // a flaky login is a bug to see, not to retry away
  forbidOnly: CI,
  timeout: 30_000,
  expect: { timeout: 10_000 }, // a debug-build wasm takes a few seconds to hydrate
  reporter: [['list'], ['html', { open: 'never', outputFolder: SCALED ? 'playwright-report/scaled' : 'playwright-report' }]],
  use: {
    baseURL: APP_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    video: 'off',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
      },
    },
  ],
  webServer: [
    {
      name: 'stand-in IdP',
      command: 'node idp/server.mjs',
      url: `${ISSUER}/.well-known/openid-configuration`,
      env: {
        IDP_PORT: String(IDP_PORT),
        ISSUER,
        APP_URL,
        FUSIONAUTH_API_KEY,
        ...(SCALED ? { IDP_ACCESS_TOKEN_TTL: String(SCALED_ACCESS_TOKEN_TTL_SECS) } : {}),
      },
      // The scaled run's stand-in has its own APP_URL and token lifetime: never someone else's.
      reuseExistingServer: !CI && !SCALED,
      timeout: 30_000,
      stdout: IDP_STDOUT,
      stderr: 'pipe',
    },
    SCALED ? SCALED_TOPOLOGY : SINGLE_APP,
  ],
});
