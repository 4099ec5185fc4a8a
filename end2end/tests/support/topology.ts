// The scaled topology's controls (scripts/topology.sh: the crates/topology CLI) and what its
// specs share: a part is stopped or restarted mid-run by asking the running topology, which owns
// every process.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

import { expect, type APIRequestContext, type BrowserContext, type Page } from '@playwright/test';

import { APP_COOKIE, APP_URL, REPLICA_URLS, SCALED_REFRESH_DUE_SECS, USER } from './env';
import { loginFrom, waitForHydration } from './flows';
import { revokeRefreshTokens } from './standin';

const SCRIPT = resolve(__dirname, '../../../scripts/topology.sh');
const run = promisify(execFile);

export type Replica = 1 | 2;

/** Runs one control command of the running topology; throws with its output if it fails. */
export async function topology(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(SCRIPT, args, { timeout: 90_000 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/topology.sh ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export const killReplica = (n: Replica) => topology('kill-replica', String(n));
export const startReplica = (n: Replica) => topology('start-replica', String(n));
export const restartRedis = () => topology('restart-redis');
/** Starts whatever a test stopped, so the next test finds the whole topology. */
export const restoreTopology = () => topology('restore');

/** `redis-cli` against the topology's Redis, one argument per word. */
export const redisCli = (...args: string[]) => topology('redis-cli', ...args);

export function replicaUrl(n: Replica, path = '/'): string {
  return `${REPLICA_URLS[n - 1]}${path}`;
}

/** Whether anything answers on the replica's port (a killed replica must not). */
export async function replicaAnswers(request: APIRequestContext, n: Replica): Promise<boolean> {
  try {
    await request.get(replicaUrl(n, '/healthz'), { timeout: 2_000 });
    return true;
  } catch {
    return false;
  }
}

/** Where the stand-in sends its webhooks: the app, through the load balancer. */
export const WEBHOOK_URL = `${APP_URL}/webhooks/fusionauth`;

/**
 * Revokes the user's refresh tokens at the provider while the load balancer is down, so its
 * revocation webhook cannot reach the app: the session ends only at its next refresh, which
 * the provider refuses (invalid_grant), and the guest page says "Your session has ended".
 * Load everything the page needs through the load balancer first.
 */
export async function revokeUnbeknownToTheApp(request: APIRequestContext) {
  await topology('stop-nginx');
  const sent = await revokeRefreshTokens(request);
  expect(sent.map((d) => [d.url, d.status]), 'the webhook could not arrive').toEqual([[WEBHOOK_URL, null]]);
}

/**
 * Logs in, has the provider refuse the session's next refresh (see revokeUnbeknownToTheApp),
 * waits until that refresh is due, and loads `/` from replica 1: the guest page with the
 * "Your session has ended" notice.
 */
export async function showSessionEnded(page: Page, request: APIRequestContext) {
  await loginFrom(page, '/');
  const tokensIssued = Date.now();
  await waitForHydration(page);
  await revokeUnbeknownToTheApp(request);
  await page.waitForTimeout(Math.max(0, tokensIssued + (SCALED_REFRESH_DUE_SECS + 1) * 1000 - Date.now()));
  expect(await openOnReplica(page, 1, '/')).toBe(200);
  await expect(page.getByTestId('session-ended')).toBeVisible();
}

/** The logged-in profile, as `/` and `/profile` show it. */
export async function expectProfile(page: Page) {
  await expect(page.getByTestId('logged-in-as')).toHaveText(`You are logged in as ${USER.email}`);
  await expect(page.getByRole('heading', { level: 2, name: 'Here is your OpenID profile' })).toBeVisible();
  await expect(page.getByTestId('claims-table')).toBeVisible();
}

/** The guest page of whatever origin the page is on. */
export async function expectGuestPage(page: Page) {
  await expect(page.getByRole('heading', { level: 1, name: 'Hello Guest', exact: true })).toBeVisible();
  await expect(page.getByTestId('logged-in-as')).toHaveCount(0);
}

/** Loads `path` straight from replica `n` (not through nginx) and returns the response status. */
export async function openOnReplica(page: Page, n: Replica, path: string): Promise<number> {
  const response = await page.goto(replicaUrl(n, path));
  expect(new URL(page.url()).origin, `${path} on replica ${n} stayed on that replica`).toBe(REPLICA_URLS[n - 1]);
  return response?.status() ?? 0;
}

/** The browser's session cookie (host-only on localhost: every port gets it). */
export async function sessionCookie(context: BrowserContext) {
  const cookie = (await context.cookies(REPLICA_URLS[0])).find((c) => c.name === APP_COOKIE);
  expect(cookie, `the ${APP_COOKIE} cookie after the login`).toBeDefined();
  return cookie!;
}
