// Scaled topology: the sessions live in Redis, sealed: whoever reads Redis (or its
// append-only file) learns no email, name, claim or token.
import { createHash } from 'node:crypto';

import { ISSUER, SCALED, USER } from '../support/env';
import { expect, test } from '../support/fixtures';
import { loginFrom } from '../support/flows';
import { redisCli } from '../support/topology';

test.skip(!SCALED, 'needs the scaled topology: E2E_TOPOLOGY=scaled (make e2e-scaled)');

/** A JWT's shape, and a serialized token field (as in secrets.spec.ts). */
const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/;
const TOKEN_FIELD = /["']?\b(id_token|access_token|refresh_token)\b["']?\s*[:=]/;

/** Every value Redis holds under `key`, as text, whatever the key's type. */
async function valueOf(key: string): Promise<string> {
  const type = await redisCli('TYPE', key);
  switch (type) {
    case 'string': return redisCli('GET', key);
    case 'hash': return redisCli('HGETALL', key);
    case 'set': return redisCli('SMEMBERS', key);
    case 'zset': return redisCli('ZRANGE', key, '0', '-1');
    case 'list': return redisCli('LRANGE', key, '0', '-1');
    case 'stream': return redisCli('XRANGE', key, '-', '+');
    case 'none': return ''; // expired meanwhile
    default: throw new Error(`Redis key ${key} has the unexpected type ${type}`);
  }
}

test('sessions are stored in Redis encrypted: no email, name, claim or token readable there', async ({ page, request }) => {
  const keysBefore = Number(await redisCli('DBSIZE'));
  await loginFrom(page, '/');
  const keys = (await redisCli('--scan')).split('\n').filter(Boolean);
  expect(keys.length, 'the login stored its session in Redis').toBeGreaterThan(keysBefore);

  const issued = await (await request.get(`${ISSUER}/__standin/issued-token-digests`)).json() as
    { token_length: number; digests: string[] };
  const issuedSet = new Set(issued.digests);
  const opaque = new RegExp(`(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{${issued.token_length}}(?![A-Za-z0-9_-])`, 'g');

  for (const key of keys) {
    const value = await valueOf(key);
    const where = `Redis key ${key}`;
    for (const plain of [USER.email, USER.name]) expect(value, `${where} holds ${plain}`).not.toContain(plain);
    expect(value, `${where} holds a JWT`).not.toMatch(JWT);
    expect(value, `${where} serializes a token field`).not.toMatch(TOKEN_FIELD);
    const leaked = (value.match(opaque) ?? [])
      .map((candidate) => createHash('sha256').update(candidate).digest('hex'))
      .filter((digest) => issuedSet.has(digest));
    expect(leaked, `${where} holds an access or refresh token issued to the app`).toEqual([]);
  }
});
