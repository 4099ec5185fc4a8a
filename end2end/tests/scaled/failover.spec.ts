// Scaled topology: a replica or Redis goes away mid-run and nobody has to log in again.
import type { Page } from '@playwright/test';

import { ISSUER, SCALED } from '../support/env';
import { loginFrom, waitForHydration } from '../support/flows';
import {
  expectProfile, killReplica, openOnReplica, redisCli, replicaAnswers, restartRedis, restoreTopology, startReplica,
} from '../support/topology';
import { expect, test } from '../support/users';

test.skip(!SCALED, 'needs the scaled topology: E2E_TOPOLOGY=scaled (make e2e-scaled)');
test.afterEach(async () => { await restoreTopology(); });

/** Logged-in users, each in a browser of their own (the test's page is the first). */
async function loggedInUsers(page: Page, anotherUser: () => Promise<Page>, count: number): Promise<Page[]> {
  const users = [page];
  while (users.length < count) users.push(await anotherUser());
  for (const user of users) {
    await loginFrom(user, '/');
    // Done with its page (the wasm too): a response cut off by a crash is not what is tested.
    await waitForHydration(user);
  }
  return users;
}

/** Records every main-frame URL from now on: a new login would pass through the provider. */
function watchNavigations(users: Page[]): string[][] {
  return users.map((user) => {
    const visited: string[] = [];
    user.on('framenavigated', (frame) => { if (frame === user.mainFrame()) visited.push(frame.url()); });
    return visited;
  });
}

function expectNoLogin(visited: string[][]) {
  visited.forEach((urls, i) => {
    expect(urls.filter((url) => url.startsWith(ISSUER)), `user ${i + 1} was sent to the provider`).toEqual([]);
  });
}

test('one replica killed mid-run: the other serves every logged-in user without a new login', async ({ page, request, anotherUser }) => {
  test.setTimeout(90_000);
  const users = await loggedInUsers(page, anotherUser, 3);
  const visited = watchNavigations(users);

  await killReplica(1);
  expect(await replicaAnswers(request, 1), 'replica 1 is down').toBe(false);
  // Through nginx, round-robin: enough requests that each user's would have reached replica 1.
  for (let round = 0; round < 3; round++) {
    for (const user of users) {
      await user.goto(round % 2 ? '/profile' : '/');
      await expectProfile(user);
    }
  }
  expectNoLogin(visited);

  // Back up, it knows every session from Redis alone.
  await startReplica(1);
  for (const user of users) {
    expect(await openOnReplica(user, 1, '/profile')).toBe(200);
    await expectProfile(user);
  }
  expectNoLogin(visited);
});

test('Redis restarted mid-run: users come back logged in', async ({ page, anotherUser }) => {
  test.setTimeout(90_000);
  const users = await loggedInUsers(page, anotherUser, 2);
  const visited = watchNavigations(users);
  expect(Number(await redisCli('DBSIZE')), 'the sessions are in Redis').toBeGreaterThan(0);

  const restarted = await restartRedis();
  expect(restarted).toMatch(/stopped[\s\S]*started/);
  expect(Number(await redisCli('DBSIZE')), 'Redis read its sessions back from its append-only file').toBeGreaterThan(0);

  for (const user of users) {
    await user.goto('/');
    await expectProfile(user);
    for (const n of [1, 2] as const) {
      expect(await openOnReplica(user, n, '/profile')).toBe(200);
      await expectProfile(user);
    }
  }
  expectNoLogin(visited);
});
