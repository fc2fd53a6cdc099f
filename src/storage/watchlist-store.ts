// Watchlists, their targets and the pipeline's hits on them (migrations/0005_watchlists_followups.sql).
//
// A watchlist is versioned: every save inserts a header row with a higher version (readers take the latest with
// FINAL) and, when the targets change, first writes the new set under a new targets_version, so a reader that sees
// a header always finds its complete targets. Deleting writes a header with deleted = 1.
import type { ClickHouseClient } from './clickhouse.ts';
import { queryRows } from './clickhouse.ts';
import { insertRows } from './row-binary.ts';
import { defineTable, type RowOfTable } from './table.ts';
import { join, sql } from './sql.ts';
import type { Sql } from './sql.ts';

/** Bounds of a watchlist, checked by the API before anything reaches the store. */
export const WATCHLIST_LIMITS = {
  maxNameLength: 100,
  maxLabelLength: 100,
  maxTargets: 10_000,
  maxRadiusArcsec: 3600,
} as const;

export interface WatchlistTarget {
  /** Degrees, [0, 360). */
  ra: number;
  /** Degrees, [-90, 90]. */
  dec: number;
  /** Match radius, (0, 3600]. */
  radiusArcsec: number;
  label: string;
}

export interface Watchlist {
  id: string;
  owner: string;
  name: string;
  public: boolean;
  targetCount: number;
  /** Names the set of targets in watchlist_targets this version uses. */
  targetsVersion: number;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export interface WatchlistChange {
  id: string;
  owner: string;
  name: string;
  public: boolean;
  /** The version this change supersedes (its targets are kept when `targets` is null); null: a new watchlist. */
  previous: Watchlist | null;
  targets: readonly WatchlistTarget[] | null;
  deleted?: boolean;
}

export interface WatchlistHit {
  watchlistId: string;
  alertId: bigint;
  objectId: string;
  survey: string;
  targetLabel: string;
  distanceArcsec: number;
  jd: number;
  ra: number;
  dec: number;
}

/** Position of a hit in the newest-first order: hits strictly older than it come after. */
export interface HitCursor {
  jd: number;
  alertId: bigint;
}

export interface HitPage {
  hits: WatchlistHit[];
  hasNextPage: boolean;
}

/** What the pipeline's watchlist matcher reads. */
export interface WatchlistSource {
  /** Every watchlist not deleted, without its targets (one row each: cheap to poll). */
  active(): Promise<Watchlist[]>;
  /** The targets of each watchlist at its targetsVersion, in the order given, keyed by watchlist id. */
  targets(watchlists: readonly Watchlist[]): Promise<Map<string, WatchlistTarget[]>>;
}

/** What the raw2science recorder writes. */
export interface WatchlistHitWriter {
  /** Idempotent: writing the hit of the same (watchlist, alert) again replaces it. */
  writeHits(hits: readonly WatchlistHit[]): Promise<void>;
}

export interface WatchlistStore extends WatchlistSource, WatchlistHitWriter {
  /** Writes a new version of each watchlist (targets first, then the header) and returns them as saved. */
  save(changes: readonly WatchlistChange[]): Promise<Watchlist[]>;
  /** The latest version of each id that exists and is not deleted (in no particular order). */
  byIds(ids: readonly string[]): Promise<Watchlist[]>;
  /** Public watchlists and, when user is not null, that user's own; ordered by name. */
  visibleTo(user: string | null): Promise<Watchlist[]>;
  /** Hits of one watchlist, newest first (jd, then alert id, descending), after the cursor. */
  hits(watchlistId: string, page: { first: number; after: HitCursor | null }): Promise<HitPage>;
  /** For each object id, the ids of the watchlists (deleted ones included) it ever hit. */
  watchlistIdsByObjectIds(objectIds: readonly string[]): Promise<Map<string, string[]>>;
}

interface WatchlistRow {
  watchlist_id: string;
  owner: string;
  name: string;
  public: number;
  target_count: number;
  targets_version: string;
  created_at_unix: number;
  updated_at_unix: number;
  deleted: number;
  version: string;
}

const HEADERS = defineTable('watchlists', {
  watchlist_id: 'String',
  owner: 'String',
  name: 'String',
  public: 'UInt8',
  target_count: 'UInt32',
  targets_version: 'UInt64',
  created_at: 'DateTime',
  updated_at: 'DateTime',
  deleted: 'UInt8',
  version: 'UInt64',
});
type HeaderInsertRow = RowOfTable<typeof HEADERS>;

const TARGETS = defineTable('watchlist_targets', {
  watchlist_id: 'String',
  targets_version: 'UInt64',
  idx: 'UInt32',
  ra: 'Float64',
  dec: 'Float64',
  radius_arcsec: 'Float64',
  label: 'String',
});
type TargetInsertRow = RowOfTable<typeof TARGETS>;

const HITS = defineTable('watchlist_hits', {
  watchlist_id: 'String',
  alert_id: 'UInt64',
  object_id: 'String',
  survey: 'String',
  target_label: 'String',
  distance_arcsec: 'Float64',
  jd: 'Float64',
  ra: 'Float64',
  dec: 'Float64',
  recorded_at: 'DateTime',
});
type HitRow = RowOfTable<typeof HITS>;
/** The columns a hit is read with (recorded_at is for the table's own versions). */
const HIT_FIELDS = [
  'watchlist_id',
  'alert_id',
  'object_id',
  'survey',
  'target_label',
  'distance_arcsec',
  'jd',
  'ra',
  'dec',
] as const;

/** Values per IN list: keeps each query well under ClickHouse's 256 KiB max_query_size. */
const MAX_IN_LIST = 2000;

/**
 * The latest version of each watchlist. The `deleted` filter runs outside the FINAL subquery: a condition on a
 * non-key column inside it could be moved to PREWHERE and drop the newest row before deduplication, bringing an
 * older, undeleted version back.
 */
const HEADER_COLUMNS = sql`watchlist_id, owner, name, public, target_count, targets_version,
  toUInt32(created_at) AS created_at_unix, toUInt32(updated_at) AS updated_at_unix, deleted, version`;

export class ClickHouseWatchlistStore implements WatchlistStore {
  private readonly now: () => number;

  constructor(
    private readonly client: ClickHouseClient,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async save(changes: readonly WatchlistChange[]): Promise<Watchlist[]> {
    if (changes.length === 0) return [];
    const now = this.now();
    const saved: Watchlist[] = [];
    const targetRows: TargetInsertRow[] = [];
    const headers: HeaderInsertRow[] = [];
    for (const change of changes) {
      const { previous } = change;
      // Versions only grow, even for two saves within one millisecond or a clock that stepped back.
      const version = Math.max(now, (previous?.version ?? 0) + 1);
      const targetsVersion = change.targets === null ? (previous?.targetsVersion ?? version) : version;
      const targetCount = change.targets === null ? (previous?.targetCount ?? 0) : change.targets.length;
      change.targets?.forEach((target, idx) => {
        targetRows.push({
          watchlist_id: change.id,
          targets_version: BigInt(targetsVersion),
          idx,
          ra: target.ra,
          dec: target.dec,
          radius_arcsec: target.radiusArcsec,
          label: target.label,
        });
      });
      const watchlist: Watchlist = {
        id: change.id,
        owner: change.owner,
        name: change.name,
        public: change.public,
        targetCount,
        targetsVersion,
        // DateTime keeps whole seconds: return what a later read will return.
        createdAt: previous?.createdAt ?? wholeSeconds(now),
        updatedAt: wholeSeconds(now),
        version,
      };
      saved.push(watchlist);
      headers.push({
        watchlist_id: watchlist.id,
        owner: watchlist.owner,
        name: watchlist.name,
        public: watchlist.public ? 1 : 0,
        target_count: targetCount,
        targets_version: BigInt(targetsVersion),
        created_at: watchlist.createdAt,
        updated_at: watchlist.updatedAt,
        deleted: change.deleted === true ? 1 : 0,
        version: BigInt(version),
      });
    }
    await insertRows(this.client, TARGETS, targetRows);
    await insertRows(this.client, HEADERS, headers);
    return saved;
  }

  async byIds(ids: readonly string[]): Promise<Watchlist[]> {
    const unique = [...new Set(ids)];
    const result: Watchlist[] = [];
    for (const chunk of chunks(unique, MAX_IN_LIST)) {
      const rows = await queryRows<WatchlistRow>(
        this.client,
        sql`SELECT * FROM (
              SELECT ${HEADER_COLUMNS} FROM watchlists FINAL WHERE watchlist_id IN (${inList(chunk)})
            ) WHERE deleted = 0`,
      );
      result.push(...rows.map(toWatchlist));
    }
    return result;
  }

  async visibleTo(user: string | null): Promise<Watchlist[]> {
    const visible = user === null ? sql`public = 1` : sql`(public = 1 OR owner = ${user})`;
    const rows = await queryRows<WatchlistRow>(
      this.client,
      sql`SELECT * FROM (SELECT ${HEADER_COLUMNS} FROM watchlists FINAL)
          WHERE deleted = 0 AND ${visible}
          ORDER BY name, watchlist_id`,
    );
    return rows.map(toWatchlist);
  }

  async active(): Promise<Watchlist[]> {
    const rows = await queryRows<WatchlistRow>(
      this.client,
      sql`SELECT * FROM (SELECT ${HEADER_COLUMNS} FROM watchlists FINAL) WHERE deleted = 0
          ORDER BY watchlist_id`,
    );
    return rows.map(toWatchlist);
  }

  async targets(watchlists: readonly Watchlist[]): Promise<Map<string, WatchlistTarget[]>> {
    const result = new Map<string, WatchlistTarget[]>();
    const wanted = new Map<string, number>();
    for (const watchlist of watchlists) {
      wanted.set(watchlist.id, watchlist.targetsVersion);
      result.set(watchlist.id, []);
    }
    for (const chunk of chunks([...wanted.keys()], MAX_IN_LIST)) {
      const versions = [...new Set(chunk.map((id) => wanted.get(id)!))];
      // Ids and versions as two IN lists (a one-element tuple list reads ambiguously); exact pairs kept below.
      const rows = await queryRows<{
        watchlist_id: string;
        targets_version: string;
        ra: number;
        dec: number;
        radius_arcsec: number;
        label: string;
      }>(
        this.client,
        sql`SELECT watchlist_id, targets_version, ra, dec, radius_arcsec, label
            FROM watchlist_targets FINAL
            WHERE watchlist_id IN (${inList(chunk)}) AND targets_version IN (${inList(versions)})
            ORDER BY watchlist_id, idx`,
      );
      for (const row of rows) {
        if (wanted.get(row.watchlist_id) !== Number(row.targets_version)) continue;
        result.get(row.watchlist_id)!.push({
          ra: row.ra,
          dec: row.dec,
          radiusArcsec: row.radius_arcsec,
          label: row.label,
        });
      }
    }
    return result;
  }

  async writeHits(hits: readonly WatchlistHit[]): Promise<void> {
    const recordedAt = new Date(this.now());
    await insertRows(
      this.client,
      HITS,
      hits.map((hit): HitRow => ({
        watchlist_id: hit.watchlistId,
        alert_id: hit.alertId,
        object_id: hit.objectId,
        survey: hit.survey,
        target_label: hit.targetLabel,
        distance_arcsec: hit.distanceArcsec,
        jd: hit.jd,
        ra: hit.ra,
        dec: hit.dec,
        recorded_at: recordedAt,
      })),
    );
  }

  async hits(watchlistId: string, page: { first: number; after: HitCursor | null }): Promise<HitPage> {
    const { first, after } = page;
    if (!Number.isInteger(first) || first < 1) throw new RangeError(`first must be a positive integer`);
    const older =
      after === null
        ? sql``
        : sql`AND (jd < ${after.jd} OR (jd = ${after.jd} AND alert_id < ${after.alertId}))`;
    // Rows of one (watchlist, alert) share jd: filtering on it before FINAL cannot surface an outdated row.
    const rows = (
      await queryRows<Record<string, unknown>>(
        this.client,
        sql`SELECT ${HITS.select(HIT_FIELDS)}
          FROM watchlist_hits FINAL
          WHERE watchlist_id = ${watchlistId} ${older}
          ORDER BY jd DESC, alert_id DESC
          LIMIT ${first + 1}`,
      )
    ).map((json) => HITS.readRow(json));
    return {
      hits: rows.slice(0, first).map((row): WatchlistHit => ({
        watchlistId: row.watchlist_id,
        alertId: row.alert_id,
        objectId: row.object_id,
        survey: row.survey,
        targetLabel: row.target_label,
        distanceArcsec: row.distance_arcsec,
        jd: row.jd,
        ra: row.ra,
        dec: row.dec,
      })),
      hasNextPage: rows.length > first,
    };
  }

  async watchlistIdsByObjectIds(objectIds: readonly string[]): Promise<Map<string, string[]>> {
    const unique = [...new Set(objectIds)];
    const result = new Map<string, string[]>(unique.map((id) => [id, []]));
    for (const chunk of chunks(unique, MAX_IN_LIST)) {
      const rows = await queryRows<{ object_id: string; watchlist_id: string }>(
        this.client,
        sql`SELECT DISTINCT object_id, watchlist_id FROM watchlist_hits_by_object
            WHERE object_id IN (${inList(chunk)})
            ORDER BY object_id, watchlist_id`,
      );
      for (const row of rows) result.get(row.object_id)?.push(row.watchlist_id);
    }
    return result;
  }
}

function toWatchlist(row: WatchlistRow): Watchlist {
  return {
    id: row.watchlist_id,
    owner: row.owner,
    name: row.name,
    public: Number(row.public) === 1,
    targetCount: Number(row.target_count),
    targetsVersion: Number(row.targets_version),
    createdAt: new Date(Number(row.created_at_unix) * 1000),
    updatedAt: new Date(Number(row.updated_at_unix) * 1000),
    version: Number(row.version),
  };
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** A non-empty bound list for `IN (...)` (18.16 refuses `IN [array]`). */
function inList(values: readonly (string | number)[]): Sql {
  return join(
    values.map((value) => sql`${value}`),
    ', ',
  );
}

function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < values.length; start += size) result.push(values.slice(start, start + size));
  return result;
}
