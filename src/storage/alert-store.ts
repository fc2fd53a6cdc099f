// What the GraphQL server reads from the science tables (migrations/0002_science.sql, 0007_server_access.sql).
// Every read takes arrays (one query per batch of ids, called from DataLoaders) and returns plain records with
// 64-bit ids as bigint. Replays may leave duplicate rows until ClickHouse merges them: reads use FINAL or
// deduplicate by key, so callers always see each row once.
import { ALERT_HPX_ORDER, coneCellRanges } from '../sky/healpix.ts';
import type { AlertFilterSpec } from './alert-filter.ts';
import { compileFilterSql } from './alert-filter-sql.ts';
import {
  queryRows,
  settingsFittingStatement,
  type ClickHouseClient,
  type QuerySettings,
} from './clickhouse.ts';
import {
  ALERTS,
  CLASSIFICATIONS,
  CROSSMATCHES,
  LIGHTCURVE,
  OBJECTS,
  type AlertRow,
  type ClassificationRow,
  type CrossmatchRow,
  type ObjectRow,
} from './science-store.ts';
import { join, list, sql, type Sql } from './sql.ts';
import { groupBy } from '../util/group-by.ts';

/** The columns of `alerts` every reader shares: the GraphQL API, the filter language (src/filters). */
export type AlertColumns = Pick<
  AlertRow,
  | 'survey'
  | 'alertId'
  | 'objectId'
  | 'jd'
  | 'ra'
  | 'dec'
  | 'band'
  | 'mag'
  | 'magErr'
  | 'roid'
  | 'ssName'
  | 'label'
  | 'ndet'
  | 'nlim'
  | 'firstJd'
  | 'lastJd'
  | 'peakMag'
  | 'colorGr'
  | 'rate'
  | 'rising'
>;

/** An alert as the API reads it: its columns, with its observing night, features and survey record (JSON). */
export type AlertRecord = AlertColumns & Pick<AlertRow, 'night' | 'features' | 'candidate' | 'processedAt'>;

/** The fields of an alert the API reads. */
const ALERT_FIELDS = [
  'survey',
  'alertId',
  'objectId',
  'jd',
  'night',
  'ra',
  'dec',
  'band',
  'mag',
  'magErr',
  'roid',
  'ssName',
  'label',
  'ndet',
  'nlim',
  'firstJd',
  'lastJd',
  'peakMag',
  'colorGr',
  'rate',
  'rising',
  'features',
  'candidate',
  'processedAt',
] as const satisfies readonly (keyof AlertRecord)[];

/** An object's latest state as the API reads it. */
export type ObjectRecord = Omit<ObjectRow, 'version' | 'hpx' | 'updatedAt'>;

const OBJECT_FIELDS = [
  'survey',
  'objectId',
  'lastAlertId',
  'ra',
  'dec',
  'firstJd',
  'lastJd',
  'band',
  'mag',
  'roid',
  'ssName',
  'label',
  'ndet',
  'nlim',
  'peakMag',
  'colorGr',
  'rate',
  'rising',
  'features',
] as const satisfies readonly (keyof ObjectRecord)[];

export interface LightCurvePoint {
  objectId: string;
  jd: number;
  band: string;
  kind: string;
  mag: number | null;
  magErr: number | null;
  limitMag: number | null;
  flux: number | null;
  fluxErr: number | null;
  negative: boolean;
  /** Apparent (DC) magnitude and error of a ZTF detection; null elsewhere. */
  dcMag: number | null;
  dcMagErr: number | null;
  /** null for upper limits and forced points. */
  sourceId: bigint | null;
}

export type ClassificationRecord = Omit<ClassificationRow, 'survey'>;
export type CrossmatchRecord = Omit<CrossmatchRow, 'survey'>;

export interface ConeQuery {
  ra: number;
  dec: number;
  radiusArcsec: number;
  /** Keep objects first detected within [firstJdMin, firstJdMax]. */
  firstJdMin?: number | undefined;
  firstJdMax?: number | undefined;
  /** Only the hits after this one in the order of the answer (a page's last hit: the next page). */
  after?: ConeCursor | undefined;
  limit: number;
}

/**
 * A place in a cone's order: hits are sorted by distance in whole micro-arcseconds, then objectId. An integer
 * key, not the distance itself: a float read back from ClickHouse and bound again as text need not compare equal
 * to the value it came from, an integer does; hits closer than 1 µas to each other are ordered by objectId.
 */
export interface ConeCursor {
  distanceMicroArcsec: number;
  objectId: string;
}

export interface ConeHit extends ConeCursor {
  /** Distance of the object's nearest alert to the centre. */
  distanceArcsec: number;
}

export interface LatestByClassQuery {
  label: string;
  jdMin: number;
  jdMax: number;
  /** true: only alerts flagged rising; false: only fading; undefined: both. */
  rising?: boolean | undefined;
  limit: number;
}

export interface ClassCount {
  label: string;
  alerts: number;
  objects: number;
}

export interface NightStats {
  night: string;
  alerts: number;
  objects: number;
  byClass: ClassCount[];
}

export interface SkyMapQuery {
  /** HEALPix order of the cells counted (at most ALERT_HPX_ORDER). */
  order: number;
  /** Only the alerts of this night (YYYY-MM-DD) / of this class; every one when undefined. */
  night?: string | undefined;
  label?: string | undefined;
}

export interface SkyMapCell {
  /** NESTED pixel at the query's order. */
  pixel: number;
  alerts: number;
}

/** Keyset position in a search ordered by (jd, alertId) descending. */
export interface SearchCursor {
  jd: number;
  alertId: bigint;
}

export interface AlertStore {
  alertsByIds(ids: readonly bigint[]): Promise<AlertRecord[]>;
  alertsByObjectIds(objectIds: readonly string[]): Promise<AlertRecord[]>;
  objectsByIds(objectIds: readonly string[]): Promise<ObjectRecord[]>;
  lightCurvesByObjectIds(objectIds: readonly string[]): Promise<LightCurvePoint[]>;
  classificationsByObjectIds(objectIds: readonly string[]): Promise<ClassificationRecord[]>;
  crossmatchesByObjectIds(objectIds: readonly string[]): Promise<CrossmatchRecord[]>;
  cone(query: ConeQuery): Promise<ConeHit[]>;
  latestByClass(query: LatestByClassQuery): Promise<string[]>;
  /** The jd of the newest stored alert (the archive's "now": replays and archives end long ago); null: none. */
  newestAlertJd(): Promise<number | null>;
  /** The jd of the newest stored alert of a class; null: none. */
  newestJdOfClass(label: string): Promise<number | null>;
  classCounts(): Promise<ClassCount[]>;
  nightStats(fromNight: string, toNight: string): Promise<NightStats[]>;
  /** Alerts per HEALPix cell (non-empty cells only, by pixel). */
  skyMap(query: SkyMapQuery): Promise<SkyMapCell[]>;
  objectIdsBySolarSystemName(name: string, limit: number): Promise<string[]>;
  /** Counterparts with these catalogue source ids (names), nearest first; at most `limit`. */
  crossmatchesBySourceIds(sourceIds: readonly string[], limit: number): Promise<CrossmatchRecord[]>;
  /** Alerts the filter selects (a validated one: src/filters/validate.ts), newest first, after the cursor. */
  search(filter: AlertFilterSpec, after: SearchCursor | null, limit: number): Promise<AlertRecord[]>;
}

export class ClickHouseAlertStore implements AlertStore {
  constructor(private readonly client: ClickHouseClient) {}

  async alertsByIds(ids: readonly bigint[]): Promise<AlertRecord[]> {
    if (ids.length === 0) return [];
    // alerts is sorted by object: find the objects through alerts_by_id, then read only their rows.
    return this.alerts(
      sql`SELECT ${ALERTS.select(ALERT_FIELDS)} FROM alerts FINAL
          WHERE object_id IN (SELECT object_id FROM alerts_by_id WHERE alert_id IN (${list(ids)}))
            AND alert_id IN (${list(ids)})`,
    );
  }

  async alertsByObjectIds(objectIds: readonly string[]): Promise<AlertRecord[]> {
    if (objectIds.length === 0) return [];
    return this.alerts(
      sql`SELECT ${ALERTS.select(ALERT_FIELDS)} FROM alerts FINAL WHERE object_id IN (${list(objectIds)})
          ORDER BY object_id, jd`,
    );
  }

  async objectsByIds(objectIds: readonly string[]): Promise<ObjectRecord[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.client,
      sql`SELECT ${OBJECTS.select(OBJECT_FIELDS)} FROM objects FINAL WHERE object_id IN (${list(objectIds)})`,
    );
    return rows.map((json) => OBJECTS.readRow(json));
  }

  async lightCurvesByObjectIds(objectIds: readonly string[]): Promise<LightCurvePoint[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.client,
      sql`SELECT ${LIGHTCURVE.select(LIGHTCURVE_FIELDS)}
          FROM lightcurve FINAL WHERE object_id IN (${list(objectIds)}) ORDER BY object_id, jd, band`,
    );
    return rows.map((json) => {
      const { sourceId, ...point } = LIGHTCURVE.readRow(json);
      // The table stores 0 for points that are not a detection of their own.
      return { ...point, sourceId: sourceId === 0n ? null : sourceId };
    });
  }

  async classificationsByObjectIds(objectIds: readonly string[]): Promise<ClassificationRecord[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.client,
      sql`SELECT ${CLASSIFICATIONS.select(CLASSIFICATION_FIELDS)}
          FROM classifications FINAL WHERE object_id IN (${list(objectIds)})
          ORDER BY object_id, jd, alert_id, classifier, version`,
    );
    return rows.map((json) => CLASSIFICATIONS.readRow(json));
  }

  async crossmatchesByObjectIds(objectIds: readonly string[]): Promise<CrossmatchRecord[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.client,
      sql`SELECT ${CROSSMATCHES.select(CROSSMATCH_FIELDS)}
          FROM crossmatches FINAL WHERE object_id IN (${list(objectIds)})
          ORDER BY object_id, catalog, jd`,
    );
    return rows.map((json) => CROSSMATCHES.readRow(json));
  }

  async cone(query: ConeQuery): Promise<ConeHit[]> {
    const { ra, dec, radiusArcsec, limit } = query;
    const ranges = coneCellRanges(ra, dec, radiusArcsec);
    const inCells = join(
      ranges.map(([from, to]) => sql`(hpx >= ${from} AND hpx < ${to})`),
      ' OR ',
    );
    const distance = haversineArcsecSql(ra, dec);
    const firstJd = [
      query.firstJdMin === undefined ? null : sql`first_jd >= ${query.firstJdMin}`,
      query.firstJdMax === undefined ? null : sql`first_jd <= ${query.firstJdMax}`,
    ].filter((condition): condition is Sql => condition !== null);
    const objectCondition =
      firstJd.length === 0
        ? sql``
        : sql`AND object_id IN (SELECT object_id FROM objects FINAL WHERE ${join(firstJd, ' AND ')})`;
    const after =
      query.after === undefined
        ? sql``
        : sql`AND (distance_uas > ${query.after.distanceMicroArcsec}
                   OR (distance_uas = ${query.after.distanceMicroArcsec} AND object_id > ${query.after.objectId}))`;
    // Duplicates left by replays only repeat a distance: min() per object is the same with or without FINAL.
    const rows = await queryRows<{ object_id: string; distance: number; distance_uas: string }>(
      this.client,
      sql`SELECT object_id, min(${distance}) AS distance, toUInt64(round(distance * 1000000)) AS distance_uas
          FROM alerts_by_hpx
          WHERE (${inCells}) ${objectCondition}
          GROUP BY object_id
          HAVING distance <= ${radiusArcsec} ${after}
          ORDER BY distance_uas, object_id
          LIMIT ${limit}`,
    );
    return rows.map((row) => ({
      objectId: row.object_id,
      distanceArcsec: row.distance,
      distanceMicroArcsec: Number(row.distance_uas),
    }));
  }

  async latestByClass(query: LatestByClassQuery): Promise<string[]> {
    const rising = query.rising === undefined ? sql`` : sql`AND rising = ${query.rising ? 1 : 0}`;
    const rows = await queryRows<{ object_id: string }>(
      this.client,
      sql`SELECT object_id, max(jd) AS latest
          FROM alerts_by_class
          WHERE class = ${query.label} AND jd >= ${query.jdMin} AND jd <= ${query.jdMax} ${rising}
          GROUP BY object_id
          ORDER BY latest DESC, object_id
          LIMIT ${query.limit}`,
    );
    return rows.map((row) => row.object_id);
  }

  async newestAlertJd(): Promise<number | null> {
    // alerts_by_night is sorted by night: only the last nights' granules are read for jd. Nights are local dates
    // per survey (ZTF's and Rubin's differ by hours): the newest alert lies within a day of the latest night.
    const [row] = await queryRows<{ jd: number; n: string }>(
      this.client,
      sql`SELECT max(jd) AS jd, count() AS n FROM alerts_by_night
          WHERE night >= (SELECT max(night) FROM alerts_by_night) - 1`,
    );
    return row === undefined || Number(row.n) === 0 ? null : row.jd;
  }

  async newestJdOfClass(label: string): Promise<number | null> {
    const [row] = await queryRows<{ jd: number; n: string }>(
      this.client,
      sql`SELECT max(jd) AS jd, count() AS n FROM alerts_by_class WHERE class = ${label}`,
    );
    return row === undefined || Number(row.n) === 0 ? null : row.jd;
  }

  async classCounts(): Promise<ClassCount[]> {
    const rows = await queryRows<{ class: string; alerts: string; objects: string }>(
      this.client,
      sql`SELECT class, uniqExact(alert_id) AS alerts, uniqExact(object_id) AS objects
          FROM alerts_by_night GROUP BY class ORDER BY alerts DESC, class`,
    );
    return rows.map((row) => ({
      label: row.class,
      alerts: Number(row.alerts),
      objects: Number(row.objects),
    }));
  }

  async nightStats(fromNight: string, toNight: string): Promise<NightStats[]> {
    const rows = await queryRows<{ night_text: string; class: string; alerts: string; objects: string }>(
      this.client,
      sql`SELECT toString(night) AS night_text, class, uniqExact(alert_id) AS alerts, uniqExact(object_id) AS objects
          FROM alerts_by_night
          WHERE night >= toDate(${fromNight}) AND night <= toDate(${toNight})
          GROUP BY night, class ORDER BY night, class`,
    );
    const totals = await queryRows<{ night_text: string; alerts: string; objects: string }>(
      this.client,
      sql`SELECT toString(night) AS night_text, uniqExact(alert_id) AS alerts, uniqExact(object_id) AS objects
          FROM alerts_by_night
          WHERE night >= toDate(${fromNight}) AND night <= toDate(${toNight})
          GROUP BY night ORDER BY night`,
    );
    const byNight = groupBy(rows, (row) => row.night_text);
    return totals.map((total) => ({
      night: total.night_text,
      alerts: Number(total.alerts),
      objects: Number(total.objects),
      byClass: (byNight.get(total.night_text) ?? []).map((row) => ({
        label: row.class,
        alerts: Number(row.alerts),
        objects: Number(row.objects),
      })),
    }));
  }

  async skyMap(query: SkyMapQuery): Promise<SkyMapCell[]> {
    // hpx is the NESTED pixel at ALERT_HPX_ORDER: its cell at a shallower order drops two bits per order.
    const divisor = 4 ** (ALERT_HPX_ORDER - query.order);
    const conditions = [
      query.night === undefined ? null : sql`night = toDate(${query.night})`,
      query.label === undefined ? null : sql`class = ${query.label}`,
    ].filter((condition): condition is Sql => condition !== null);
    const where = conditions.length === 0 ? sql`` : sql`WHERE ${join(conditions, ' AND ')}`;
    // Replays may leave an alert twice until a merge: counted once by its id.
    const rows = await queryRows<{ cell: string; alerts: string }>(
      this.client,
      sql`SELECT intDiv(hpx, ${divisor}) AS cell, uniqExact(alert_id) AS alerts
          FROM alerts_by_hpx ${where}
          GROUP BY cell ORDER BY cell`,
    );
    return rows.map((row) => ({ pixel: Number(row.cell), alerts: Number(row.alerts) }));
  }

  async objectIdsBySolarSystemName(name: string, limit: number): Promise<string[]> {
    const rows = await queryRows<{ object_id: string }>(
      this.client,
      sql`SELECT object_id, max(jd) AS latest FROM alerts WHERE ss_name = ${name}
          GROUP BY object_id ORDER BY latest DESC, object_id LIMIT ${limit}`,
    );
    return rows.map((row) => row.object_id);
  }

  async crossmatchesBySourceIds(sourceIds: readonly string[], limit: number): Promise<CrossmatchRecord[]> {
    if (sourceIds.length === 0) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.client,
      sql`SELECT ${CROSSMATCHES.select(CROSSMATCH_FIELDS)}
          FROM crossmatches FINAL WHERE source_id IN (${list(sourceIds)})
          ORDER BY distance_arcsec, object_id, jd DESC LIMIT ${limit}`,
    );
    return rows.map((json) => CROSSMATCHES.readRow(json));
  }

  async search(filter: AlertFilterSpec, after: SearchCursor | null, limit: number): Promise<AlertRecord[]> {
    const condition = compileFilterSql(filter);
    const page =
      after === null
        ? sql``
        : sql`AND (jd < ${after.jd} OR (jd = ${after.jd} AND alert_id < ${after.alertId}))`;
    // A filter at the documented limits compiles to more SQL than the parser's defaults allow.
    const statement = sql`SELECT ${ALERTS.select(ALERT_FIELDS)} FROM alerts FINAL WHERE (${condition}) ${page}
          ORDER BY jd DESC, alert_id DESC LIMIT ${limit}`;
    return this.alerts(statement, settingsFittingStatement(statement));
  }

  private async alerts(query: Sql, settings: QuerySettings = {}): Promise<AlertRecord[]> {
    const rows = await queryRows<Record<string, unknown>>(this.client, query, settings);
    return rows.map((json) => ALERTS.readRow(json));
  }
}

const LIGHTCURVE_FIELDS = [
  'objectId',
  'jd',
  'band',
  'kind',
  'mag',
  'magErr',
  'limitMag',
  'flux',
  'fluxErr',
  'negative',
  'dcMag',
  'dcMagErr',
  'sourceId',
] as const;
const CLASSIFICATION_FIELDS = [
  'alertId',
  'objectId',
  'jd',
  'classifier',
  'version',
  'label',
  'score',
  'processedAt',
  'modelFile',
  'modelSha256',
  'finkScienceVersion',
] as const;
const CROSSMATCH_FIELDS = [
  'alertId',
  'objectId',
  'jd',
  'catalog',
  'sourceId',
  'distanceArcsec',
  'type',
] as const;

/** Great-circle distance in arcsec from (ra, dec) to the row's (ra, dec): the same haversine as the JS side. */
function haversineArcsecSql(ra: number, dec: number): Sql {
  const rad = Math.PI / 180;
  return sql`(2 * asin(least(1, sqrt(
      pow(sin((dec - ${dec}) * ${rad} / 2), 2)
      + cos(${dec * rad}) * cos(dec * ${rad}) * pow(sin((ra - ${ra}) * ${rad} / 2), 2)))) * ${(180 * 3600) / Math.PI})`;
}
