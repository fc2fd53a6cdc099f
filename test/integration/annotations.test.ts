// Annotations and votes in ClickHouse: the store, then the resolvers executed in-process on a schema built from
// them (roles, versions, retraction, consensus, events, batching).
import 'reflect-metadata';
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import { pino } from 'pino';
import { Arg, buildSchema, Query, Resolver } from 'type-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnnotationResolver, ObjectAnnotationsResolver } from '../../src/resolvers/annotation.resolver.ts';
import { createCollabLoaders, type CollabContext } from '../../src/resolvers/collab-loaders.ts';
import { AstroObject } from '../../src/resolvers/object.type.ts';
import { VoteResolver } from '../../src/resolvers/vote.resolver.ts';
import { authChecker } from '../../src/resolvers/auth-checker.ts';
import type { ServerEvent } from '../../src/events.ts';
import type { Role, Viewer } from '../../src/resolvers/viewer.ts';
import {
  ClickHouseAnnotationStore,
  type AnnotationRecord,
  type AnnotationStore,
} from '../../src/storage/annotation-store.ts';
import { ClickHouseVoteStore, type VoteStore } from '../../src/storage/vote-store.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { uniqueName } from '../helpers/context.ts';

// The graphql instance type-graphql builds with: Node gives it graphql's CommonJS main, while an import here,
// transformed by Vite, would get the ESM build and refuse the schema as "from another module or realm".
const { graphql } = createRequire(import.meta.url)('graphql') as typeof GraphQL;

@Resolver()
class TestObjectResolver {
  @Query(() => AstroObject)
  object(@Arg('objectId', () => String) objectId: string): AstroObject {
    return {
      objectId,
      survey: 'ztf',
      ra: 10,
      dec: 20,
      firstJd: 2460000.5,
      lastJd: 2460001.5,
      band: 'g',
      mag: 18.5,
      roid: 0,
      ssName: null,
      label: 'SN candidate',
      ndet: 3,
      nlim: 1,
      peakMag: 18.2,
      colorGr: null,
      rate: null,
      rising: null,
      lastAlertId: '1234567890123456789',
    };
  }
}

/** What the operations below read back (only the fields each selects are present). */
interface Annotation {
  id: string;
  version: number;
  text: string;
  author: string;
  retracted: boolean;
}
interface ObjectOut {
  annotations: Annotation[];
  votes: { user: string }[];
  consensus: {
    share: number;
    totalConfidence: number;
    breakdown: { label: string; voters: number; confidence: number }[];
  };
}

/**
 * The archive's objects as the resolvers look them up: here every id exists but those starting with
 * `ZTFmissing` (the API tests check the lookup against the real objects table).
 */
const ARCHIVE = {
  load: (objectId: string) => Promise.resolve(objectId.startsWith('ZTFmissing') ? null : { objectId }),
};

const viewer = (user: string, role: Role): Viewer => ({ user, role, tokenId: `token-${user}` });
const ALICE = viewer('alice', 'annotator');
const BOB = viewer('bob', 'annotator');
const READER = viewer('rita', 'reader');
const ADMIN = viewer('ada', 'admin');

function record(overrides: Partial<AnnotationRecord> = {}): AnnotationRecord {
  return {
    annotationId: crypto.randomUUID(),
    version: 1,
    objectId: 'ZTF21store',
    author: 'alice',
    text: 'first words',
    tags: ['a', 'b'],
    classification: null,
    citations: [],
    retracted: false,
    createdAt: new Date('2024-01-01T00:00:00Z'),
    updatedAt: new Date('2024-01-01T00:00:00Z'),
    ...overrides,
  };
}

describe('ClickHouseAnnotationStore', () => {
  let db: TestDatabase;
  let store: ClickHouseAnnotationStore;
  let votes: ClickHouseVoteStore;

  beforeAll(async () => {
    db = await createMigratedDatabase('collab');
    store = new ClickHouseAnnotationStore(db.client);
    votes = new ClickHouseVoteStore(db.client);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('keeps every version and answers the latest, with citations, tags and quoting intact', async () => {
    const v1 = record({
      text: "it's \\ a 'test'\nwith ☄️",
      citations: [
        { kind: 'DOI', value: '10.1088/1538-3873/aaecbe' },
        { kind: 'TNS', value: 'AT 2023abc' },
      ],
      classification: 'SN Ia',
    });
    const v2 = {
      ...v1,
      version: 2,
      text: 'edited',
      tags: [],
      citations: [],
      updatedAt: new Date('2024-01-02T00:00:00Z'),
    };
    const other = record({ objectId: 'ZTF21other', createdAt: new Date('2023-12-31T00:00:00Z') });
    await store.writeAnnotations([v1, other]);
    await store.writeAnnotations([v2]);
    // A retried write of the same version stays one version.
    await store.writeAnnotations([v2]);

    const latest = await store.byIds([v1.annotationId, 'unknown']);
    expect(latest).toEqual([{ ...v2, createdAt: v1.createdAt }]);

    const history = await store.history([v1.annotationId]);
    expect(history.map((h) => [h.version, h.text, h.citations.length])).toEqual([
      [1, v1.text, 2],
      [2, 'edited', 0],
    ]);
    expect(history[0]).toEqual(v1);

    const byObject = await store.byObjectIds(['ZTF21store', 'ZTF21other', 'ZTF21none']);
    expect(byObject.map((a) => [a.objectId, a.annotationId, a.version])).toEqual([
      ['ZTF21other', other.annotationId, 1],
      ['ZTF21store', v1.annotationId, 2],
    ]);
  });

  it('keeps one current vote per user per object', async () => {
    const at = new Date('2024-02-01T00:00:00Z');
    await votes.write([
      { objectId: 'ZTF21votes', user: 'alice', label: 'AGN', confidence: 0.3, comment: null, createdAt: at },
      {
        objectId: 'ZTF21votes',
        user: 'bob',
        label: 'SN Ia',
        confidence: 0.8,
        comment: 'spectrum',
        createdAt: at,
      },
    ]);
    await votes.write([
      {
        objectId: 'ZTF21votes',
        user: 'alice',
        label: 'SN Ia',
        confidence: 0.6,
        comment: null,
        createdAt: at,
      },
    ]);
    expect(await votes.byObjectIds(['ZTF21votes', 'ZTF21novotes'])).toEqual([
      {
        objectId: 'ZTF21votes',
        user: 'alice',
        label: 'SN Ia',
        confidence: 0.6,
        comment: null,
        createdAt: at,
      },
      {
        objectId: 'ZTF21votes',
        user: 'bob',
        label: 'SN Ia',
        confidence: 0.8,
        comment: 'spectrum',
        createdAt: at,
      },
    ]);
  });
});

describe('annotation and vote resolvers', () => {
  let db: TestDatabase;
  let store: AnnotationStore;
  let votes: VoteStore;
  let schema: GraphQLSchema;
  const events: ServerEvent[] = [];
  /** Store calls by method, to see the loaders batch. */
  const calls = new Map<string, number>();

  beforeAll(async () => {
    db = await createMigratedDatabase('collab_gql');
    /** Counts each call of a store's methods under `prefix`. */
    const counted = <T extends object>(real: T, prefix: string): T =>
      new Proxy(real, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.set(`${prefix}${String(name)}`, (calls.get(`${prefix}${String(name)}`) ?? 0) + 1);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    store = counted(new ClickHouseAnnotationStore(db.client), '');
    votes = counted(new ClickHouseVoteStore(db.client), 'votes.');
    schema = await buildSchema({
      resolvers: [AnnotationResolver, ObjectAnnotationsResolver, VoteResolver, TestObjectResolver],
      authChecker,
      validate: false,
    });
  });
  afterAll(async () => {
    await db.drop();
  });

  /** One request: a fresh context (and loaders), as the server builds per request. */
  async function run<T = Record<string, Annotation>>(
    who: Viewer | null,
    source: string,
    variableValues: Record<string, unknown> = {},
  ): Promise<ExecutionResult<T>> {
    const contextValue: CollabContext = {
      viewer: who,
      stores: { annotations: store, votes },
      loaders: { collab: createCollabLoaders(store, votes), object: ARCHIVE },
      events: {
        publish: (published) => {
          events.push(...published);
          return Promise.resolve();
        },
      },
      logger: pino({ level: 'silent' }),
    };
    return (await graphql({ schema, source, variableValues, contextValue })) as ExecutionResult<T>;
  }

  function codeOf(result: ExecutionResult): unknown {
    return (
      result.errors?.[0]?.extensions['code'] ??
      (result.errors === undefined ? 'OK' : result.errors[0]?.message)
    );
  }

  const ADD = `mutation($objectId: String!, $input: AnnotationInput!) {
    addAnnotation(objectId: $objectId, input: $input) { id version author text tags classification retracted
      citations { kind value url } }
  }`;
  const EDIT = `mutation($id: String!, $version: Int!, $input: AnnotationInput!) {
    editAnnotation(annotationId: $id, version: $version, input: $input) { id version text author }
  }`;
  const RETRACT = `mutation($id: String!) { retractAnnotation(annotationId: $id) { id version retracted } }`;
  const RETRACT_AT = `mutation($id: String!, $version: Int!) {
    retractAnnotation(annotationId: $id, version: $version) { id version retracted }
  }`;
  const VOTE = `mutation($objectId: String!, $label: String!, $confidence: Float!, $comment: String) {
    castVote(objectId: $objectId, label: $label, confidence: $confidence, comment: $comment) {
      objectId user label confidence comment }
  }`;

  async function aliceAnnotation(objectId: string): Promise<string> {
    const result = await run(ALICE, ADD, { objectId, input: { text: 'by alice' } });
    expect(result.errors).toBeUndefined();
    return result.data!['addAnnotation']!.id;
  }

  type Operation = 'add' | 'edit' | 'retract' | 'vote';
  it.each<[string, Viewer | null, Operation, string]>([
    ['anonymous', null, 'add', 'UNAUTHENTICATED'],
    ['anonymous', null, 'edit', 'UNAUTHENTICATED'],
    ['anonymous', null, 'retract', 'UNAUTHENTICATED'],
    ['anonymous', null, 'vote', 'UNAUTHENTICATED'],
    ['a reader', READER, 'add', 'FORBIDDEN'],
    ['a reader', READER, 'edit', 'FORBIDDEN'],
    ['a reader', READER, 'retract', 'FORBIDDEN'],
    ['a reader', READER, 'vote', 'FORBIDDEN'],
    ['the author', ALICE, 'add', 'OK'],
    ['the author', ALICE, 'edit', 'OK'],
    ['the author', ALICE, 'retract', 'OK'],
    ['an annotator', ALICE, 'vote', 'OK'],
    ['another annotator', BOB, 'add', 'OK'],
    ['another annotator', BOB, 'edit', 'FORBIDDEN'],
    ['another annotator', BOB, 'retract', 'FORBIDDEN'],
    ['another annotator', BOB, 'vote', 'OK'],
    ['an admin', ADMIN, 'add', 'OK'],
    ['an admin', ADMIN, 'edit', 'OK'],
    ['an admin', ADMIN, 'retract', 'OK'],
    ['an admin', ADMIN, 'vote', 'OK'],
  ])('%s: %s -> %s', async (_, who, operation, expected) => {
    const objectId = uniqueName('ZTF');
    const id = operation === 'edit' || operation === 'retract' ? await aliceAnnotation(objectId) : '';
    const result =
      operation === 'add'
        ? await run(who, ADD, { objectId, input: { text: 'note' } })
        : operation === 'edit'
          ? await run(who, EDIT, { id, version: 1, input: { text: 'changed' } })
          : operation === 'retract'
            ? await run(who, RETRACT, { id })
            : await run(who, VOTE, { objectId, label: 'SN Ia', confidence: 0.5 });
    expect(codeOf(result)).toBe(expected);
    // What was refused left nothing behind; what was allowed is visible.
    const after = await run<{ object: ObjectOut }>(
      null,
      `query($o: String!) { object(objectId: $o) { annotations(includeRetracted: true) { text version } votes { user } } }`,
      { o: objectId },
    );
    const object = after.data!.object;
    const written =
      operation === 'add'
        ? object.annotations.length === 1
        : operation === 'vote'
          ? object.votes.length === 1
          : object.annotations[0]?.version === 2;
    expect(written).toBe(expected === 'OK');
  });

  it.each([
    ['an annotation', 'add'],
    ['a vote', 'vote'],
  ])(
    'refuses %s on an object the archive does not hold with NOT_FOUND, writing and publishing nothing',
    async (_, operation) => {
      const objectId = uniqueName('ZTFmissing');
      const published = events.length;
      const result =
        operation === 'add'
          ? await run(ALICE, ADD, { objectId, input: { text: 'note' } })
          : await run(ALICE, VOTE, { objectId, label: 'SN Ia', confidence: 0.5 });
      expect(codeOf(result)).toBe('NOT_FOUND');
      expect(result.errors?.[0]?.message).toBe(`object ${objectId} not found`);
      expect(await store.byObjectIds([objectId])).toEqual([]);
      expect(await votes.byObjectIds([objectId])).toEqual([]);
      expect(events.length).toBe(published);
    },
  );

  it('refuses a vote outside the vocabulary, and reads back a vote stored with another label', async () => {
    const objectId = uniqueName('ZTF');
    const refused = await run(ALICE, VOTE, { objectId, label: 'probably a supernova', confidence: 0.5 });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toContain('voteLabels');
    // A vote cast before the vocabulary existed keeps its label.
    await votes.write([
      { objectId, user: 'old', label: 'SN-like thing', confidence: 1, comment: null, createdAt: new Date(0) },
    ]);
    const read = await run<{ object: ObjectOut }>(
      null,
      `query($o: String!) { object(objectId: $o) { votes { user } consensus { breakdown { label voters confidence } } } }`,
      { o: objectId },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data!.object.consensus.breakdown).toEqual([
      { label: 'SN-like thing', voters: 1, confidence: 1 },
    ]);
  });

  it('keeps the history of edits, hides a retracted annotation, and publishes each version', async () => {
    const objectId = uniqueName('ZTF');
    const added = await run(ALICE, ADD, {
      objectId,
      input: {
        text: 'blue and rising',
        tags: ['young', 'young', 'sn'],
        classification: 'SN II',
        citations: [
          { kind: 'DOI', value: 'https://doi.org/10.1088/1538-3873/aaecbe' },
          { kind: 'ATEL', value: 'ATel #15000' },
        ],
      },
    });
    expect(added.errors).toBeUndefined();
    const annotation = added.data!['addAnnotation'];
    expect(annotation).toMatchObject({
      version: 1,
      author: 'alice',
      tags: ['young', 'sn'],
      classification: 'SN II',
      retracted: false,
      citations: [
        { kind: 'DOI', value: '10.1088/1538-3873/aaecbe', url: 'https://doi.org/10.1088/1538-3873/aaecbe' },
        { kind: 'ATEL', value: '15000', url: 'https://www.astronomerstelegram.org/?read=15000' },
      ],
    });
    const id = annotation!.id;
    expect(
      (await run(ALICE, EDIT, { id, version: 1, input: { text: 'second' } })).data!['editAnnotation']!
        .version,
    ).toBe(2);
    expect(
      (await run(ADMIN, EDIT, { id, version: 2, input: { text: 'third' } })).data!['editAnnotation'],
    ).toMatchObject({
      version: 3,
      text: 'third',
      author: 'alice',
    });

    const read = await run(
      null,
      `query($id: String!) { annotation(id: $id) { version text history { version text classification } } }`,
      { id },
    );
    expect(read.data!['annotation']).toEqual({
      version: 3,
      text: 'third',
      history: [
        { version: 1, text: 'blue and rising', classification: 'SN II' },
        { version: 2, text: 'second', classification: null },
        { version: 3, text: 'third', classification: null },
      ],
    });

    const retracted = await run(ALICE, RETRACT, { id });
    expect(retracted.data!['retractAnnotation']).toEqual({ id, version: 4, retracted: true });
    // A second retraction writes nothing.
    expect((await run(ALICE, RETRACT, { id })).data!['retractAnnotation']!.version).toBe(4);
    expect(codeOf(await run(ALICE, EDIT, { id, version: 4, input: { text: 'too late' } }))).toBe(
      'BAD_USER_INPUT',
    );

    const object = await run<{ object: unknown }>(
      null,
      `query($o: String!) { object(objectId: $o) {
        visible: annotations { id }
        all: annotations(includeRetracted: true) { id version retracted text }
      } }`,
      { o: objectId },
    );
    expect(object.data!['object']).toEqual({
      visible: [],
      all: [{ id, version: 4, retracted: true, text: 'third' }],
    });

    const published = events.filter((e) => e.type === 'annotation' && e.annotationId === id);
    expect(published).toEqual(
      [1, 2, 3, 4].map((version) => ({ type: 'annotation', annotationId: id, version, objectId })),
    );
  });

  it('answers NOT_FOUND for an unknown annotation and BAD_USER_INPUT naming the argument', async () => {
    expect(codeOf(await run(ADMIN, RETRACT, { id: crypto.randomUUID() }))).toBe('NOT_FOUND');
    expect(codeOf(await run(ADMIN, EDIT, { id: 'not-an-id', version: 1, input: { text: 'x' } }))).toBe(
      'NOT_FOUND',
    );
    expect((await run(null, `{ annotation(id: "nope") { id } }`)).data).toEqual({ annotation: null });

    const cases: [Record<string, unknown>, string][] = [
      [{ text: 'x'.repeat(10_001) }, 'input.text'],
      [{ text: 'ok', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'input.tags'],
      [{ text: 'ok', citations: [{ kind: 'ADS', value: 'not a bibcode' }] }, 'input.citations[0].value'],
    ];
    for (const [input, argument] of cases) {
      const result = await run(ALICE, ADD, { objectId: 'ZTF21abc', input });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
    const vote = await run(ALICE, VOTE, { objectId: 'ZTF21abc', label: 'AGN', confidence: 1.5 });
    expect(vote.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'confidence' });
    // A citation kind outside the enum never reaches the resolver.
    const kind = await run(ALICE, ADD, {
      objectId: 'ZTF21abc',
      input: { text: 'ok', citations: [{ kind: 'ARXIV', value: '2301.00001' }] },
    });
    expect(kind.errors).toHaveLength(1);
    expect(kind.data).toBeUndefined();
  });

  it('makes edits compare-and-set: of two clients racing from one version, one wins, the other gets CONFLICT', async () => {
    const id = await aliceAnnotation(uniqueName('ZTF'));
    for (let round = 1; round <= 5; round++) {
      // Both read version `round` and edit it at the same moment (each a request of its own).
      const [first, second] = await Promise.all([
        run(ALICE, EDIT, { id, version: round, input: { text: `alice ${round}` } }),
        run(ADMIN, EDIT, { id, version: round, input: { text: `admin ${round}` } }),
      ]);
      const codes = [codeOf(first), codeOf(second)].sort();
      expect(codes).toEqual(['CONFLICT', 'OK']);
      const winner = codeOf(first) === 'OK' ? first : second;
      const loser = codeOf(first) === 'OK' ? second : first;
      expect(winner.data!['editAnnotation']!.version).toBe(round + 1);
      expect(loser.errors![0]!.message).toContain(`is at version ${round + 1}, not ${round}`);
    }
    // Nothing lost: each round's winner is a version of the history, in order; no version written twice.
    const read = await run(
      null,
      `query($id: String!) { annotation(id: $id) { version history { version } } }`,
      {
        id,
      },
    );
    expect(read.data!['annotation']).toEqual({
      version: 6,
      history: [1, 2, 3, 4, 5, 6].map((version) => ({ version })),
    });
    // A retraction naming a stale version conflicts too; with the current one it goes through.
    expect(codeOf(await run(ALICE, RETRACT_AT, { id, version: 5 }))).toBe('CONFLICT');
    expect((await run(ALICE, RETRACT_AT, { id, version: 6 })).data!['retractAnnotation']).toMatchObject({
      version: 7,
      retracted: true,
    });
  });

  it('replaces a user’s vote and computes the consensus from the current votes', async () => {
    const objectId = uniqueName('ZTF');
    const votes: [Viewer, string, number, string | null][] = [
      [ALICE, 'SN Ia', 0.9, 'Si II absorption'],
      [BOB, 'SN Ia', 0.6, null],
      [BOB, 'AGN', 0.5, 'changed my mind'],
      [ADMIN, 'AGN', 0.2, null],
    ];
    for (const [who, label, confidence, comment] of votes) {
      const result = await run(who, VOTE, { objectId, label, confidence, comment });
      expect(result.data!['castVote']).toEqual({ objectId, user: who.user, label, confidence, comment });
    }
    const result = await run<{ object: ObjectOut }>(
      null,
      `query($o: String!) { object(objectId: $o) {
        votes { user label confidence comment }
        consensus { objectId label share voters totalConfidence breakdown { label voters confidence share } }
      } }`,
      { o: objectId },
    );
    const object = result.data!.object;
    expect(object.votes).toEqual([
      { user: 'ada', label: 'AGN', confidence: 0.2, comment: null },
      { user: 'alice', label: 'SN Ia', confidence: 0.9, comment: 'Si II absorption' },
      { user: 'bob', label: 'AGN', confidence: 0.5, comment: 'changed my mind' },
    ]);
    expect(object.consensus).toMatchObject({ objectId, label: 'SN Ia', voters: 3 });
    expect(object.consensus.share).toBeCloseTo(0.9 / 1.6, 12);
    expect(object.consensus.totalConfidence).toBeCloseTo(1.6, 12);
    expect(object.consensus.breakdown).toHaveLength(2);
    expect(object.consensus.breakdown[1]).toMatchObject({ label: 'AGN', voters: 2 });
    expect(object.consensus.breakdown[1]!.confidence).toBeCloseTo(0.7, 12);
    expect(events.filter((e) => e.type === 'vote' && e.objectId === objectId)).toHaveLength(4);
  });

  it('reads many objects with one store call per kind', async () => {
    const ids = [uniqueName('ZTF'), uniqueName('ZTF'), uniqueName('ZTF')];
    for (const objectId of ids) await aliceAnnotation(objectId);
    calls.clear();
    const result = await run<Record<string, ObjectOut>>(
      null,
      `query($a: String!, $b: String!, $c: String!) {
        a: object(objectId: $a) { annotations { id history { version } } votes { user } consensus { voters } }
        b: object(objectId: $b) { annotations { id history { version } } votes { user } consensus { voters } }
        c: object(objectId: $c) { annotations { id history { version } } votes { user } consensus { voters } }
      }`,
      { a: ids[0], b: ids[1], c: ids[2] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!['b']!.annotations).toHaveLength(1);
    expect(Object.fromEntries(calls)).toEqual({ byObjectIds: 1, history: 1, 'votes.byObjectIds': 1 });
  });
});
