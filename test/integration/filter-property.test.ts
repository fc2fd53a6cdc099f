// One filter language, two evaluators: for random filters over a random archive, the live predicate selects
// exactly the alerts the SQL selects from ClickHouse (nulls, both surveys, cross-matches, watchlist hits).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertFilterSpec, ComparisonOp, FilterField } from '../../src/storage/alert-filter.ts';
import { compileFilterPredicate, type FilterRecord } from '../../src/filters/predicate.ts';
import { compileFilterSql } from '../../src/storage/alert-filter-sql.ts';
import {
  MAX_FILTER_CONDITIONS,
  MAX_FILTER_DEPTH,
  MAX_FILTER_NODES,
  validateFilter,
} from '../../src/filters/validate.ts';
import { ClickHouseAlertStore } from '../../src/storage/alert-store.ts';
import { queryRows, runCommand } from '../../src/storage/clickhouse.ts';
import { insertRows } from '../../src/storage/row-binary.ts';
import { ClickHouseScienceStore, type StoredAlert } from '../../src/storage/science-store.ts';
import { sql } from '../../src/storage/sql.ts';
import { defineTable } from '../../src/storage/table.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';

const SEED = 20_260_611;
const ALERTS = 400;
const RUNS = 300;

const SURVEYS = ['ztf', 'lsst'];
const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'];
const LABELS = ['SN candidate', 'Unknown', 'Kilonova candidate', 'Solar System MPC'];
const CATALOGS = ['gcvs', 'spicy', 'simbad'];
const TYPES = ['EA', 'RR', ''];
const WATCHLISTS = ['w1', 'w2', 'w3'];
/** Sky positions alerts crowd around, so that cones of every size find some: mid-sky, across ra = 0, a pole. */
const CENTRES: [number, number][] = [
  [150, 2],
  [0.001, -30],
  [359.999, 45],
  [42, 89.995],
  [200, -89.99],
];
const JD0 = 2460230.5;

// Small value grids, shared by data and filters, so that equalities and range bounds are met exactly.
const MAGS = [15, 16.5, 17, 18.25, 19, 20.5];
const ERRS = [0.01, 0.05, 0.1];
const COLORS = [-0.5, 0, 0.25, 1];
const RATES = [-1, -0.1, 0, 0.05, 0.5];
const COUNTS = [0, 1, 2, 3, 5, 8];
const AGES = [0, 0.5, 1, 3, 10];

let db: TestDatabase;
let records: FilterRecord[];

beforeAll(async () => {
  db = await createMigratedDatabase('filters');
  // Until migrations/0005 is in every tree: the columns filters read of watchlist_hits.
  await runCommand(
    db.client,
    sql`CREATE TABLE IF NOT EXISTS watchlist_hits (watchlist_id String, alert_id UInt64, object_id String)
        ENGINE = MergeTree ORDER BY (watchlist_id, alert_id)`,
  );
  records = fc.sample(recordArb, { numRuns: ALERTS, seed: SEED }).map((r, i) => ({
    ...r,
    // Unique ids beyond 2^53, as real candids are.
    alertId: 2_400_000_000_000_000_000n + BigInt(i),
    objectId: `obj${i % 150}`,
  }));
  const stored = records.map((r): StoredAlert => ({
    record: {
      survey: r.survey,
      alertId: r.alertId,
      objectId: r.objectId,
      jd: r.jd,
      night: '1970-01-02',
      ra: r.ra,
      dec: r.dec,
      hpx: 0n,
      band: r.band,
      mag: r.mag,
      magErr: r.magErr,
      roid: r.roid,
      ssName: r.ssName,
      label: r.label,
      ndet: r.ndet,
      nlim: r.nlim,
      firstJd: r.firstJd,
      lastJd: r.lastJd,
      peakMag: r.peakMag,
      colorGr: r.colorGr,
      rate: r.rate,
      rising: r.rising,
      features: '{}',
      candidate: '{}',
      topic: 't',
      partition: 0,
      offset: 0n,
      processedAt: new Date(0),
      scores: [],
      crossmatches: r.crossmatches.map((m, k) => ({
        catalog: m.catalog,
        sourceId: `s${k}`,
        distanceArcsec: 1,
        type: m.type,
        overriding: false,
      })),
      watchlistHits: [],
      brokerVersion: 'test',
    },
    points: [],
  }));
  await new ClickHouseScienceStore(db.client).write(stored);
  await insertRows(
    db.client,
    defineTable('watchlist_hits', { watchlist_id: 'String', alert_id: 'UInt64', object_id: 'String' }),
    records.flatMap((r) =>
      r.watchlistHits.map((hit) => ({
        watchlist_id: hit.watchlistId,
        alert_id: r.alertId,
        object_id: r.objectId,
      })),
    ),
  );
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { freq: 4, nil: null });

const positionArb = fc.oneof(
  fc.record({
    ra: fc.double({ min: 0, max: 359.999, noNaN: true }),
    dec: fc.double({ min: -90, max: 90, noNaN: true }),
  }),
  fc
    .tuple(
      fc.constantFrom(...CENTRES),
      fc.double({ min: -0.05, max: 0.05, noNaN: true }),
      fc.double({ min: -0.01, max: 0.01, noNaN: true }),
    )
    .map(([[ra, dec], dra, ddec]) => ({
      ra: (((ra + dra) % 360) + 360) % 360,
      dec: Math.max(-90, Math.min(90, dec + ddec)),
    })),
);

const recordArb: fc.Arbitrary<FilterRecord> = fc
  .record({
    survey: fc.constantFrom(...SURVEYS),
    position: positionArb,
    jd: fc.constantFrom(JD0, JD0 + 0.5, JD0 + 1, JD0 + 2),
    band: fc.constantFrom(...BANDS),
    mag: nullable(fc.constantFrom(...MAGS)),
    magErr: nullable(fc.constantFrom(...ERRS)),
    roid: fc.constantFrom(0, 1, 2, 3),
    label: fc.constantFrom(...LABELS),
    ndet: fc.constantFrom(...COUNTS),
    nlim: fc.constantFrom(...COUNTS),
    age: fc.constantFrom(...AGES),
    peakMag: nullable(fc.constantFrom(...MAGS)),
    colorGr: nullable(fc.constantFrom(...COLORS)),
    rate: nullable(fc.constantFrom(...RATES)),
    rising: nullable(fc.boolean()),
    crossmatches: fc.array(
      fc.record({ catalog: fc.constantFrom(...CATALOGS), type: fc.constantFrom(...TYPES) }),
      { maxLength: 2 },
    ),
    watchlistHits: fc
      .uniqueArray(fc.constantFrom(...WATCHLISTS), { maxLength: 2 })
      .map((ids) => ids.map((watchlistId) => ({ watchlistId }))),
  })
  .map(({ position, age, ...r }) => ({
    ...r,
    alertId: 0n,
    objectId: '',
    ra: position.ra,
    dec: position.dec,
    firstJd: r.jd - age,
    lastJd: r.jd,
    ssName: '',
  }));

const FIELD_VALUES: Record<FilterField, readonly number[]> = {
  JD: [JD0, JD0 + 1, JD0 + 1.5],
  RA: [0.001, 42, 150, 359.999],
  DEC: [-30, 0, 2, 89.995],
  MAG: MAGS,
  MAG_ERR: ERRS,
  NDET: COUNTS,
  NLIM: COUNTS,
  FIRST_JD: [JD0 - 1, JD0, JD0 + 1],
  LAST_JD: [JD0, JD0 + 1],
  PEAK_MAG: MAGS,
  COLOR_GR: COLORS,
  RATE: RATES,
  ROID: [0, 1, 2, 3, 1.5],
};
const FIELDS = Object.keys(FIELD_VALUES) as FilterField[];
const OPS: ComparisonOp[] = ['EQ', 'NE', 'LT', 'LTE', 'GT', 'GTE'];

const comparisonArb = fc.constantFrom(...FIELDS).chain((field) =>
  fc.record({
    field: fc.constant(field),
    op: fc.constantFrom(...OPS),
    value: fc.constantFrom(...FIELD_VALUES[field]),
  }),
);

function rangeArb(values: readonly number[]) {
  return fc
    .tuple(
      fc.option(fc.constantFrom(...values), { nil: undefined }),
      fc.option(fc.constantFrom(...values), { nil: undefined }),
    )
    .filter(([a, b]) => a !== undefined || b !== undefined)
    .map(([a, b]) => {
      const [min, max] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
      return { ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
    });
}

const someOf = <T>(values: readonly T[]) =>
  fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 });

const leafArbs: fc.Arbitrary<AlertFilterSpec>[] = [
  someOf(SURVEYS).map((survey) => ({ survey })),
  someOf(BANDS).map((band) => ({ band })),
  someOf(LABELS).map((label) => ({ label })),
  someOf([0, 1, 2, 3]).map((roid) => ({ roid })),
  fc.array(comparisonArb, { minLength: 1, maxLength: 2 }).map((compare) => ({ compare })),
  rangeArb(MAGS).map((mag) => ({ mag })),
  rangeArb(RATES).map((rate) => ({ rate })),
  rangeArb(AGES).map((sinceFirstDetectionDays) => ({ sinceFirstDetectionDays })),
  fc.boolean().map((rising) => ({ rising })),
  fc
    .record({
      centre: fc.oneof(
        fc.constantFrom(...CENTRES),
        fc.tuple(
          fc.double({ min: 0, max: 359.999, noNaN: true }),
          fc.double({ min: -90, max: 90, noNaN: true }),
        ),
      ),
      radiusArcsec: fc.constantFrom(1, 30, 120, 600, 3600),
    })
    .map(({ centre: [ra, dec], radiusArcsec }) => ({ cone: { ra, dec, radiusArcsec } })),
  fc
    .record(
      { catalog: fc.constantFrom(...CATALOGS, 'none'), type: fc.constantFrom(...TYPES) },
      { requiredKeys: [] },
    )
    .map((crossmatch) => ({ crossmatch })),
  fc.constantFrom(...WATCHLISTS, 'w9').map((watchlist) => ({ watchlist })),
];

function nodeArb(depth: number): fc.Arbitrary<AlertFilterSpec> {
  const parts: fc.Arbitrary<AlertFilterSpec>[] = [...leafArbs];
  if (depth < 5) {
    const child = nodeArb(depth + 1);
    parts.push(
      fc.array(child, { minLength: 1, maxLength: 3 }).map((and) => ({ and })),
      fc.array(child, { minLength: 1, maxLength: 3 }).map((or) => ({ or })),
      child.map((not) => ({ not })),
    );
  }
  // Several keys in one node are AND-ed; none matches everything.
  return fc
    .array(fc.oneof({ depthSize: 'small', withCrossShrink: true }, ...parts), {
      maxLength: depth === 0 ? 3 : 2,
    })
    .map((keys) => Object.assign({}, ...keys) as AlertFilterSpec);
}

/**
 * A filter of exactly MAX_FILTER_NODES nodes reaching MAX_FILTER_DEPTH: a spine down to the deepest level, the
 * other nodes hung under random shallower ones, each node and/or over its children with random leaf conditions,
 * some leaves negated. Conditions stay within MAX_FILTER_CONDITIONS (checked by validation).
 */
const atLimitsArb: fc.Arbitrary<AlertFilterSpec> = fc
  .record({
    parents: fc.array(fc.nat(), { minLength: MAX_FILTER_NODES, maxLength: MAX_FILTER_NODES }),
    kinds: fc.array(fc.constantFrom('and' as const, 'or' as const), {
      minLength: MAX_FILTER_NODES,
      maxLength: MAX_FILTER_NODES,
    }),
    negated: fc.array(fc.boolean(), { minLength: MAX_FILTER_NODES, maxLength: MAX_FILTER_NODES }),
    leaves: fc.array(fc.option(fc.oneof(...leafArbs), { freq: 3, nil: undefined }), {
      minLength: MAX_FILTER_NODES,
      maxLength: MAX_FILTER_NODES,
    }),
  })
  .map(({ parents, kinds, negated, leaves }) => {
    interface Slot {
      depth: number;
      leaf: AlertFilterSpec;
      children: Slot[];
      kind: 'and' | 'or';
      negated: boolean;
    }
    const slots: Slot[] = [];
    let nodes = 0;
    for (let i = 0; nodes < MAX_FILTER_NODES; i++) {
      // A negated leaf is a `not` node over a node of its own: two nodes, one level deeper.
      let parent: Slot | undefined;
      if (i > 0) {
        const spine = i < MAX_FILTER_DEPTH ? slots[i - 1] : undefined;
        const eligible = slots.filter(
          (slot) => slot.depth < MAX_FILTER_DEPTH && !slot.negated && slot.children.length < 100,
        );
        parent = spine ?? eligible[parents[i % MAX_FILTER_NODES]! % eligible.length];
        if (parent === undefined) break;
      }
      const depth = parent === undefined ? 1 : parent.depth + 1;
      const negate =
        negated[i % MAX_FILTER_NODES]! && depth < MAX_FILTER_DEPTH && nodes + 2 <= MAX_FILTER_NODES;
      const slot: Slot = {
        depth: negate ? depth + 1 : depth,
        leaf: leaves[i % MAX_FILTER_NODES] ?? {},
        children: [],
        kind: kinds[i % MAX_FILTER_NODES]!,
        negated: negate && i >= MAX_FILTER_DEPTH,
      };
      nodes += slot.negated ? 2 : 1;
      parent?.children.push(slot);
      slots.push(slot);
    }
    const build = (slot: Slot): AlertFilterSpec => {
      const node: AlertFilterSpec = { ...slot.leaf };
      if (slot.children.length > 0) node[slot.kind] = slot.children.map(build);
      return slot.negated ? { not: node } : node;
    };
    return build(slots[0]!);
  });

function shape(filter: AlertFilterSpec): { nodes: number; depth: number } {
  const children = [...(filter.and ?? []), ...(filter.or ?? []), ...(filter.not ? [filter.not] : [])];
  const below = children.map(shape);
  return {
    nodes: 1 + below.reduce((n, s) => n + s.nodes, 0),
    depth: 1 + Math.max(0, ...below.map((s) => s.depth)),
  };
}

describe('filter predicate and SQL', () => {
  it(`select the same alerts for ${RUNS} random filters`, async () => {
    expect(records.length).toBe(ALERTS);
    expect(records.some((r) => r.mag === null) && records.some((r) => r.rising === null)).toBe(true);
    let selective = 0;
    await fc.assert(
      fc.asyncProperty(nodeArb(0), async (generated) => {
        const filter = validateFilter(generated, 'filter', { maxConeRadiusArcsec: 3600 });
        const matches = compileFilterPredicate(filter);
        const expected = records
          .filter(matches)
          .map((r) => r.alertId.toString())
          .sort();
        const rows = await queryRows<{ id: string }>(
          db.client,
          sql`SELECT toString(alert_id) AS id FROM alerts FINAL WHERE ${compileFilterSql(filter)}`,
        );
        const actual = rows.map((row) => row.id).sort();
        expect(actual).toEqual(expected);
        if (expected.length > 0 && expected.length < records.length) selective++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Not vacuous: most filters select some alerts but not all.
    expect(selective).toBeGreaterThan(RUNS / 3);
  });

  it(`select the same alerts through search for filters at the limits (${MAX_FILTER_NODES} nodes, depth ${MAX_FILTER_DEPTH}, up to ${MAX_FILTER_CONDITIONS} conditions)`, async () => {
    const store = new ClickHouseAlertStore(db.client);
    let runs = 0;
    let selective = 0;
    await fc.assert(
      fc.asyncProperty(atLimitsArb, async (generated) => {
        expect(shape(generated)).toEqual({ nodes: MAX_FILTER_NODES, depth: MAX_FILTER_DEPTH });
        const filter = validateFilter(generated, 'filter', { maxConeRadiusArcsec: 3600 });
        const expected = records
          .filter(compileFilterPredicate(filter))
          .map((r) => r.alertId.toString())
          .sort();
        const found = await store.search(filter, null, ALERTS + 1);
        expect(found.map((alert) => alert.alertId.toString()).sort()).toEqual(expected);
        runs++;
        if (expected.length > 0 && expected.length < records.length) selective++;
      }),
      { numRuns: 25, seed: SEED },
    );
    expect(runs).toBe(25);
    expect(selective).toBeGreaterThan(5);
  }, 300_000);

  it.each([
    [
      'cones',
      // 198 cones (5 conditions each) in 200 nodes: the or lists hold at most 100 items, so two levels.
      {
        or: [
          // The first ones at the centres the alerts crowd around.
          ...Array.from({ length: 99 }, (_, i) => {
            const [ra, dec] = CENTRES[i] ?? [i * 3.6, 2];
            return { cone: { ra, dec, radiusArcsec: 3600 } };
          }),
          {
            or: Array.from({ length: 99 }, (_, i) => ({
              cone: { ra: (i * 3.6 + 1.8) % 360, dec: 45 - i * 0.9, radiusArcsec: 3600 },
            })),
          },
        ],
      },
    ],
    [
      'nullable comparisons',
      // 1,000 comparisons on nullable fields, under not and or.
      {
        or: Array.from({ length: 10 }, (_, i) => ({
          not: {
            compare: Array.from({ length: 100 }, (_, k) => ({
              field: (['MAG', 'MAG_ERR', 'PEAK_MAG', 'COLOR_GR', 'RATE'] as const)[k % 5]!,
              op: (['LT', 'GTE', 'NE', 'LTE'] as const)[(k + i) % 4]!,
              value: [MAGS, ERRS, MAGS, COLORS, RATES][k % 5]![k % 3]!,
            })),
          },
        })),
      },
    ],
  ])('search with the largest filters within the limits: %s', async (_name, generated) => {
    const filter = validateFilter(generated, 'filter', { maxConeRadiusArcsec: 3600 });
    const expected = records
      .filter(compileFilterPredicate(filter))
      .map((r) => r.alertId.toString())
      .sort();
    const found = await new ClickHouseAlertStore(db.client).search(filter, null, ALERTS + 1);
    expect(found.map((alert) => alert.alertId.toString()).sort()).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  it('never lets NULL decide under not: not (mag < 18) skips alerts without a magnitude', async () => {
    const filter: AlertFilterSpec = { not: { compare: [{ field: 'MAG', op: 'LT', value: 18 }] } };
    const rows = await queryRows<{ id: string }>(
      db.client,
      sql`SELECT toString(alert_id) AS id FROM alerts FINAL WHERE ${compileFilterSql(filter)}`,
    );
    const expected = records.filter((r) => r.mag !== null && r.mag >= 18).map((r) => r.alertId.toString());
    expect(rows.map((r) => r.id).sort()).toEqual(expected.sort());
    expect(records.filter(compileFilterPredicate(filter)).length).toBe(expected.length);
  });
});
