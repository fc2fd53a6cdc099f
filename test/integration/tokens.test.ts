// API tokens in ClickHouse: the store, the authenticator reading it, and `fink token` as a user runs it.
import type { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, issueToken, parseToken } from '../../src/server/auth.ts';
import { connectClickHouse, runCommand } from '../../src/storage/clickhouse.ts';
import { identifier, sql } from '../../src/storage/sql.ts';
import { ClickHouseTokenStore } from '../../src/storage/token-store.ts';
import { runFink } from '../helpers/cli.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { testConfig, uniqueName } from '../helpers/context.ts';

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'no error',
    (err: unknown) => (err as GraphQLError).extensions?.['code'] ?? (err as Error).message,
  );
}

describe('ClickHouseTokenStore', () => {
  let db: TestDatabase;
  let store: ClickHouseTokenStore;

  beforeAll(async () => {
    db = await createMigratedDatabase('tokens');
    store = new ClickHouseTokenStore(db.client);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('creates, reads, lists and revokes tokens, keeping only the hash', async () => {
    const alice = await issueToken(store, { user: 'alice', role: 'annotator' });
    const bob = await issueToken(store, { user: 'bob@example.org', role: 'admin' });

    const [read] = await store.byIds([alice.id]);
    expect(read).toMatchObject({ id: alice.id, user: 'alice', role: 'annotator', revoked: false });
    expect(read!.createdAt.getTime()).toBe(alice.createdAt.getTime());
    expect(read!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(read!.secretHash).not.toContain(parseToken(alice.token)!.secret);

    expect(await store.byIds(['0000000000000000'])).toEqual([]);
    expect((await store.byIds([alice.id, bob.id, alice.id])).map((t) => t.id).sort()).toEqual(
      [alice.id, bob.id].sort(),
    );

    expect(await store.revoke([alice.id, 'ffffffffffffffff'])).toEqual([alice.id]);
    // Revoking again writes a newer row that still says revoked.
    expect(await store.revoke([alice.id])).toEqual([alice.id]);
    const listed = await store.list();
    expect(listed.map((t) => [t.user, t.role, t.revoked])).toEqual(
      expect.arrayContaining([
        ['alice', 'annotator', true],
        ['bob@example.org', 'admin', false],
      ]),
    );
    expect(listed).toHaveLength(2);
    expect(listed.every((t) => !('secretHash' in t))).toBe(true);
  });

  it('authenticates a stored token until it is revoked', async () => {
    const authenticate = createAuthenticator(store, { cacheMs: 0 });
    const carol = await issueToken(store, { user: 'carol', role: 'reader' });
    expect(await authenticate(`Bearer ${carol.token}`)).toEqual({
      user: 'carol',
      role: 'reader',
      tokenId: carol.id,
    });
    const forged = `fink_${carol.id}_${'A'.repeat(43)}`;
    expect(await codeOf(authenticate(`Bearer ${forged}`))).toBe('UNAUTHENTICATED');
    await store.revoke([carol.id]);
    expect(await codeOf(authenticate(`Bearer ${carol.token}`))).toBe('UNAUTHENTICATED');
  });
});

describe('fink token', () => {
  const database = uniqueName('tokens_cli');
  // The ClickHouse the tests use, in a database of its own that the command creates and migrates itself.
  const env = { ...process.env, FINK_CLICKHOUSE__DATABASE: database };

  afterAll(async () => {
    const server = connectClickHouse(testConfig().clickhouse, { database: null });
    await runCommand(server, sql`DROP DATABASE IF EXISTS ${identifier(database, [database])}`);
    await server.close();
  });

  it('creates a token that authenticates, lists it, and revokes it', async () => {
    const created = await runFink(['token', 'create', '--user', 'dana', '--role', 'annotator'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = /^(fink_\S+)$/m.exec(created.stdout)?.[1];
    expect(token).toBeDefined();
    const id = parseToken(token!)!.id;
    expect(created.stdout).toContain(`created token ${id} for dana (annotator)`);

    const client = connectClickHouse({ ...testConfig().clickhouse, database });
    try {
      const authenticate = createAuthenticator(new ClickHouseTokenStore(client), { cacheMs: 0 });
      expect(await authenticate(`Bearer ${token}`)).toEqual({ user: 'dana', role: 'annotator', tokenId: id });

      const listed = await runFink(['token', 'list'], env);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+dana\\s+annotator\\s+.*active$`, 'm'));
      expect(listed.stdout).not.toContain(token);

      const revoked = await runFink(['token', 'revoke', id], env);
      expect(revoked.code).toBe(0);
      expect(await codeOf(authenticate(`Bearer ${token}`))).toBe('UNAUTHENTICATED');
      expect((await runFink(['token', 'list'], env)).stdout).toMatch(new RegExp(`^${id}\\s.*revoked$`, 'm'));

      const unknown = await runFink(['token', 'revoke', '0123456789abcdef'], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no token with id 0123456789abcdef');

      const badRole = await runFink(['token', 'create', '--user', 'dana', '--role', 'owner'], env);
      expect(badRole.code).not.toBe(0);
      expect(badRole.stderr).toContain('owner');
    } finally {
      await client.close();
    }
  });
});
