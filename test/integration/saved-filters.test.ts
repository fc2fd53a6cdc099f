// Saved filters: the versioned ClickHouse store, and the GraphQL mutations and queries over it (ownership,
// roles, validation paths, distributed names).
import 'reflect-metadata';
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { SavedFilterResolver, type SavedFilterContext } from '../../src/resolvers/saved-filter.resolver.ts';
import { authChecker } from '../../src/resolvers/auth-checker.ts';
import type { Role } from '../../src/resolvers/viewer.ts';
import { ClickHouseSavedFilterStore } from '../../src/storage/saved-filter-store.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { uniqueName } from '../helpers/context.ts';

// type-graphql (CommonJS) builds the schema with graphql's CommonJS build; vitest resolves an ESM `import` of
// graphql to its .mjs build, whose instanceof checks refuse the other's schema. Execute with the same build.
const { graphql } = createRequire(import.meta.url)('graphql') as typeof GraphQL;

let db: TestDatabase;
let store: ClickHouseSavedFilterStore;
let schema: GraphQLSchema;

beforeAll(async () => {
  db = await createMigratedDatabase('saved_filters');
  store = new ClickHouseSavedFilterStore(db.client);
  schema = await buildSchema({ resolvers: [SavedFilterResolver], authChecker, validate: false });
});

afterAll(async () => {
  await db?.drop();
});

describe('ClickHouseSavedFilterStore', () => {
  it('creates, reads by id and owner, lists the distributed ones', async () => {
    const alice = uniqueName('alice');
    const created = await store.create([
      { owner: alice, name: 'bright', definition: { mag: { max: 17 } }, distribute: false },
      { owner: alice, name: uniqueName('dist'), definition: { survey: ['ztf'] }, distribute: true },
    ]);
    expect(created).toHaveLength(2);
    expect(new Set(created.map((f) => f.id)).size).toBe(2);
    const [first, second] = created;
    expect(await store.byIds([first!.id, 'nope'])).toEqual([first]);
    expect((await store.byOwner([alice])).map((f) => f.id).sort()).toEqual(created.map((f) => f.id).sort());
    const distributed = await store.distributed();
    expect(distributed.map((f) => f.id)).toContain(second!.id);
    expect(distributed.map((f) => f.id)).not.toContain(first!.id);
    expect(distributed.find((f) => f.id === second!.id)?.definition).toEqual({ survey: ['ztf'] });
  });

  it('keeps the latest of quick successive updates, and a delete hides the filter everywhere', async () => {
    const bob = uniqueName('bob');
    const [filter] = await store.create([{ owner: bob, name: 'a', definition: {}, distribute: true }]);
    const [one] = await store.update([{ ...filter!, name: 'b', definition: { rising: true } }]);
    const [two] = await store.update([{ ...one!, name: 'c', distribute: false }]);
    expect(one!.version).toBeGreaterThan(filter!.version);
    expect(two!.version).toBeGreaterThan(one!.version);
    const [read] = await store.byIds([filter!.id]);
    expect(read).toMatchObject({ name: 'c', distribute: false, definition: { rising: true }, owner: bob });
    expect((await store.distributed()).map((f) => f.id)).not.toContain(filter!.id);

    await store.delete([filter!.id, 'unknown']);
    expect(await store.byIds([filter!.id])).toEqual([]);
    expect(await store.byOwner([bob])).toEqual([]);
  });
});

interface Result {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; extensions: Record<string, unknown> }[];
}

function contextFor(user: string | null, role: Role = 'annotator'): SavedFilterContext {
  return {
    viewer: user === null ? null : { user, role, tokenId: 't' },
    config: { maxConeRadiusArcsec: 3600 },
    // No overriding catalog: the valid classes are Fink's labels.
    stores: { savedFilters: store, catalogs: { overridingTypes: () => Promise.resolve([]) } },
    logger: createLogger({ level: 'silent' }),
    distributionPrefix: 'fx',
  };
}

async function run(
  ctx: SavedFilterContext,
  source: string,
  variableValues: Record<string, unknown> = {},
): Promise<Result> {
  const result = await graphql({ schema, source, variableValues, contextValue: ctx });
  return {
    data: result.data ?? null,
    errors: result.errors?.map((e) => ({ message: e.message, extensions: e.extensions })),
  };
}

const CREATE = `mutation ($name: String!, $filter: AlertFilter!, $distribute: Boolean) {
  createSavedFilter(name: $name, filter: $filter, distribute: $distribute) {
    id owner name definition distribute topics
  }
}`;
const UPDATE = `mutation ($id: String!, $name: String, $filter: AlertFilter, $distribute: Boolean) {
  updateSavedFilter(id: $id, name: $name, filter: $filter, distribute: $distribute) { id name definition distribute }
}`;
const DELETE = `mutation ($id: String!) { deleteSavedFilter(id: $id) }`;

function errorOf(result: Result): { code: unknown; argument: unknown } {
  expect(result.errors).toHaveLength(1);
  const { extensions } = result.errors![0]!;
  return { code: extensions.code, argument: extensions.argument };
}

async function create(user: string, variables: Record<string, unknown>) {
  const result = await run(contextFor(user), CREATE, variables);
  expect(result.errors).toBeUndefined();
  return result.data!.createSavedFilter as { id: string; name: string; definition: string; topics: string[] };
}

describe('saved filter resolvers', () => {
  it('saves the normalised filter, with topics when distributed', async () => {
    const alice = uniqueName('alice');
    const name = uniqueName('sn').toLowerCase();
    const saved = await create(alice, {
      name,
      distribute: true,
      filter: {
        survey: ['ztf'],
        mag: { min: null, max: 18.5 },
        or: [
          { cone: { ra: 10, dec: 20, radiusArcsec: 5 } },
          { compare: [{ field: 'RATE', op: 'LT', value: 0 }] },
        ],
      },
    });
    expect(JSON.parse(saved.definition)).toEqual({
      or: [
        { cone: { ra: 10, dec: 20, radiusArcsec: 5 } },
        { compare: [{ field: 'RATE', op: 'LT', value: 0 }] },
      ],
      survey: ['ztf'],
      mag: { max: 18.5 },
    });
    expect(saved.topics).toEqual([`fx_${name}_ztf`, `fx_${name}_lsst`]);
    const [stored] = await store.byIds([saved.id]);
    expect(stored).toMatchObject({ owner: alice, name, distribute: true });
  });

  it.each([
    [
      'an invalid filter',
      { name: 'x', filter: { and: [{}, { mag: { min: 19, max: 18 } }] } },
      'filter.and[1].mag.min',
    ],
    ['an unknown band', { name: 'x', filter: { band: ['r', 'w'] } }, 'filter.band[1]'],
    [
      'an unknown class',
      { name: 'x', filter: { or: [{ label: ['SN candidates'] }] } },
      'filter.or[0].label[0]',
    ],
    [
      'a cone above the server maximum',
      { name: 'x', filter: { cone: { ra: 1, dec: 1, radiusArcsec: 4000 } } },
      'filter.cone.radiusArcsec',
    ],
    [
      'a distributed name that is not topic-safe',
      { name: 'My Filter', filter: {}, distribute: true },
      'name',
    ],
    ['a built-in filter name', { name: 'sn_candidates', filter: {}, distribute: true }, 'name'],
    ['a blank name', { name: '  ', filter: {} }, 'name'],
  ])('refuses %s with BAD_USER_INPUT', async (_name, variables, argument) => {
    const result = await run(contextFor(uniqueName('u')), CREATE, variables);
    expect(errorOf(result)).toEqual({ code: 'BAD_USER_INPUT', argument });
  });

  it('refuses a second distributed filter of the same name, also through update', async () => {
    const name = uniqueName('dup').toLowerCase();
    await create(uniqueName('alice'), { name, filter: {}, distribute: true });
    const again = await run(contextFor(uniqueName('bob')), CREATE, { name, filter: {}, distribute: true });
    expect(errorOf(again)).toEqual({ code: 'BAD_USER_INPUT', argument: 'name' });

    const bob = uniqueName('bob');
    const own = await create(bob, { name, filter: {} });
    const update = await run(contextFor(bob), UPDATE, { id: own.id, distribute: true });
    expect(errorOf(update).code).toBe('BAD_USER_INPUT');
  });

  it('needs an annotator token to change filters', async () => {
    const anonymous = await run(contextFor(null), CREATE, { name: 'x', filter: {} });
    expect(errorOf(anonymous).code).toBe('UNAUTHENTICATED');
    const reader = await run(contextFor(uniqueName('r'), 'reader'), CREATE, { name: 'x', filter: {} });
    expect(errorOf(reader).code).toBe('FORBIDDEN');
  });

  it('lets only the owner or an admin change a filter', async () => {
    const alice = uniqueName('alice');
    const bob = uniqueName('bob');
    const shared = await create(alice, {
      name: uniqueName('pub').toLowerCase(),
      filter: {},
      distribute: true,
    });
    const mine = await create(alice, { name: 'private one', filter: { rising: true } });

    // Someone else's distributed filter is visible, so changing it is FORBIDDEN; a private one is not found.
    expect(errorOf(await run(contextFor(bob), UPDATE, { id: shared.id, name: 'x' })).code).toBe('FORBIDDEN');
    expect(errorOf(await run(contextFor(bob), DELETE, { id: shared.id })).code).toBe('FORBIDDEN');
    expect(errorOf(await run(contextFor(bob), UPDATE, { id: mine.id, name: 'x' })).code).toBe('NOT_FOUND');

    const byOwner = await run(contextFor(alice), UPDATE, {
      id: mine.id,
      filter: { label: ['SN candidate'] },
    });
    expect(byOwner.errors).toBeUndefined();
    expect(byOwner.data!.updateSavedFilter).toMatchObject({
      name: 'private one',
      definition: JSON.stringify({ label: ['SN candidate'] }),
    });

    const byAdmin = await run(contextFor(uniqueName('admin'), 'admin'), UPDATE, {
      id: shared.id,
      distribute: false,
    });
    expect(byAdmin.errors).toBeUndefined();
    expect(byAdmin.data!.updateSavedFilter).toMatchObject({ distribute: false });

    expect((await run(contextFor(alice), DELETE, { id: mine.id })).data).toEqual({ deleteSavedFilter: true });
    expect(await store.byIds([mine.id])).toEqual([]);
    expect(errorOf(await run(contextFor(alice), DELETE, { id: mine.id })).code).toBe('NOT_FOUND');
  });

  it("lists the viewer's own filters, and distributed ones on request; reads one by id", async () => {
    const alice = uniqueName('alice');
    const bob = uniqueName('bob');
    const shared = await create(alice, {
      name: uniqueName('seen').toLowerCase(),
      filter: {},
      distribute: true,
    });
    const hidden = await create(alice, { name: 'hidden', filter: {} });
    const LIST = `query ($all: Boolean) { savedFilters(includeDistributed: $all) { id } }`;
    const ids = async (user: string | null, all: boolean) =>
      ((await run(contextFor(user), LIST, { all })).data!.savedFilters as { id: string }[]).map((f) => f.id);

    expect((await ids(alice, false)).sort()).toEqual([shared.id, hidden.id].sort());
    expect(await ids(bob, false)).toEqual([]);
    expect(await ids(bob, true)).toContain(shared.id);
    expect(await ids(bob, true)).not.toContain(hidden.id);

    const ONE = `query ($id: String!) { savedFilter(id: $id) { id owner } }`;
    expect((await run(contextFor(null), ONE, { id: shared.id })).data).toEqual({
      savedFilter: { id: shared.id, owner: alice },
    });
    expect(errorOf(await run(contextFor(bob), ONE, { id: hidden.id })).code).toBe('NOT_FOUND');
    expect((await run(contextFor(alice), ONE, { id: hidden.id })).errors).toBeUndefined();
  });
});
