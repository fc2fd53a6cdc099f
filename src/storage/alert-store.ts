// What the GraphQL server reads from the science tables (migrations/0002_science.sql, 0007_server_access.sql).
// Every read takes arrays (one query per batch of ids, called from DataLoaders) and returns plain records with
// 64-bit ids as bigint. Replays may leave duplicate rows until ClickHouse merges them: reads use FINAL or
// deduplicate by key, so callers always see each row once.
import { healpixDisc } from './catalog-store.ts';
import { queryRows, settingsFittingStatement, type ClickHouseClient } from './clickhouse.ts';
import { join, list, sql, type Sql } from './sql.ts';
import { groupBy } from '../util/group-by.ts';

/** The columns of `alerts` every reader shares: the GraphQL API, the filter language (src/filters/record.ts). */
export interface AlertColumns {
  survey: string;
  alertId: bigint;
  objectId: string;
  jd: number;
  ra: number;
  dec: number;
  band: string;
  mag: number | null;
  magErr: number | null;
  roid: number;
  ssName: string;
  label: string;
  ndet: number;
  nlim: number;
  firstJd: number;
  lastJd: number;
  peakMag: number | null;
  colorGr: number | null;
  rate: number | null;
  rising: boolean | null;
}

export interface AlertRecord extends AlertColumns {
  night: string;
  /** Light-curve features (JSON text, as stored). */
  features: string;
  /** The survey's own record of the detection (JSON text, every field). */
  candidate: string;
  processedAt: string;
}

export interface ObjectRecord {
  survey: string;
  objectId: string;
  lastAlertId: bigint;
  ra: number;
  dec: number;
  firstJd: number;
  lastJd: number;
  band: string;
  mag: number | null;
  roid: number;
  ssName: string;
  label: string;
  ndet: number;
  nlim: number;
  peakMag: number | null;
  colorGr: number | null;
  rate: number | null;
  rising: boolean | null;
  features: string;
}

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
  /** null for upper limits and forced points. */
  sourceId: bigint | null;
}

export interface ClassificationRecord {
  alertId: bigint;
  objectId: string;
  jd: number;
  classifier: string;
  version: string;
  label: string;
  score: number | null;
  processedAt: string;
}

export interface CrossmatchRecord {
  alertId: bigint;
  objectId: string;
  jd: number;
  catalog: string;
  sourceId: string;
  distanceArcsec: number;
  type: string;
}

export interface ConeQuery {
  ra: number;
  dec: number;
  radiusArcsec: number;
  /** Keep objects first detected within [firstJdMin, firstJdMax]. */
  firstJdMin?: number | undefined;
  firstJdMax?: number | undefined;
  limit: number;
}

export interface ConeHit {
  objectId: string;
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
  classCounts(): Promise<ClassCount[]>;
  nightStats(fromNight: string, toNight: string): Promise<NightStats[]>;
  objectIdsBySolarSystemName(name: string, limit: number): Promise<string[]>;
  /** Alerts matching `condition` (a WHERE fragment over `alerts`), newest first, after the cursor. */
  search(condition: Sql, after: SearchCursor | null, limit: number): Promise<AlertRecord[]>;
}

/** The HEALPix order of the `hpx` columns (src/pipeline/sky.ts ALERT_HPX_ORDER). */
const ALERT_HPX_ORDER = 15;
/** Cone searches list cells at the order whose cells are about the radius: few ranges of the sorted hpx key. */
const CONE_MAX_CELLS = 64;
/** Side of an order-0 HEALPix cell, arcsec (sqrt(4 pi / 12) radians); each order halves it. */
const CELL_SIZE_ARCSEC_ORDER_0 = Math.sqrt((4 * Math.PI) / 12) * (180 / Math.PI) * 3600;

// Converted columns get names of their own: ClickHouse 18.16 lets a select alias named like a column replace
// that column in WHERE and ORDER BY too.
const ALERT_COLUMNS = sql`survey, toString(alert_id) AS alert_id_text, object_id, jd, toString(night) AS night_text,
  ra, dec, band, mag, mag_err, roid, ss_name, class, ndet, nlim, first_jd, last_jd, peak_mag, color_gr, rate,
  rising, features, candidate, toString(processed_at) AS processed_at_text`;

interface AlertRow {
  survey: string;
  alert_id_text: string;
  object_id: string;
  jd: number;
  night_text: string;
  ra: number;
  dec: number;
  band: string;
  mag: number | null;
  mag_err: number | null;
  roid: number;
  ss_name: string;
  class: string;
  ndet: number;
  nlim: number;
  first_jd: number;
  last_jd: number;
  peak_mag: number | null;
  color_gr: number | null;
  rate: number | null;
  rising: number | null;
  features: string;
  candidate: string;
  processed_at_text: string;
}

interface ObjectRow {
  survey: string;
  object_id: string;
  last_alert_id_text: string;
  ra: number;
  dec: number;
  first_jd: number;
  last_jd: number;
  band: string;
  mag: number | null;
  roid: number;
  ss_name: string;
  class: string;
  ndet: number;
  nlim: number;
  peak_mag: number | null;
  color_gr: number | null;
  rate: number | null;
  rising: number | null;
  features: string;
}

export class ClickHouseAlertStore implements AlertStore {
  constructor(private readonly client: ClickHouseClient) {}

  async alertsByIds(ids: readonly bigint[]): Promise<AlertRecord[]> {
    if (ids.length === 0) return [];
    // alerts is sorted by object: find the objects through alerts_by_id, then read only their rows.
    const rows = await queryRows<AlertRow>(
      this.client,
      sql`SELECT ${ALERT_COLUMNS} FROM alerts FINAL
          WHERE object_id IN (SELECT object_id FROM alerts_by_id WHERE alert_id IN (${list(ids)}))
            AND alert_id IN (${list(ids)})`,
    );
    return rows.map(toAlert);
  }

  async alertsByObjectIds(objectIds: readonly string[]): Promise<AlertRecord[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<AlertRow>(
      this.client,
      sql`SELECT ${ALERT_COLUMNS} FROM alerts FINAL WHERE object_id IN (${list(objectIds)})
          ORDER BY object_id, jd`,
    );
    return rows.map(toAlert);
  }

  async objectsByIds(objectIds: readonly string[]): Promise<ObjectRecord[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<ObjectRow>(
      this.client,
      sql`SELECT survey, object_id, toString(last_alert_id) AS last_alert_id_text, ra, dec, first_jd, last_jd, band,
                 mag, roid, ss_name, class, ndet, nlim, peak_mag, color_gr, rate, rising, features
          FROM objects FINAL WHERE object_id IN (${list(objectIds)})`,
    );
    return rows.map(toObject);
  }

  async lightCurvesByObjectIds(objectIds: readonly string[]): Promise<LightCurvePoint[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<{
      object_id: string;
      jd: number;
      band: string;
      kind: string;
      mag: number | null;
      mag_err: number | null;
      limit_mag: number | null;
      flux: number | null;
      flux_err: number | null;
      negative: number;
      source_id_text: string;
    }>(
      this.client,
      sql`SELECT object_id, jd, band, kind, mag, mag_err, limit_mag, flux, flux_err, negative,
                 toString(source_id) AS source_id_text
          FROM lightcurve FINAL WHERE object_id IN (${list(objectIds)}) ORDER BY object_id, jd, band`,
    );
    return rows.map((row) => ({
      objectId: row.object_id,
      jd: row.jd,
      band: row.band,
      kind: row.kind,
      mag: row.mag,
      magErr: row.mag_err,
      limitMag: row.limit_mag,
      flux: row.flux,
      fluxErr: row.flux_err,
      negative: row.negative === 1,
      // The table stores 0 for points that are not a detection of their own.
      sourceId: row.source_id_text === '0' ? null : BigInt(row.source_id_text),
    }));
  }

  async classificationsByObjectIds(objectIds: readonly string[]): Promise<ClassificationRecord[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<{
      alert_id_text: string;
      object_id: string;
      jd: number;
      classifier: string;
      version: string;
      label: string;
      score: number | null;
      processed_at_text: string;
    }>(
      this.client,
      sql`SELECT toString(alert_id) AS alert_id_text, object_id, jd, classifier, version, label, score,
                 toString(processed_at) AS processed_at_text
          FROM classifications FINAL WHERE object_id IN (${list(objectIds)})
          ORDER BY object_id, jd, alert_id, classifier, version`,
    );
    return rows.map((row) => ({
      alertId: BigInt(row.alert_id_text),
      objectId: row.object_id,
      jd: row.jd,
      classifier: row.classifier,
      version: row.version,
      label: row.label,
      score: row.score,
      processedAt: row.processed_at_text,
    }));
  }

  async crossmatchesByObjectIds(objectIds: readonly string[]): Promise<CrossmatchRecord[]> {
    if (objectIds.length === 0) return [];
    const rows = await queryRows<{
      alert_id_text: string;
      object_id: string;
      jd: number;
      catalog: string;
      source_id: string;
      distance_arcsec: number;
      type: string;
    }>(
      this.client,
      sql`SELECT toString(alert_id) AS alert_id_text, object_id, jd, catalog, source_id, distance_arcsec, type
          FROM crossmatches FINAL WHERE object_id IN (${list(objectIds)})
          ORDER BY object_id, catalog, jd`,
    );
    return rows.map((row) => ({
      alertId: BigInt(row.alert_id_text),
      objectId: row.object_id,
      jd: row.jd,
      catalog: row.catalog,
      sourceId: row.source_id,
      distanceArcsec: row.distance_arcsec,
      type: row.type,
    }));
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
    // Duplicates left by replays only repeat a distance: min() per object is the same with or without FINAL.
    const rows = await queryRows<{ object_id: string; distance: number }>(
      this.client,
      sql`SELECT object_id, min(${distance}) AS distance
          FROM alerts_by_hpx
          WHERE (${inCells}) ${objectCondition}
          GROUP BY object_id
          HAVING distance <= ${radiusArcsec}
          ORDER BY distance, object_id
          LIMIT ${limit}`,
    );
    return rows.map((row) => ({ objectId: row.object_id, distanceArcsec: row.distance }));
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

  async objectIdsBySolarSystemName(name: string, limit: number): Promise<string[]> {
    const rows = await queryRows<{ object_id: string }>(
      this.client,
      sql`SELECT object_id, max(jd) AS latest FROM alerts WHERE ss_name = ${name}
          GROUP BY object_id ORDER BY latest DESC, object_id LIMIT ${limit}`,
    );
    return rows.map((row) => row.object_id);
  }

  async search(condition: Sql, after: SearchCursor | null, limit: number): Promise<AlertRecord[]> {
    const page =
      after === null
        ? sql``
        : sql`AND (jd < ${after.jd} OR (jd = ${after.jd} AND alert_id < ${after.alertId}))`;
    const statement = sql`SELECT ${ALERT_COLUMNS} FROM alerts FINAL WHERE (${condition}) ${page}
          ORDER BY jd DESC, alert_id DESC LIMIT ${limit}`;
    const rows = await queryRows<AlertRow>(this.client, statement, settingsFittingStatement(statement));
    return rows.map(toAlert);
  }
}

/**
 * The sorted `hpx` key ranges covering a disc: cells at the deepest order with at most CONE_MAX_CELLS cells in
 * the disc, each a contiguous range of order-15 cells in the NESTED scheme.
 */
export function coneCellRanges(ra: number, dec: number, radiusArcsec: number): [number, number][] {
  // Start at the deepest order whose cells are still at least an eighth of the radius (~200 cells in the disc,
  // more than CONE_MAX_CELLS), not at order 15: a 1-degree disc holds ~10^6 order-15 cells, a second of CPU.
  let order = ALERT_HPX_ORDER;
  while (order > 0 && CELL_SIZE_ARCSEC_ORDER_0 / 2 ** order < radiusArcsec / 8) order--;
  let cells = healpixDisc(order, ra, dec, radiusArcsec);
  while (cells.length > CONE_MAX_CELLS && order > 0) {
    order--;
    cells = healpixDisc(order, ra, dec, radiusArcsec);
  }
  const shift = 4 ** (ALERT_HPX_ORDER - order);
  const ranges = cells
    .sort((a, b) => a - b)
    .map((cell): [number, number] => [cell * shift, (cell + 1) * shift]);
  // Adjacent cells merge into one range.
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && last[1] === range[0]) last[1] = range[1];
    else merged.push(range);
  }
  return merged;
}

/** Great-circle distance in arcsec from (ra, dec) to the row's (ra, dec): the same haversine as the JS side. */
function haversineArcsecSql(ra: number, dec: number): Sql {
  const rad = Math.PI / 180;
  return sql`(2 * asin(least(1, sqrt(
      pow(sin((dec - ${dec}) * ${rad} / 2), 2)
      + cos(${dec * rad}) * cos(dec * ${rad}) * pow(sin((ra - ${ra}) * ${rad} / 2), 2)))) * ${(180 * 3600) / Math.PI})`;
}

function toAlert(row: AlertRow): AlertRecord {
  return {
    survey: row.survey,
    alertId: BigInt(row.alert_id_text),
    objectId: row.object_id,
    jd: row.jd,
    night: row.night_text,
    ra: row.ra,
    dec: row.dec,
    band: row.band,
    mag: row.mag,
    magErr: row.mag_err,
    roid: row.roid,
    ssName: row.ss_name,
    label: row.class,
    ndet: row.ndet,
    nlim: row.nlim,
    firstJd: row.first_jd,
    lastJd: row.last_jd,
    peakMag: row.peak_mag,
    colorGr: row.color_gr,
    rate: row.rate,
    rising: row.rising === null ? null : row.rising === 1,
    features: row.features,
    candidate: row.candidate,
    processedAt: row.processed_at_text,
  };
}

function toObject(row: ObjectRow): ObjectRecord {
  return {
    survey: row.survey,
    objectId: row.object_id,
    lastAlertId: BigInt(row.last_alert_id_text),
    ra: row.ra,
    dec: row.dec,
    firstJd: row.first_jd,
    lastJd: row.last_jd,
    band: row.band,
    mag: row.mag,
    roid: row.roid,
    ssName: row.ss_name,
    label: row.class,
    ndet: row.ndet,
    nlim: row.nlim,
    peakMag: row.peak_mag,
    colorGr: row.color_gr,
    rate: row.rate,
    rising: row.rising === null ? null : row.rising === 1,
    features: row.features,
  };
}
