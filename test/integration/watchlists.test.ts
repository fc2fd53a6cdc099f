// Watchlists on the real ClickHouse and Kafka: the store, the pipeline stage with the hit recorder (rows in
// watchlist_hits, events on the events topic), and the GraphQL resolvers executed in process against a hand-built
// context (roles, ownership, private watchlists invisible to others, hit pagination, AstroObject.watchlists).
import 'reflect-metadata';
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import type { Kafka, Producer } from 'kafkajs';
import { Arg, buildSchema, Query, Resolver } from 'type-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { Pipeline } from '../../src/pipeline/framework.ts';
import { createWatchlistCache, createWatchlistStep } from '../../src/pipeline/steps/watchlist.step.ts';
import { createWatchlistHitRecorder } from '../../src/pipeline/watchlist-hits.ts';
import { AstroObject } from '../../src/resolvers/object.type.ts';
import { createWatchlistLoaders, type WatchlistContext } from '../../src/resolvers/watchlist-loaders.ts';
import { ObjectWatchlistsResolver, WatchlistResolver } from '../../src/resolvers/watchlist.resolver.ts';
import { authChecker } from '../../src/resolvers/auth-checker.ts';
import type { WatchlistHitEvent } from '../../src/events.ts';
import type { Role, Viewer } from '../../src/resolvers/viewer.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import {
  ClickHouseWatchlistStore,
  type Watchlist,
  type WatchlistHit,
  type WatchlistTarget,
} from '../../src/storage/watchlist-store.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { testConfig } from '../helpers/context.ts';
import { connectedProducer, consumeMessages, createTestTopic, testKafka } from '../helpers/kafka.ts';

const logger = createLogger({ level: 'silent' });
// The graphql instance type-graphql builds with: Node gives it graphql's CommonJS main, while an import here would
// get the ESM build, and graphql refuses a schema from "another module or realm".
const { graphql } = createRequire(import.meta.url)('graphql') as typeof GraphQL;

let db: TestDatabase;
let store: ClickHouseWatchlistStore;

beforeAll(async () => {
  db = await createMigratedDatabase('watchlists');
  store = new ClickHouseWatchlistStore(db.client);
});

afterAll(async () => {
  await db?.drop();
});

function target(ra: number, dec: number, radiusArcsec: number, label: string): WatchlistTarget {
  return { ra, dec, radiusArcsec, label };
}

function hit(watchlistId: string, alertId: bigint, jd: number, objectId = 'ZTF21aaaaaaa'): WatchlistHit {
  return {
    watchlistId,
    alertId,
    objectId,
    survey: 'ztf',
    targetLabel: 'm31',
    distanceArcsec: 0.5,
    jd,
    ra: 10.68,
    dec: 41.27,
  };
}

describe('ClickHouseWatchlistStore', () => {
  it('saves versions: updates keep or replace targets, deletes hide, visibility by owner and public', async () => {
    const [mine, theirs] = await store.save([
      {
        id: 'wl-store-1',
        owner: 'ann',
        name: 'Andromeda',
        public: false,
        previous: null,
        targets: [target(10.68, 41.27, 5, 'm31'), target(10.67, 40.87, 3, 'm32')],
      },
      { id: 'wl-store-2', owner: 'bob', name: 'Bob public', public: true, previous: null, targets: [] },
    ]);
    expect(mine).toMatchObject({ id: 'wl-store-1', targetCount: 2, public: false });
    expect(await store.byIds(['wl-store-1', 'wl-store-2', 'nope'])).toHaveLength(2);
    expect((await store.targets([mine!])).get('wl-store-1')).toEqual([
      target(10.68, 41.27, 5, 'm31'),
      target(10.67, 40.87, 3, 'm32'),
    ]);

    // Renaming keeps the same targets; replacing them writes a new set.
    const [renamed] = await store.save([
      { id: mine!.id, owner: 'ann', name: 'M31 group', public: true, previous: mine!, targets: null },
    ]);
    expect(renamed!.version).toBeGreaterThan(mine!.version);
    expect(renamed!.targetsVersion).toBe(mine!.targetsVersion);
    const [read] = await store.byIds([mine!.id]);
    expect(read).toMatchObject({
      name: 'M31 group',
      public: true,
      targetCount: 2,
      createdAt: mine!.createdAt,
    });
    expect((await store.targets([read!])).get(mine!.id)).toHaveLength(2);

    const [replaced] = await store.save([
      {
        id: mine!.id,
        owner: 'ann',
        name: 'M31 group',
        public: false,
        previous: read!,
        targets: [target(83.63, 22.01, 10, 'crab')],
      },
    ]);
    expect(replaced!.targetsVersion).toBeGreaterThan(read!.targetsVersion);
    const [afterReplace] = await store.byIds([mine!.id]);
    expect((await store.targets([afterReplace!])).get(mine!.id)).toEqual([target(83.63, 22.01, 10, 'crab')]);

    expect((await store.visibleTo('ann')).map((w) => w.id)).toEqual(['wl-store-2', 'wl-store-1']);
    expect((await store.visibleTo('bob')).map((w) => w.id)).toEqual(['wl-store-2']);
    expect((await store.visibleTo(null)).map((w) => w.id)).toEqual(['wl-store-2']);
    expect((await store.active()).map((w) => w.id)).toEqual(['wl-store-1', 'wl-store-2']);

    await store.save([{ ...theirs!, previous: theirs!, targets: [], deleted: true }]);
    expect(await store.byIds([theirs!.id])).toEqual([]);
    expect((await store.active()).map((w) => w.id)).toEqual(['wl-store-1']);
  });

  it('pages hits newest first with a cursor, replaces a re-written hit, and finds watchlists by object', async () => {
    const hits = [5, 1, 4, 2, 3].map((n) =>
      hit('wl-hits', BigInt(1000 + n), 2460000 + n / 10, `obj-${n % 2}`),
    );
    // The same jd for two alerts: the alert id breaks the tie.
    hits.push(hit('wl-hits', 999n, 2460000.5, 'obj-1'));
    await store.writeHits(hits);
    await store.writeHits([hit('wl-hits', 1005n, 2460000.5, 'obj-1')]);

    const pages: bigint[][] = [];
    let after = null;
    for (;;) {
      const page = await store.hits('wl-hits', { first: 4, after });
      pages.push(page.hits.map((h) => h.alertId));
      if (!page.hasNextPage) break;
      const last = page.hits.at(-1)!;
      after = { jd: last.jd, alertId: last.alertId };
    }
    expect(pages).toEqual([
      [1005n, 999n, 1004n, 1003n],
      [1002n, 1001n],
    ]);
    const rows = await queryRows<{ n: string }>(
      db.client,
      sql`SELECT count() AS n FROM watchlist_hits FINAL WHERE watchlist_id = 'wl-hits'`,
    );
    expect(Number(rows[0]!.n)).toBe(6);

    await store.writeHits([hit('wl-other', 7n, 2460001, 'obj-1')]);
    const byObject = await store.watchlistIdsByObjectIds(['obj-1', 'obj-0', 'obj-none']);
    expect(Object.fromEntries(byObject)).toEqual({
      'obj-1': ['wl-hits', 'wl-other'],
      'obj-0': ['wl-hits'],
      'obj-none': [],
    });
  });
});

describe('watchlist stage and hit recorder', () => {
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    kafka = testKafka();
    producer = await connectedProducer(kafka);
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  it('matches alerts against the stored watchlists, writes watchlist_hits and publishes the events', async () => {
    const [watchlist] = await store.save([
      {
        id: 'wl-pipeline',
        owner: 'ann',
        name: 'Pipeline',
        public: true,
        previous: null,
        targets: [target(150.1, 2.2, 2, 'cosmos-a'), target(359.9999, -5, 3, 'seam')],
      },
    ]);
    const eventsTopic = await createTestTopic(kafka, 'events');
    const pipeline = Pipeline.start<{
      alertId: bigint;
      objectId: string;
      survey: string;
      jd: number;
      ra: number;
      dec: number;
    }>().batch(createWatchlistStep({ watchlists: createWatchlistCache(store, { refreshIntervalMs: 0 }) }));
    const results = await pipeline.run([
      { alertId: 11n, objectId: 'ZTF-a', survey: 'ztf', jd: 2460100.5, ra: 150.1002, dec: 2.2 },
      { alertId: 12n, objectId: 'ZTF-b', survey: 'ztf', jd: 2460100.6, ra: 0.0002, dec: -5 },
      { alertId: 13n, objectId: 'ZTF-c', survey: 'ztf', jd: 2460100.7, ra: 150.2, dec: 2.2 },
    ]);
    const alerts = results.map((r) => (r.kind === 'ok' ? r.value : expect.unreachable()));
    expect(alerts.map((a) => a.watchlistHits.map((h) => h.targetLabel))).toEqual([
      ['cosmos-a'],
      ['seam'],
      [],
    ]);

    const record = createWatchlistHitRecorder({
      store,
      producer,
      eventsTopic,
      maxRequestBytes: 1_000_000,
      logger,
    });
    expect(await record(alerts)).toBe(2);

    const page = await store.hits(watchlist!.id, { first: 10, after: null });
    expect(page.hits.map((h) => [h.alertId, h.objectId, h.targetLabel])).toEqual([
      [12n, 'ZTF-b', 'seam'],
      [11n, 'ZTF-a', 'cosmos-a'],
    ]);
    expect(page.hits[1]!.distanceArcsec).toBeCloseTo(0.72, 2);

    const messages = await consumeMessages(kafka, eventsTopic, 2, 30_000);
    expect(messages.map((m) => m.key?.toString())).toEqual(['wl-pipeline', 'wl-pipeline']);
    const events = messages.map((m) => JSON.parse(m.value!.toString()) as WatchlistHitEvent);
    expect(events.sort((a, b) => a.alertId.localeCompare(b.alertId))).toEqual([
      {
        type: 'watchlist-hit',
        watchlistId: 'wl-pipeline',
        targetLabel: 'cosmos-a',
        alertId: '11',
        objectId: 'ZTF-a',
        distanceArcsec: expect.closeTo(0.72, 2) as unknown,
        jd: 2460100.5,
      },
      {
        type: 'watchlist-hit',
        watchlistId: 'wl-pipeline',
        targetLabel: 'seam',
        alertId: '12',
        objectId: 'ZTF-b',
        // 0.0003° of RA at dec -5°, across RA 0.
        distanceArcsec: expect.closeTo(0.0003 * 3600 * Math.cos((5 * Math.PI) / 180), 6) as unknown,
        jd: 2460100.6,
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// GraphQL

/** An object to hang AstroObject.watchlists on, without the alert store. */
@Resolver()
class TestObjectResolver {
  @Query(() => AstroObject)
  testObject(@Arg('objectId', () => String) objectId: string): AstroObject {
    return Object.assign(new AstroObject(), { objectId, survey: 'ztf', ra: 0, dec: 0 });
  }
}

describe('watchlist resolvers', () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildSchema({
      resolvers: [WatchlistResolver, ObjectWatchlistsResolver, TestObjectResolver],
      authChecker,
      validate: false,
    });
  });

  function viewer(user: string, role: Role): Viewer {
    return { user, role, tokenId: `token-${user}` };
  }
  const ANN = viewer('ann', 'annotator');
  const BOB = viewer('bob', 'annotator');
  const READER = viewer('rita', 'reader');
  const ADMIN = viewer('root', 'admin');

  async function run(
    who: Viewer | null,
    source: string,
    variables: Record<string, unknown> = {},
  ): Promise<ExecutionResult> {
    const context: WatchlistContext = {
      viewer: who,
      config: testConfig().server,
      stores: { watchlists: store },
      loaders: { watchlists: createWatchlistLoaders(store) },
      logger,
    };
    return graphql({ schema, source, variableValues: variables, contextValue: context });
  }

  function codeOf(result: ExecutionResult): unknown {
    return result.errors?.[0]?.extensions?.['code'];
  }

  async function ok<T = Record<string, unknown>>(
    who: Viewer | null,
    source: string,
    variables?: Record<string, unknown>,
  ): Promise<T> {
    const result = await run(who, source, variables);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return result.data as T;
  }

  const CREATE = `mutation ($name: String!, $public: Boolean, $targets: [WatchlistTargetInput!]!) {
    createWatchlist(name: $name, public: $public, targets: $targets) { id name owner public targetCount }
  }`;
  const GET = `query ($id: String!) { watchlist(id: $id) { id name public targetCount targets { ra dec radiusArcsec label } } }`;
  const UPDATE = `mutation ($id: String!, $name: String, $public: Boolean, $targets: [WatchlistTargetInput!]) {
    updateWatchlist(id: $id, name: $name, public: $public, targets: $targets) { id name public targetCount }
  }`;
  const DELETE = `mutation ($id: String!) { deleteWatchlist(id: $id) }`;
  const LIST = `{ watchlists { id } }`;

  async function create(who: Viewer, name: string, isPublic: boolean): Promise<string> {
    const data = await ok<{ createWatchlist: { id: string } }>(who, CREATE, {
      name,
      public: isPublic,
      targets: [
        { ra: 10.68, dec: 41.27, radiusArcsec: 5, label: 'm31' },
        { ra: 83.63, dec: 22.01, radiusArcsec: 2 },
      ],
    });
    return data.createWatchlist.id;
  }

  it('creates a watchlist for an annotator; refuses anonymous and readers', async () => {
    const targets = [{ ra: 1, dec: 1, radiusArcsec: 1 }];
    expect(codeOf(await run(null, CREATE, { name: 'x', targets }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await run(READER, CREATE, { name: 'x', targets }))).toBe('FORBIDDEN');

    const data = await ok<{ createWatchlist: Record<string, unknown> }>(ANN, CREATE, {
      name: '  Local group  ',
      targets: [
        { ra: 10.68, dec: 41.27, radiusArcsec: 5, label: 'm31' },
        { ra: 83.63, dec: 22.01, radiusArcsec: 2 },
      ],
    });
    expect(data.createWatchlist).toMatchObject({
      name: 'Local group',
      owner: 'ann',
      public: false,
      targetCount: 2,
    });
    const got = await ok<{ watchlist: { targets: WatchlistTarget[] } }>(ANN, GET, {
      id: data.createWatchlist['id'],
    });
    expect(got.watchlist.targets).toEqual([
      { ra: 10.68, dec: 41.27, radiusArcsec: 5, label: 'm31' },
      { ra: 83.63, dec: 22.01, radiusArcsec: 2, label: '83.63000 22.01000' },
    ]);
  });

  const one = (t: Record<string, unknown>) => ({ targets: [{ ra: 1, dec: 1, radiusArcsec: 1, ...t }] });
  it.each([
    ['an empty name', 'name', { name: '   ' }],
    ['a name over 100 characters', 'name', { name: 'x'.repeat(101) }],
    ['ra of 360', 'targets[0].ra', one({ ra: 360 })],
    [
      'dec beyond the pole',
      'targets[1].dec',
      { targets: [...one({}).targets, ...one({ dec: -90.5 }).targets] },
    ],
    ['a radius over 3600"', 'targets[0].radiusArcsec', one({ radiusArcsec: 3600.5 })],
    ['a zero radius', 'targets[0].radiusArcsec', one({ radiusArcsec: 0 })],
    ['a label over 100 characters', 'targets[0].label', one({ label: 'l'.repeat(101) })],
    ['10,001 targets', 'targets', { targets: Array.from({ length: 10_001 }, () => one({}).targets[0]) }],
  ])('refuses %s (BAD_USER_INPUT on %s)', async (_, argument, change) => {
    const result = await run(ANN, CREATE, {
      name: 'ok',
      targets: [{ ra: 1, dec: 1, radiusArcsec: 1 }],
      ...change,
    });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.extensions?.['argument']).toBe(argument);
  });

  it('accepts 10,000 targets', async () => {
    const targets = Array.from({ length: 10_000 }, (_, i) => ({
      ra: (i * 0.036) % 360,
      dec: -60 + (i % 120),
      radiusArcsec: 2,
    }));
    const data = await ok<{ createWatchlist: { id: string; targetCount: number } }>(ANN, CREATE, {
      name: 'big',
      targets,
    });
    expect(data.createWatchlist.targetCount).toBe(10_000);
    const got = await ok<{ watchlist: { targets: unknown[] } }>(ANN, GET, { id: data.createWatchlist.id });
    expect(got.watchlist.targets).toHaveLength(10_000);
  });

  it('hides private watchlists from others (NOT_FOUND), lets only the owner or an admin change them', async () => {
    const secret = await create(ANN, 'Ann private', false);
    const shared = await create(ANN, 'Ann public', true);

    // Another annotator: the private one does not exist for them, the public one is read-only.
    expect(codeOf(await run(BOB, GET, { id: secret }))).toBe('NOT_FOUND');
    expect(codeOf(await run(null, GET, { id: secret }))).toBe('NOT_FOUND');
    expect(codeOf(await run(BOB, GET, { id: 'no-such-watchlist' }))).toBe('NOT_FOUND');
    expect(codeOf(await run(BOB, UPDATE, { id: secret, name: 'mine now' }))).toBe('NOT_FOUND');
    expect(codeOf(await run(BOB, DELETE, { id: secret }))).toBe('NOT_FOUND');
    expect((await ok<{ watchlist: { name: string } }>(BOB, GET, { id: shared })).watchlist.name).toBe(
      'Ann public',
    );
    expect(codeOf(await run(BOB, UPDATE, { id: shared, name: 'mine now' }))).toBe('FORBIDDEN');
    expect(codeOf(await run(BOB, DELETE, { id: shared }))).toBe('FORBIDDEN');
    expect(codeOf(await run(READER, UPDATE, { id: shared, name: 'x' }))).toBe('FORBIDDEN');

    const bobSees = (await ok<{ watchlists: { id: string }[] }>(BOB, LIST)).watchlists.map((w) => w.id);
    expect(bobSees).toContain(shared);
    expect(bobSees).not.toContain(secret);
    const anonSees = (await ok<{ watchlists: { id: string }[] }>(null, LIST)).watchlists.map((w) => w.id);
    expect(anonSees).toContain(shared);
    expect(anonSees).not.toContain(secret);
    expect((await ok<{ watchlists: { id: string }[] }>(ANN, LIST)).watchlists.map((w) => w.id)).toEqual(
      expect.arrayContaining([secret, shared]),
    );

    // The owner renames (targets kept) then replaces the targets; an admin may change it too.
    const renamed = await ok<{ updateWatchlist: Record<string, unknown> }>(ANN, UPDATE, {
      id: secret,
      name: 'Renamed',
    });
    expect(renamed.updateWatchlist).toMatchObject({ name: 'Renamed', public: false, targetCount: 2 });
    await ok(ANN, UPDATE, { id: secret, targets: [{ ra: 200, dec: -30, radiusArcsec: 60, label: 'only' }] });
    const after = await ok<{ watchlist: { targetCount: number; targets: { label: string }[] } }>(ADMIN, GET, {
      id: secret,
    });
    expect(after.watchlist.targetCount).toBe(1);
    expect(after.watchlist.targets.map((t) => t.label)).toEqual(['only']);
    expect(
      (await ok<{ updateWatchlist: { public: boolean } }>(ADMIN, UPDATE, { id: secret, public: true }))
        .updateWatchlist.public,
    ).toBe(true);

    // Delete: owner yes; afterwards it is gone for everyone.
    expect(await ok(ANN, DELETE, { id: secret })).toEqual({ deleteWatchlist: true });
    expect(codeOf(await run(ANN, GET, { id: secret }))).toBe('NOT_FOUND');
    expect(codeOf(await run(ADMIN, DELETE, { id: secret }))).toBe('NOT_FOUND');
    expect(await ok(ADMIN, DELETE, { id: shared })).toEqual({ deleteWatchlist: true });
  });

  it('pages hits newest first through cursors and refuses a forged cursor', async () => {
    const id = await create(ANN, 'Paged', true);
    await store.writeHits([1, 2, 3, 4, 5].map((n) => hit(id, BigInt(5000 + n), 2460200 + n)));
    const PAGE = `query ($id: String!, $first: Int, $after: String) {
      watchlist(id: $id) { hits(first: $first, after: $after) { nodes { alertId jd targetLabel } endCursor hasNextPage } }
    }`;
    type Page = {
      watchlist: { hits: { nodes: { alertId: string }[]; endCursor: string | null; hasNextPage: boolean } };
    };
    const seen: string[][] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: Page = await ok<Page>(BOB, PAGE, { id, first: 2, after });
      seen.push(page.watchlist.hits.nodes.map((n) => n.alertId));
      if (!page.watchlist.hits.hasNextPage) break;
      after = page.watchlist.hits.endCursor;
    }
    expect(seen).toEqual([['5005', '5004'], ['5003', '5002'], ['5001']]);

    const forged = await run(BOB, PAGE, { id, first: 2, after: 'not-a-cursor' });
    expect(codeOf(forged)).toBe('BAD_USER_INPUT');
    expect(codeOf(await run(BOB, PAGE, { id, first: 0 }))).toBe('BAD_USER_INPUT');
  });

  it('lists on an object the watchlists it hit that the viewer may see', async () => {
    const privateId = await create(ANN, 'Object private', false);
    const publicId = await create(ANN, 'Object public', true);
    const deletedId = await create(ANN, 'Object deleted', true);
    await store.writeHits([
      hit(privateId, 7001n, 2460300, 'ZTF-watched'),
      hit(publicId, 7002n, 2460301, 'ZTF-watched'),
      hit(deletedId, 7003n, 2460302, 'ZTF-watched'),
      hit(publicId, 7004n, 2460303, 'ZTF-other'),
    ]);
    await ok(ANN, DELETE, { id: deletedId });
    const QUERY = `{ a: testObject(objectId: "ZTF-watched") { watchlists { id } }
                     b: testObject(objectId: "ZTF-other") { watchlists { id } }
                     c: testObject(objectId: "ZTF-none") { watchlists { id } } }`;
    type Result = Record<'a' | 'b' | 'c', { watchlists: { id: string }[] }>;
    const ids = (data: Result) => [data.a, data.b, data.c].map((o) => o.watchlists.map((w) => w.id).sort());
    expect(ids(await ok<Result>(ANN, QUERY))).toEqual([[privateId, publicId].sort(), [publicId], []]);
    expect(ids(await ok<Result>(BOB, QUERY))).toEqual([[publicId], [publicId], []]);
    expect(ids(await ok<Result>(null, QUERY))).toEqual([[publicId], [publicId], []]);
    expect(ids(await ok<Result>(ADMIN, QUERY))).toEqual([[privateId, publicId].sort(), [publicId], []]);
  });
});

export type { Watchlist };
