// Cross-matching against the real shared catalogs (GCVS 1.5", SPICY 1.2", 3HSP 60") on the real ClickHouse.
// Expectations are hand-built: positions at known angular offsets from real sources, and a brute-force O(n*m)
// scan that the HEALPix-indexed match must agree with exactly.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openCatalog } from '../../src/catalogs/reader.ts';
import type { CatalogColumns } from '../../src/catalogs/reader.ts';
import { registerCatalogCommands } from '../../src/cli/catalog-command.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { MIGRATIONS_DIR } from '../../src/project.ts';
import { angularDistanceArcsec } from '../../src/sky/angles.ts';
import { CatalogError, ClickHouseCatalogStore } from '../../src/storage/catalog-store.ts';
import type {
  CatalogDefinition,
  CatalogMatch,
  CatalogSource,
  SkyPosition,
} from '../../src/storage/catalog-store.ts';
import { connectClickHouse, queryRows } from '../../src/storage/clickhouse.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { sql } from '../../src/storage/sql.ts';
import { createTestDatabase } from '../helpers/clickhouse.ts';
import type { TestDatabase } from '../helpers/clickhouse.ts';
import { testConfig } from '../helpers/context.ts';
import { sharedPath, ztfAlertFiles } from '../helpers/shared-data.ts';

const DEG = Math.PI / 180;

interface RealCatalog {
  name: string;
  file: string;
  columns: CatalogColumns;
  radiusArcsec: number;
}

const REAL: RealCatalog[] = [
  {
    name: 'gcvs',
    file: sharedPath('catalogs', 'gcvs.parquet'),
    columns: { ra: 'ra', dec: 'dec', type: 'VarType' },
    radiusArcsec: 1.5,
  },
  {
    name: 'spicy',
    file: sharedPath('catalogs', 'spicy.parquet'),
    columns: { ra: 'RAdeg', dec: 'DEdeg', type: 'class' },
    radiusArcsec: 1.2,
  },
  {
    name: '3hsp',
    file: sharedPath('catalogs', '3hsp.csv'),
    columns: { ra: 'R.A.', dec: 'Dec', id: '3HSP Source name', extra: ['FOM'] },
    radiusArcsec: 60,
  },
];

/** The point `arcsec` away from (ra, dec) at position angle `paDeg` (north through east). */
function offset(ra: number, dec: number, arcsec: number, paDeg: number): SkyPosition {
  const d = (arcsec / 3600) * DEG;
  const pa = paDeg * DEG;
  const dec1 = dec * DEG;
  const sinDec2 = Math.sin(dec1) * Math.cos(d) + Math.cos(dec1) * Math.sin(d) * Math.cos(pa);
  const dec2 = Math.asin(sinDec2);
  const dRa = Math.atan2(Math.sin(pa) * Math.sin(d) * Math.cos(dec1), Math.cos(d) - Math.sin(dec1) * sinDec2);
  const ra2 = (((ra * DEG + dRa) / DEG) % 360) + 360;
  return { ra: ra2 % 360, dec: dec2 / DEG };
}

/**
 * The nearest source within the radius, by computing the distance to every source whose declination is within
 * the radius (a source outside that band cannot be within the radius): the reference the index must match.
 * `sources` must be sorted by declination.
 */
function bruteForce(
  sources: readonly CatalogSource[],
  position: SkyPosition,
  radiusArcsec: number,
): { sourceId: string; distanceArcsec: number } | undefined {
  const band = radiusArcsec / 3600;
  let lo = 0;
  let hi = sources.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sources[mid]!.dec < position.dec - band) lo = mid + 1;
    else hi = mid;
  }
  let best: { sourceId: string; distanceArcsec: number } | undefined;
  for (let i = lo; i < sources.length && sources[i]!.dec <= position.dec + band; i++) {
    const source = sources[i]!;
    const distanceArcsec = angularDistanceArcsec(position.ra, position.dec, source.ra, source.dec);
    if (distanceArcsec > radiusArcsec) continue;
    if (
      best === undefined ||
      distanceArcsec < best.distanceArcsec ||
      (distanceArcsec === best.distanceArcsec && source.sourceId < best.sourceId)
    ) {
      best = { sourceId: source.sourceId, distanceArcsec };
    }
  }
  return best;
}

/** The O(n*m) reference itself: the distance to every source of the catalog, no pruning at all. */
function fullScan(
  sources: readonly CatalogSource[],
  position: SkyPosition,
  radiusArcsec: number,
): { sourceId: string; distanceArcsec: number } | undefined {
  let best: { sourceId: string; distanceArcsec: number } | undefined;
  for (const source of sources) {
    const distanceArcsec = angularDistanceArcsec(position.ra, position.dec, source.ra, source.dec);
    if (distanceArcsec > radiusArcsec) continue;
    if (
      best === undefined ||
      distanceArcsec < best.distanceArcsec ||
      (distanceArcsec === best.distanceArcsec && source.sourceId < best.sourceId)
    ) {
      best = { sourceId: source.sourceId, distanceArcsec };
    }
  }
  return best;
}

function matchOf(matches: CatalogMatch[] | undefined, catalog: string): CatalogMatch | undefined {
  return matches?.find((match) => match.catalog === catalog);
}

async function readAll(file: string, columns: CatalogColumns): Promise<CatalogSource[]> {
  const sources: CatalogSource[] = [];
  for await (const source of (await openCatalog(file, columns)).sources()) sources.push(source);
  return sources;
}

function definition(catalog: RealCatalog, overrides: Partial<CatalogDefinition> = {}): CatalogDefinition {
  return {
    name: catalog.name,
    file: catalog.file,
    raColumn: catalog.columns.ra,
    decColumn: catalog.columns.dec,
    idColumn: catalog.columns.id ?? null,
    typeColumn: catalog.columns.type ?? null,
    extraColumns: catalog.columns.extra ?? [],
    radiusArcsec: catalog.radiusArcsec,
    overriding: false,
    ...overrides,
  };
}

function writeCsv(rows: string[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fink-catalog-')), 'edges.csv');
  writeFileSync(file, `${['id,ra,dec,kind', ...rows].join('\n')}\n`);
  return file;
}

const EDGES_COLUMNS: CatalogColumns = { ra: 'ra', dec: 'dec', id: 'id', type: 'kind' };

function edgesDefinition(name: string, file: string, radiusArcsec = 1.5): CatalogDefinition {
  return {
    name,
    file,
    raColumn: 'ra',
    decColumn: 'dec',
    idColumn: 'id',
    typeColumn: 'kind',
    extraColumns: [],
    radiusArcsec,
    overriding: true,
  };
}

async function loadEdges(store: ClickHouseCatalogStore, name: string, rows: string[]): Promise<number> {
  const file = writeCsv(rows);
  const result = await store.load(
    edgesDefinition(name, file),
    (await openCatalog(file, EDGES_COLUMNS)).sources(),
  );
  return result.rows;
}

let db: TestDatabase;
let store: ClickHouseCatalogStore;
const sources = new Map<string, CatalogSource[]>();
/** The same sources sorted by declination, for the brute-force reference. */
const byDec = new Map<string, CatalogSource[]>();
const loadSeconds = new Map<string, number>();

beforeAll(async () => {
  db = await createTestDatabase('crossmatch');
  await migrate(db.config, MIGRATIONS_DIR);
  store = new ClickHouseCatalogStore(db.client);
  for (const catalog of REAL) {
    const started = performance.now();
    const file = await openCatalog(catalog.file, catalog.columns);
    await store.load(definition(catalog), file.sources());
    loadSeconds.set(catalog.name, (performance.now() - started) / 1000);
    sources.set(catalog.name, await readAll(catalog.file, catalog.columns));
    byDec.set(
      catalog.name,
      [...sources.get(catalog.name)!].sort((a, b) => a.dec - b.dec),
    );
  }
  console.log(
    `catalog load times: ${[...loadSeconds].map(([name, s]) => `${name} ${s.toFixed(2)} s`).join(', ')}`,
  );
});

afterAll(async () => {
  await db.drop();
});

function source(catalog: string, sourceId: string): CatalogSource {
  const found = sources.get(catalog)?.find((s) => s.sourceId === sourceId);
  if (found === undefined) throw new Error(`no source ${sourceId} in ${catalog}`);
  return found;
}

/** A source with no other source of its catalog within `clearArcsec`, so offsets around it are unambiguous. */
function isolatedSource(catalog: string, clearArcsec: number, skip = 0): CatalogSource {
  const all = sources.get(catalog)!;
  let skipped = 0;
  for (const candidate of all) {
    const near = all.filter(
      (other) =>
        other !== candidate &&
        Math.abs(other.dec - candidate.dec) * 3600 < clearArcsec &&
        angularDistanceArcsec(candidate.ra, candidate.dec, other.ra, other.dec) < clearArcsec,
    );
    if (near.length === 0 && skipped++ >= skip) return candidate;
  }
  throw new Error(`no isolated source in ${catalog}`);
}

describe('loading the real catalogs', () => {
  it('stores every row of each file, indexed at the order chosen from its radius', async () => {
    const listed = await store.list();
    expect(listed.map((c) => [c.name, c.rowCount, c.hpxOrder, c.radiusArcsec, c.typeColumn])).toEqual([
      ['3hsp', 2013, 11, 60, null],
      ['gcvs', 59_099, 15, 1.5, 'VarType'],
      ['spicy', 117_446, 15, 1.2, 'class'],
    ]);
    const counts = await queryRows<{ catalog: string; n: string }>(
      db.client,
      sql`SELECT catalog, count() AS n FROM catalog_sources GROUP BY catalog ORDER BY catalog`,
    );
    expect(counts.map((row) => [row.catalog, Number(row.n)])).toEqual([
      ['3hsp', 2013],
      ['gcvs', 59_099],
      ['spicy', 117_446],
    ]);
    // The 3HSP file has a header line and 2013 data lines; every source got its name as id.
    const lines = readFileSync(REAL[2]!.file, 'utf8').trim().split('\n');
    expect(lines.length - 1).toBe(2013);
    expect(sources.get('3hsp')!.every((s) => s.sourceId.startsWith('3HSPJ'))).toBe(true);
  });

  it('keeps the extra columns as JSON text and trims padded types', async () => {
    const rows = await queryRows<{ source_id: string; type: string; extra: string }>(
      db.client,
      sql`SELECT source_id, type, extra FROM catalog_sources
          WHERE catalog = '3hsp' AND source_id = '3HSPJ000132.7-415525'`,
    );
    expect(rows).toEqual([{ source_id: '3HSPJ000132.7-415525', type: '', extra: '{"FOM":"0.79"}' }]);
    // GCVS pads VarType to 10 characters ('M         '); the store keeps the value.
    expect(source('gcvs', '2').type).toBe('M');
  });
});

describe('matching real sources at known offsets', () => {
  it.each([
    ['gcvs', 1.0, true],
    ['gcvs', 1.45, true],
    ['gcvs', 1.55, false],
    ['gcvs', 2.0, false],
    ['spicy', 1.0, true],
    ['spicy', 1.3, false],
    ['3hsp', 50, true],
    ['3hsp', 70, false],
  ] as const)('%s: a position %f" from a source matches: %s', async (catalog, arcsec, matches) => {
    const radius = REAL.find((c) => c.name === catalog)!.radiusArcsec;
    const target = isolatedSource(catalog, 3 * Math.max(radius, arcsec));
    const positions = [0, 45, 137, 270].map((pa) => offset(target.ra, target.dec, arcsec, pa));
    const results = await store.match(positions);
    for (const result of results) {
      const match = matchOf(result, catalog);
      if (!matches) {
        expect(match).toBeUndefined();
        continue;
      }
      expect(match).toMatchObject({ sourceId: target.sourceId, type: target.type, overriding: false });
      expect(match!.distanceArcsec).toBeCloseTo(arcsec, 2);
    }
  });

  it('matches near the south pole, where 1" spans a large step in RA (GCVS 32050, dec -89.78)', async () => {
    const target = source('gcvs', '32050');
    expect(target.dec).toBeLessThan(-89.7);
    const positions = [0, 90, 180, 270].map((pa) => offset(target.ra, target.dec, 1.0, pa));
    // East and west offsets change RA by about 0.07 degree here.
    expect(Math.abs(positions[1]!.ra - target.ra)).toBeGreaterThan(0.05);
    const results = await store.match(positions);
    for (const result of results) {
      expect(matchOf(result, 'gcvs')).toMatchObject({ sourceId: '32050', type: 'EW' });
      expect(matchOf(result, 'gcvs')!.distanceArcsec).toBeCloseTo(1.0, 2);
    }
  });

  it('matches near RA 0/360 from both sides (3HSP J235955.0+314600 at RA 359.98)', async () => {
    const target = source('3hsp', '3HSPJ235955.0+314600');
    // 50" to the east runs to RA 359.9967; 50" to the west to 359.964; both stay within 60".
    const east = offset(target.ra, target.dec, 50, 90);
    const west = offset(target.ra, target.dec, 50, 270);
    const [eastMatch, westMatch] = await store.match([east, west]);
    expect(matchOf(eastMatch, '3hsp')?.distanceArcsec).toBeCloseTo(50, 2);
    expect(matchOf(westMatch, '3hsp')?.distanceArcsec).toBeCloseTo(50, 2);
  });

  it('keeps the nearest of two sources within the radius (GCVS 10052/10053, 1.21" apart)', async () => {
    const a = source('gcvs', '10053');
    const b = source('gcvs', '10052');
    const separation = angularDistanceArcsec(a.ra, a.dec, b.ra, b.dec);
    expect(separation).toBeCloseTo(1.212, 3);
    // Bearing from a to b, then points 0.4" from one of them on the line between them.
    const bearing =
      Math.atan2(
        Math.sin((b.ra - a.ra) * DEG) * Math.cos(b.dec * DEG),
        Math.cos(a.dec * DEG) * Math.sin(b.dec * DEG) -
          Math.sin(a.dec * DEG) * Math.cos(b.dec * DEG) * Math.cos((b.ra - a.ra) * DEG),
      ) / DEG;
    const nearA = offset(a.ra, a.dec, 0.4, bearing);
    const nearB = offset(a.ra, a.dec, separation - 0.4, bearing);
    const [forA, forB] = await store.match([nearA, nearB]);
    expect(matchOf(forA, 'gcvs')).toMatchObject({ sourceId: '10053' });
    expect(matchOf(forA, 'gcvs')!.distanceArcsec).toBeCloseTo(0.4, 3);
    expect(matchOf(forB, 'gcvs')).toMatchObject({ sourceId: '10052' });
    expect(matchOf(forB, 'gcvs')!.distanceArcsec).toBeCloseTo(0.4, 3);
  });

  it('agrees exactly with a brute-force scan on 3,000 positions around real sources', async () => {
    // Positions 0-2.5" from GCVS and SPICY sources (inside and outside their radii), and every 3HSP source
    // offset 0-90". Deterministic: a fixed linear congruential sequence.
    let seed = 12_345;
    const random = (): number => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const positions: SkyPosition[] = [];
    for (const [catalog, count, maxArcsec] of [
      ['gcvs', 1000, 2.5],
      ['spicy', 1000, 2.5],
      ['3hsp', 1000, 90],
    ] as const) {
      const all = sources.get(catalog)!;
      for (let k = 0; k < count; k++) {
        const s = all[Math.floor(random() * all.length)]!;
        positions.push(offset(s.ra, s.dec, random() * maxArcsec, random() * 360));
      }
    }
    const results = await store.match(positions);
    const counts: Record<string, number> = {};
    for (const catalog of REAL) {
      let matched = 0;
      positions.forEach((position, i) => {
        const expected = bruteForce(byDec.get(catalog.name)!, position, catalog.radiusArcsec);
        const actual = matchOf(results[i], catalog.name);
        expect(actual?.sourceId).toBe(expected?.sourceId);
        if (expected !== undefined) {
          matched++;
          expect(actual!.distanceArcsec).toBeCloseTo(expected.distanceArcsec, 9);
        }
      });
      counts[catalog.name] = matched;
    }
    // Both outcomes are exercised for every catalog.
    for (const catalog of REAL) {
      expect(counts[catalog.name]).toBeGreaterThan(100);
      expect(counts[catalog.name]).toBeLessThan(1000);
    }
  });
});

describe('matching the 611 real ZTF alerts', () => {
  it('finds exactly what a brute-force scan finds, in every catalog (GCVS: every pair)', async () => {
    const decoder = createZtfDecoder();
    const files = ztfAlertFiles();
    expect(files).toHaveLength(611);
    const positions = files.map((file) => {
      const { candidate } = decoder.decode(readFileSync(file));
      return { ra: candidate.ra, dec: candidate.dec };
    });
    const started = performance.now();
    const results = await store.match(positions);
    const ms = performance.now() - started;
    const summary: string[] = [];
    for (const catalog of REAL) {
      // GCVS against every source (the O(n*m) reference); the larger SPICY through the declination band.
      const expected = positions.map((p) =>
        catalog.name === 'gcvs'
          ? fullScan(sources.get(catalog.name)!, p, catalog.radiusArcsec)
          : bruteForce(byDec.get(catalog.name)!, p, catalog.radiusArcsec),
      );
      const actual = results.map((r) => matchOf(r, catalog.name));
      expect(actual.map((m) => m?.sourceId)).toEqual(expected.map((m) => m?.sourceId));
      actual.forEach((m, i) => {
        if (m !== undefined) expect(m.distanceArcsec).toBeCloseTo(expected[i]!.distanceArcsec, 9);
      });
      summary.push(`${catalog.name} ${actual.filter((m) => m !== undefined).length}`);
    }
    console.log(`611 real ZTF alerts matched in ${ms.toFixed(0)} ms: ${summary.join(', ')}`);
  });
});

describe('edge positions (a small synthetic catalog)', () => {
  it('matches across RA 0/360 and across the poles', async () => {
    await loadEdges(store, 'edges', [
      'wrap-west,359.99998,10,W',
      'wrap-east,0.00002,-20,E',
      'north,0,89.9999,N',
      'south-pole,45,-90,S',
    ]);
    const results = await store.match([
      { ra: 0.00001, dec: 10 }, // 0.107" east of wrap-west, across the wrap
      { ra: 359.99999, dec: -20 }, // 0.101" west of wrap-east, across the wrap
      { ra: 180, dec: 89.9999 }, // the other side of the north pole from `north`: 0.72"
      { ra: 300, dec: -89.9997 }, // 1.08" from the south pole, at any RA
      { ra: 0, dec: 89.99 }, // 36" from `north`: no match
    ]);
    expect(results.map((r) => matchOf(r, 'edges')?.sourceId ?? null)).toEqual([
      'wrap-west',
      'wrap-east',
      'north',
      'south-pole',
      null,
    ]);
    expect(matchOf(results[0], 'edges')!.distanceArcsec).toBeCloseTo(0.03 * 0.9848 * 3.6, 4);
    expect(matchOf(results[2], 'edges')!.distanceArcsec).toBeCloseTo(0.72, 4);
    expect(matchOf(results[3], 'edges')!.distanceArcsec).toBeCloseTo(1.08, 4);
    expect(matchOf(results[0], 'edges')).toMatchObject({ type: 'W', overriding: true });
  });

  it('returns one list per position, ordered by catalog, and nothing for impossible positions', async () => {
    const gcvs = source('gcvs', '2');
    // A second catalog with a source 0.5" from GCVS 2: both match, listed by catalog name.
    const twin = offset(gcvs.ra, gcvs.dec, 0.5, 10);
    await loadEdges(store, 'twin', [`t,${twin.ra},${twin.dec},`]);
    try {
      const results = await store.match([
        { ra: gcvs.ra, dec: gcvs.dec },
        { ra: Number.NaN, dec: 0 },
        { ra: 10, dec: 91 },
      ]);
      expect(results).toHaveLength(3);
      expect(results[0]).toEqual([
        {
          catalog: 'gcvs',
          sourceId: '2',
          distanceArcsec: expect.closeTo(0, 9) as number,
          type: 'M',
          overriding: false,
        },
        {
          catalog: 'twin',
          sourceId: 't',
          distanceArcsec: expect.closeTo(0.5, 6) as number,
          type: null,
          overriding: true,
        },
      ]);
      expect(results[1]).toEqual([]);
      expect(results[2]).toEqual([]);
      expect(await store.match([])).toEqual([]);
    } finally {
      await store.drop('twin');
    }
  });
});

describe('reload, drop and the metadata cache', () => {
  it('a reload replaces the rows; the superseded generation is kept until the next load', async () => {
    expect(await loadEdges(store, 'reload', ['a,10,10,first', 'b,20,20,first'])).toBe(2);
    expect(await loadEdges(store, 'reload', ['c,30,30,second'])).toBe(1);
    const [atA, atC] = await store.match([
      { ra: 10, dec: 10 },
      { ra: 30, dec: 30 },
    ]);
    expect(matchOf(atA, 'reload')).toBeUndefined();
    expect(matchOf(atC, 'reload')).toMatchObject({ sourceId: 'c', type: 'second' });
    expect((await store.list()).find((c) => c.name === 'reload')?.rowCount).toBe(1);

    const generations = async (): Promise<number> =>
      Number(
        (
          await queryRows<{ n: string }>(
            db.client,
            sql`SELECT uniqExact(generation) AS n FROM catalog_sources WHERE catalog = 'reload'`,
          )
        )[0]!.n,
      );
    expect(await generations()).toBe(2);
    await loadEdges(store, 'reload', ['d,40,40,third']);
    expect(await generations()).toBe(2);
    const ids = await queryRows<{ source_id: string }>(
      db.client,
      sql`SELECT source_id FROM catalog_sources WHERE catalog = 'reload' ORDER BY source_id`,
    );
    expect(ids.map((row) => row.source_id)).toEqual(['c', 'd']);
  });

  it("lists the types of the overriding catalogs' current rows: not a superseded load's, not others'", async () => {
    await loadEdges(store, 'types', ['a,50,50,RRAB', 'b,51,51,', 'c,52,52,EA']);
    expect(await store.overridingTypes()).toEqual(expect.arrayContaining(['EA', 'RRAB']));
    await loadEdges(store, 'types', ['d,50,50,Mira']);
    const types = await store.overridingTypes();
    expect(types).toContain('Mira');
    expect(types).not.toContain('RRAB');
    // GCVS is loaded without overriding: its types ('M', ...) are not labels.
    expect(types).not.toContain('M');
    expect(types).not.toContain('');
    expect(types).toEqual([...types].sort());
    await store.drop('types');
    expect(await store.overridingTypes()).not.toContain('Mira');
  });

  it('a load that fails on a bad row leaves the loaded catalog as it was', async () => {
    await loadEdges(store, 'atomic', ['a,10,10,ok']);
    const file = writeCsv(['b,20,20,ok', 'c,20,95,bad']);
    // One row per INSERT, so row 1 is written before row 2 fails: the half-written generation must go.
    const oneByOne = new ClickHouseCatalogStore(db.client, { insertBatchRows: 1 });
    await expect(
      oneByOne.load(edgesDefinition('atomic', file), (await openCatalog(file, EDGES_COLUMNS)).sources()),
    ).rejects.toThrow(/row 2 \(line 3\), column 'dec': declination 95° is outside/);
    const [atA, atB] = await store.match([
      { ra: 10, dec: 10 },
      { ra: 20, dec: 20 },
    ]);
    expect(matchOf(atA, 'atomic')?.sourceId).toBe('a');
    expect(matchOf(atB, 'atomic')).toBeUndefined();
    const rows = await queryRows<{ n: string }>(
      db.client,
      sql`SELECT count() AS n FROM catalog_sources WHERE catalog = 'atomic'`,
    );
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('drop removes the catalog and its rows; dropping it again is an error', async () => {
    await loadEdges(store, 'gone', ['a,50,50,x']);
    expect(matchOf((await store.match([{ ra: 50, dec: 50 }]))[0], 'gone')).toBeDefined();
    await store.drop('gone');
    expect((await store.list()).map((c) => c.name)).not.toContain('gone');
    expect(matchOf((await store.match([{ ra: 50, dec: 50 }]))[0], 'gone')).toBeUndefined();
    const rows = await queryRows<{ n: string }>(
      db.client,
      sql`SELECT count() AS n FROM catalog_sources WHERE catalog = 'gone'`,
    );
    expect(Number(rows[0]!.n)).toBe(0);
    await expect(store.drop('gone')).rejects.toThrow(CatalogError);
    await expect(store.drop('gone')).rejects.toThrow(/not loaded \(loaded: .*gcvs/);
    // A dropped name can be loaded again.
    await loadEdges(store, 'gone', ['b,51,51,y']);
    expect(matchOf((await store.match([{ ra: 51, dec: 51 }]))[0], 'gone')?.sourceId).toBe('b');
  });

  it("another process's store sees a newly loaded catalog once its cache refreshes", async () => {
    let now = Date.now();
    const pipeline = new ClickHouseCatalogStore(db.client, { refreshIntervalMs: 60_000, now: () => now });
    expect(matchOf((await pipeline.match([{ ra: 60, dec: 60 }]))[0], 'late')).toBeUndefined();
    await loadEdges(store, 'late', ['a,60,60,x']);
    now += 59_000;
    expect(matchOf((await pipeline.match([{ ra: 60, dec: 60 }]))[0], 'late')).toBeUndefined();
    now += 2_000;
    expect(matchOf((await pipeline.match([{ ra: 60, dec: 60 }]))[0], 'late')?.sourceId).toBe('a');
  });

  it('refuses bad names and radii, and says when the tables are missing', async () => {
    const file = writeCsv(['a,1,1,x']);
    const rows = async (): Promise<AsyncIterable<CatalogSource>> =>
      (await openCatalog(file, EDGES_COLUMNS)).sources();
    await expect(store.load(edgesDefinition("x'; DROP", file), await rows())).rejects.toThrow(CatalogError);
    await expect(store.load(edgesDefinition('r', file, 0), await rows())).rejects.toThrow(/radius/);
    const empty = await createTestDatabase('nomigrate');
    try {
      // A quiet client: the refused query is the point, not something to log.
      const client = connectClickHouse(empty.config, { quiet: true });
      try {
        await expect(new ClickHouseCatalogStore(client).list()).rejects.toThrow(/fink migrate/);
      } finally {
        await client.close();
      }
    } finally {
      await empty.drop();
    }
  });
});

describe('fink catalog load|list|drop', () => {
  async function fink(...args: string[]): Promise<{ out: string; err: string; code: number }> {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
      out.push(parts.join(' '));
    });
    const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
      err.push(parts.join(' '));
    });
    const previous = process.exitCode;
    process.exitCode = undefined;
    try {
      const program = new Command('fink').exitOverride();
      registerCatalogCommands(program, () => ({ ...testConfig(), clickhouse: db.config }));
      await program.parseAsync(['node', 'fink', ...args]);
      return { out: out.join('\n'), err: err.join('\n'), code: Number(process.exitCode ?? 0) };
    } finally {
      process.exitCode = previous;
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('loads 3HSP from the command line, lists it and drops it', async () => {
    const load = await fink(
      'catalog',
      'load',
      'blazars',
      REAL[2]!.file,
      '--ra',
      'R.A.',
      '--dec',
      'Dec',
      '--radius',
      '60',
      '--id-column',
      '3HSP Source name',
      '--columns',
      'FOM,BZcat name',
      '--overriding',
    );
    expect(load).toMatchObject({ code: 0, err: '' });
    expect(load.out).toMatch(
      /^loaded catalog blazars: 2013 rows from .*3hsp\.csv in [\d.]+ s \(radius 60", HEALPix order 11, overriding\)$/,
    );
    const list = await fink('catalog', 'list');
    expect(list.out).toMatch(/^NAME +ROWS +RADIUS/);
    expect(list.out).toMatch(/\nblazars +2013 +60" +11 +- +yes /);
    const target = source('3hsp', '3HSPJ000132.7-415525');
    const [matches] = await store.match([target]);
    expect(matchOf(matches, 'blazars')).toMatchObject({ sourceId: target.sourceId, overriding: true });
    expect(await fink('catalog', 'drop', 'blazars')).toMatchObject({
      code: 0,
      out: 'dropped catalog blazars',
    });
  });

  it('names a missing column and lists the available ones, before writing anything', async () => {
    const result = await fink(
      'catalog',
      'load',
      'broken',
      REAL[0]!.file,
      '--ra',
      'RA',
      '--dec',
      'dec',
      '--radius',
      '1.5',
    );
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      "fink: gcvs.parquet: no column 'RA' (--ra); the file's columns are: 'ra', 'dec', 'VarType'",
    );
    expect((await store.list()).map((c) => c.name)).not.toContain('broken');
  });

  it('names the row and column of a bad coordinate', async () => {
    const file = writeCsv(['a,1,1,x', 'b,25h,2,x']);
    const result = await fink('catalog', 'load', 'bad', file, '--ra', 'ra', '--dec', 'dec', '--radius', '2');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^fink: edges\.csv: row 2 \(line 3\), column 'ra': right ascension 375° is outside/,
    );
    const drop = await fink('catalog', 'drop', 'bad');
    expect(drop.code).toBe(1);
    expect(drop.err).toMatch(/^fink: catalog 'bad' is not loaded/);
  });
});
