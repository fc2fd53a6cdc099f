// Static catalogs for cross-matching (GCVS, SPICY, 3HSP, ...): loaded once with `fink catalog load`, matched
// against every alert batch.
//
// Index: each source is stored under its HEALPix NESTED pixel at an order chosen from the catalog's radius
// (healpixOrderForRadius). To match a position, the pixels a disc of the catalog's radius can touch are listed
// with the library's inclusive disc query (it never misses one; measured on 200,000 random discs: GCVS/SPICY
// at order 15 mean 4.5 pixels, max 7; 3HSP at order 11 mean 7.7, max 11), the rows of those pixels are fetched
// with ONE query per catalog per batch (`hpx IN (...)` on the primary key), and exact angular distances are
// computed here. A source at exactly the radius matches.
//
// Reload is atomic for readers: rows are written under a new `generation` (a partition of its own), then the
// metadata row switches to it. The superseded generation stays on disk until the next load or drop of that
// catalog, so a running pipeline whose metadata cache still names it keeps matching against complete data
// until its cache refreshes (at most `refreshIntervalMs`, default 60 s). A dropped catalog's rows go at once
// (a stale reader finds nothing in it until its refresh). Loads of the same catalog must not run concurrently.
import { angularDistanceArcsec, isValidPosition } from '../sky/angles.ts';
import { healpixDisc, healpixOrderForRadius, healpixPixel } from '../sky/healpix.ts';
import type { ClickHouseClient } from './clickhouse.ts';
import { queryRows, runCommand, StorageError } from './clickhouse.ts';
import { insertRows } from './row-binary.ts';
import { defineTable, type RowOfTable } from './table.ts';
import { join, sql } from './sql.ts';
import type { Sql } from './sql.ts';

// ---------------------------------------------------------------------------------------------------------
// Types

/** What `fink catalog load` records about a catalog. */
export interface CatalogDefinition {
  /** Letters, digits, `_`, `.`, `-`; the `catalog` field of every match. */
  name: string;
  /** The file it was loaded from (for `fink catalog list`). */
  file: string;
  raColumn: string;
  decColumn: string;
  /** Source id column; null: ids are 1-based row numbers in the file. */
  idColumn: string | null;
  /** Type column; null: matches carry type null. */
  typeColumn: string | null;
  /** Extra columns stored with each source as JSON text. */
  extraColumns: readonly string[];
  /** Match radius in arcseconds (GCVS 1.5, SPICY 1.2, 3HSP 60 in Fink). */
  radiusArcsec: number;
  /** The match's type replaces the classification label (like SIMBAD in Fink). */
  overriding: boolean;
}

export interface CatalogSource {
  sourceId: string;
  /** Degrees, [0, 360). */
  ra: number;
  /** Degrees, [-90, 90]. */
  dec: number;
  type: string | null;
  /** Values of the extra columns, stored as JSON text; null when the catalog keeps none. */
  extra: Record<string, unknown> | null;
}

export interface CatalogInfo extends CatalogDefinition {
  /** HEALPix order the sources are indexed at. */
  hpxOrder: number;
  rowCount: number;
  loadedAt: Date;
  /** The rows' generation (a partition of catalog_sources); changes at every load. */
  generation: number;
}

/** The nearest source of one catalog within that catalog's radius of a position. */
export interface CatalogMatch {
  catalog: string;
  sourceId: string;
  distanceArcsec: number;
  type: string | null;
  overriding: boolean;
}

export interface SkyPosition {
  /** Degrees. */
  ra: number;
  /** Degrees. */
  dec: number;
}

/** The part of the store a pipeline stage needs. */
export interface CatalogMatcher {
  /**
   * For each position, at most one match per loaded catalog (the nearest source within the catalog's radius),
   * ordered by catalog name. Result i belongs to position i; a position with a non-finite or out-of-range
   * coordinate matches nothing.
   */
  match(positions: readonly SkyPosition[]): Promise<CatalogMatch[][]>;
}

export interface CatalogStore extends CatalogMatcher {
  /** Loads (or reloads, replacing) a catalog. Rows are validated and written in batches. */
  load(
    definition: CatalogDefinition,
    rows: AsyncIterable<CatalogSource> | Iterable<CatalogSource>,
  ): Promise<{ rows: number; hpxOrder: number }>;
  list(): Promise<CatalogInfo[]>;
  /**
   * The distinct types of the loaded overriding catalogs' sources (the labels their matches give alerts),
   * sorted; empty types left out.
   */
  overridingTypes(): Promise<string[]>;
  /** Removes a catalog and its rows; a catalog that is not loaded is a CatalogError. */
  drop(name: string): Promise<void>;
}

/** A request the store refuses (bad name or radius, unknown catalog, invalid row, missing tables). */
export class CatalogError extends Error {
  override name = 'CatalogError';
}

/** The disc query needs a radius below 90°; a cross-match radius beyond a degree is a mistake. */
export const MAX_RADIUS_ARCSEC = 3600;

// ---------------------------------------------------------------------------------------------------------
// ClickHouse

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Rows per INSERT: 117k SPICY rows go in three requests. */
const INSERT_BATCH_ROWS = 50_000;
/**
 * Pixels per SELECT. ClickHouse parses at most max_query_size (256 KiB by default) of a query; 10,000 pixel
 * numbers are ~130 KB. A batch of up to ~1,500 alerts needs one query per catalog; larger ones are split.
 */
const MAX_PIXELS_PER_QUERY = 10_000;

export interface ClickHouseCatalogStoreOptions {
  /** How long the loaded catalogs' metadata is cached by `match`; a catalog loaded elsewhere shows up after it. */
  refreshIntervalMs?: number;
  /** Rows per INSERT request while loading. */
  insertBatchRows?: number;
  now?: () => number;
}

interface CatalogRow {
  name: string;
  file: string;
  ra_column: string;
  dec_column: string;
  id_column: string;
  type_column: string;
  extra_columns: string[];
  radius_arcsec: number;
  hpx_order: number;
  overriding: number;
  row_count: string;
  generation: string;
  loaded_at_unix: number;
}

const SOURCES_TABLE = defineTable('catalog_sources', {
  catalog: 'String',
  generation: 'UInt64',
  hpx: 'UInt64',
  source_id: 'String',
  ra: 'Float64',
  dec: 'Float64',
  type: 'String',
  extra: 'String',
});
type SourceInsertRow = RowOfTable<typeof SOURCES_TABLE>;

interface SourceRow {
  hpx: string;
  source_id: string;
  ra: number;
  dec: number;
  type: string;
}

interface Candidate {
  source: SourceRow;
  distanceArcsec: number;
}

export class ClickHouseCatalogStore implements CatalogStore {
  private readonly refreshIntervalMs: number;
  private readonly insertBatchRows: number;
  private readonly now: () => number;
  private cache: { at: number; catalogs: CatalogInfo[] } | undefined;
  private refreshing: Promise<CatalogInfo[]> | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    options: ClickHouseCatalogStoreOptions = {},
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
    this.insertBatchRows = options.insertBatchRows ?? INSERT_BATCH_ROWS;
    this.now = options.now ?? Date.now;
  }

  async load(
    definition: CatalogDefinition,
    rows: AsyncIterable<CatalogSource> | Iterable<CatalogSource>,
  ): Promise<{ rows: number; hpxOrder: number }> {
    checkDefinition(definition);
    const { name } = definition;
    const hpxOrder = healpixOrderForRadius(definition.radiusArcsec);
    const state = await this.state(name);
    // Versions only grow: a reload within the same millisecond as the previous one still supersedes it.
    const generation = Math.max(this.now(), state.version + 1);

    let count = 0;
    try {
      let batch: SourceInsertRow[] = [];
      for await (const source of rows) {
        count++;
        checkSource(source, count);
        batch.push({
          catalog: name,
          generation: BigInt(generation),
          hpx: BigInt(healpixPixel(hpxOrder, source.ra, source.dec)),
          source_id: source.sourceId,
          ra: source.ra,
          dec: source.dec,
          type: source.type ?? '',
          extra: source.extra === null ? '' : JSON.stringify(source.extra),
        });
        if (batch.length >= this.insertBatchRows) {
          await this.insert(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.insert(batch);
    } catch (err) {
      // The half-written generation is invisible (no metadata names it); remove it, keep the first error.
      await this.dropGeneration(name, generation).catch(() => undefined);
      throw err;
    }

    await runCommand(
      this.client,
      sql`INSERT INTO catalogs (name, file, ra_column, dec_column, id_column, type_column, extra_columns,
            radius_arcsec, hpx_order, overriding, row_count, generation, loaded_at, dropped, version)
          VALUES (${name}, ${definition.file}, ${definition.raColumn}, ${definition.decColumn},
            ${definition.idColumn ?? ''}, ${definition.typeColumn ?? ''}, ${[...definition.extraColumns]},
            ${definition.radiusArcsec}, ${hpxOrder}, ${definition.overriding}, ${count}, ${generation},
            ${new Date(this.now())}, 0, ${generation})`,
    );
    // Keep the generation just superseded (readers with a stale cache use it); older ones are garbage.
    for (const old of await this.generationsOnDisk(name)) {
      if (old !== generation && old !== state.generation) await this.dropGeneration(name, old);
    }
    this.cache = undefined;
    return { rows: count, hpxOrder };
  }

  async list(): Promise<CatalogInfo[]> {
    const rows = await this.query<CatalogRow>(
      sql`SELECT name, file, ra_column, dec_column, id_column, type_column, extra_columns, radius_arcsec,
                 hpx_order, overriding, row_count, generation, toUInt32(loaded_at) AS loaded_at_unix
          FROM catalogs
          WHERE (name, version) IN (SELECT name, max(version) FROM catalogs GROUP BY name) AND dropped = 0
          ORDER BY name`,
    );
    const catalogs = rows.map(toInfo);
    this.cache = { at: this.now(), catalogs };
    return catalogs;
  }

  async overridingTypes(): Promise<string[]> {
    const overriding = (await this.catalogs()).filter((catalog) => catalog.overriding);
    if (overriding.length === 0) return [];
    const current = join(
      overriding.map((catalog) => sql`(catalog = ${catalog.name} AND generation = ${catalog.generation})`),
      ' OR ',
    );
    const rows = await this.query<{ type: string }>(
      sql`SELECT DISTINCT type FROM catalog_sources WHERE (${current}) AND type != '' ORDER BY type`,
    );
    return rows.map((row) => row.type);
  }

  async drop(name: string): Promise<void> {
    const state = await this.state(name);
    if (state.generation === undefined) {
      const loaded = (await this.list()).map((catalog) => catalog.name);
      throw new CatalogError(
        `catalog '${name}' is not loaded${loaded.length > 0 ? ` (loaded: ${loaded.join(', ')})` : ''}`,
      );
    }
    // A tombstone with a higher version hides the catalog from readers before its rows go.
    await runCommand(
      this.client,
      sql`INSERT INTO catalogs (name, loaded_at, dropped, version)
          VALUES (${name}, ${new Date(this.now())}, 1, ${Math.max(this.now(), state.version + 1)})`,
    );
    for (const generation of await this.generationsOnDisk(name)) await this.dropGeneration(name, generation);
    this.cache = undefined;
  }

  async match(positions: readonly SkyPosition[]): Promise<CatalogMatch[][]> {
    const results = positions.map((): CatalogMatch[] => []);
    if (positions.length === 0) return results;
    const catalogs = await this.catalogs();
    // Catalogs indexed at the same HEALPix order share each position's disc, drawn at the largest of their radii:
    // a superset of the pixels each needs (every source is then checked against its own catalog's radius).
    const widest = new Map<number, number>();
    for (const { hpxOrder, radiusArcsec } of catalogs) {
      widest.set(hpxOrder, Math.max(radiusArcsec, widest.get(hpxOrder) ?? 0));
    }
    const discs = new Map<number, (number[] | undefined)[]>();
    const discsOf = ({ hpxOrder }: CatalogInfo) => {
      let found = discs.get(hpxOrder);
      if (found === undefined) {
        const radius = widest.get(hpxOrder)!;
        found = positions.map(({ ra, dec }) =>
          isValidPosition(ra, dec) ? healpixDisc(hpxOrder, ra, dec, radius) : undefined,
        );
        discs.set(hpxOrder, found);
      }
      return found;
    };
    const perCatalog = await Promise.all(
      catalogs.map((catalog) => this.matchCatalog(catalog, positions, discsOf(catalog))),
    );
    catalogs.forEach((catalog, c) => {
      perCatalog[c]!.forEach((best, i) => {
        if (best === undefined) return;
        results[i]!.push({
          catalog: catalog.name,
          sourceId: best.source.source_id,
          distanceArcsec: best.distanceArcsec,
          type: best.source.type === '' ? null : best.source.type,
          overriding: catalog.overriding,
        });
      });
    });
    return results;
  }

  /** The nearest source within the radius for each position (undefined: none), from one query per batch. */
  private async matchCatalog(
    catalog: CatalogInfo,
    positions: readonly SkyPosition[],
    /** Each position's disc at the catalog's order (a radius at least its own); undefined: not a valid position. */
    discs: readonly (number[] | undefined)[],
  ): Promise<(Candidate | undefined)[]> {
    const best: (Candidate | undefined)[] = positions.map(() => undefined);
    const byPixel = new Map<number, number[]>();
    discs.forEach((disc, i) => {
      for (const pixel of disc ?? []) {
        const list = byPixel.get(pixel);
        if (list === undefined) byPixel.set(pixel, [i]);
        else list.push(i);
      }
    });
    const pixels = [...byPixel.keys()].sort((a, b) => a - b);
    for (let start = 0; start < pixels.length; start += MAX_PIXELS_PER_QUERY) {
      const chunk = pixels.slice(start, start + MAX_PIXELS_PER_QUERY);
      // ClickHouse 18.16 refuses `IN [array]`, so the pixels go in as a bound list: IN (p1, p2, ...).
      const inList = join(
        chunk.map((pixel) => sql`${pixel}`),
        ', ',
      );
      const rows = await this.query<SourceRow>(
        sql`SELECT hpx, source_id, ra, dec, type FROM catalog_sources
            WHERE catalog = ${catalog.name} AND generation = ${catalog.generation} AND hpx IN (${inList})`,
      );
      for (const source of rows) {
        // A source lies in exactly one pixel, so each (source, position) pair is looked at once.
        for (const i of byPixel.get(Number(source.hpx)) ?? []) {
          const position = positions[i]!;
          const distanceArcsec = angularDistanceArcsec(position.ra, position.dec, source.ra, source.dec);
          if (distanceArcsec > catalog.radiusArcsec) continue;
          const current = best[i];
          if (
            current === undefined ||
            distanceArcsec < current.distanceArcsec ||
            (distanceArcsec === current.distanceArcsec && source.source_id < current.source.source_id)
          ) {
            best[i] = { source, distanceArcsec };
          }
        }
      }
    }
    return best;
  }

  /** The loaded catalogs, from a cache refreshed every refreshIntervalMs (one refresh at a time). */
  private async catalogs(): Promise<CatalogInfo[]> {
    if (this.cache !== undefined && this.now() - this.cache.at < this.refreshIntervalMs) {
      return this.cache.catalogs;
    }
    this.refreshing ??= this.list().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The latest metadata row of a catalog: its version, and its generation unless dropped or never loaded. */
  private async state(name: string): Promise<{ version: number; generation: number | undefined }> {
    checkName(name);
    const rows = await this.query<{ version: string; generation: string; dropped: number }>(
      sql`SELECT version, generation, dropped FROM catalogs WHERE name = ${name} ORDER BY version DESC LIMIT 1`,
    );
    const latest = rows[0];
    if (latest === undefined) return { version: 0, generation: undefined };
    return {
      version: Number(latest.version),
      generation: Number(latest.dropped) === 1 ? undefined : Number(latest.generation),
    };
  }

  private async generationsOnDisk(name: string): Promise<number[]> {
    const rows = await this.query<{ generation: string }>(
      sql`SELECT DISTINCT generation FROM catalog_sources WHERE catalog = ${name}`,
    );
    return rows.map((row) => Number(row.generation));
  }

  private async dropGeneration(name: string, generation: number): Promise<void> {
    await runCommand(this.client, sql`ALTER TABLE catalog_sources DROP PARTITION (${name}, ${generation})`);
  }

  private async insert(rows: readonly SourceInsertRow[]): Promise<void> {
    try {
      await insertRows(this.client, SOURCES_TABLE, rows);
    } catch (err) {
      throw missingTables(err);
    }
  }

  private async query<T>(statement: Sql): Promise<T[]> {
    try {
      return await queryRows<T>(this.client, statement);
    } catch (err) {
      throw missingTables(err);
    }
  }
}

function toInfo(row: CatalogRow): CatalogInfo {
  return {
    name: row.name,
    file: row.file,
    raColumn: row.ra_column,
    decColumn: row.dec_column,
    idColumn: row.id_column === '' ? null : row.id_column,
    typeColumn: row.type_column === '' ? null : row.type_column,
    extraColumns: row.extra_columns,
    radiusArcsec: row.radius_arcsec,
    overriding: Number(row.overriding) === 1,
    hpxOrder: Number(row.hpx_order),
    rowCount: Number(row.row_count),
    generation: Number(row.generation),
    loadedAt: new Date(Number(row.loaded_at_unix) * 1000),
  };
}

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new CatalogError(
      `catalog name ${JSON.stringify(name)} must be 1-64 letters, digits, '_', '.' or '-'`,
    );
  }
}

function checkDefinition(definition: CatalogDefinition): void {
  checkName(definition.name);
  const radius = definition.radiusArcsec;
  if (!Number.isFinite(radius) || radius <= 0 || radius > MAX_RADIUS_ARCSEC) {
    throw new CatalogError(`radius ${radius}" must be above 0 and at most ${MAX_RADIUS_ARCSEC}"`);
  }
}

function checkSource(source: CatalogSource, row: number): void {
  const { ra, dec } = source;
  if (!Number.isFinite(ra) || ra < 0 || ra >= 360 || !Number.isFinite(dec) || dec < -90 || dec > 90) {
    throw new CatalogError(`row ${row}: position (${ra}, ${dec}) is outside ra [0, 360), dec [-90, 90]`);
  }
}

/** The store's SQL names tables that `fink migrate` creates; say so instead of "Table doesn't exist". */
function missingTables(err: unknown): unknown {
  if (
    err instanceof StorageError &&
    /\bcatalog(s|_sources)\b.*(doesn't|does not) exist|UNKNOWN_TABLE/i.test(err.message)
  ) {
    return new CatalogError(`the catalog tables do not exist: run \`fink migrate\` first (${err.message})`, {
      cause: err,
    });
  }
  return err;
}
