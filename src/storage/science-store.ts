// The science tables written by raw2science (migrations/0002_science.sql), one insert per table per batch, all
// built here from the one record raw2science computes per alert (ScienceRecord): the `alerts` row is the record's
// own columns; `objects`, `crossmatches` and `classifications` rows derive from it; `lightcurve` rows from the
// alert's photometry. Every table has one spec below, from which its row type derives.
import type { ClickHouseClient } from './clickhouse.ts';
import { encodeRows, insertEncoded, type EncodedInsert } from './row-binary.ts';
import { defineTable, type RowOfTable } from './table.ts';

/** One row per alert that passed the quality cuts: the record's columns (its lists go to their own tables). */
export const ALERTS = defineTable('alerts', {
  survey: 'String',
  alertId: ['alert_id', 'UInt64'],
  objectId: ['object_id', 'String'],
  jd: 'Float64',
  /** Observing night, 'YYYY-MM-DD' (src/sky/night.ts). */
  night: 'Date',
  ra: 'Float64',
  dec: 'Float64',
  /** HEALPix NESTED cell at order 15 (src/sky/healpix.ts). */
  hpx: 'UInt64',
  band: 'String',
  mag: 'Nullable(Float64)',
  magErr: ['mag_err', 'Nullable(Float64)'],
  roid: 'UInt8',
  /** '' when none. */
  ssName: ['ss_name', 'String'],
  /** Fink's label. */
  label: ['class', 'String'],
  ndet: 'UInt32',
  nlim: 'UInt32',
  /** 0 without a detection. */
  firstJd: ['first_jd', 'Float64'],
  lastJd: ['last_jd', 'Float64'],
  peakMag: ['peak_mag', 'Nullable(Float64)'],
  colorGr: ['color_gr', 'Nullable(Float64)'],
  rate: 'Nullable(Float64)',
  rising: 'Nullable(Bool)',
  /** Light-curve features, JSON text. */
  features: 'String',
  /** The survey's own record of the triggering detection, JSON text (64-bit ids as decimal strings). */
  candidate: 'String',
  topic: 'String',
  partition: 'UInt32',
  offset: 'UInt64',
  processedAt: ['processed_at', 'DateTime'],
});
export type AlertRow = RowOfTable<typeof ALERTS>;

/** A classifier's score with its provenance; null when the classifier did not apply or failed. */
export interface ScoreEntry {
  classifier: string;
  version: string;
  score: number | null;
  /** The model's file in the fink-science wheel (snn_models/snn_snia_vs_nonia/model.pt); '' without a model. */
  modelFile: string;
  /** SHA-256 of that file as shipped; '' without a model. */
  modelSha256: string;
  /** The fink-science release of the model; '' for a classifier that is not Fink's (a heuristic plugin). */
  finkScienceVersion: string;
}

/** A catalogue counterpart within the catalogue's radius. */
export interface CrossmatchEntry {
  catalog: string;
  sourceId: string;
  distanceArcsec: number;
  /** The catalogue's own class of the counterpart; null when it has none. */
  type: string | null;
  /** The catalogue's type overrides the label, as SIMBAD's does in Fink (its type is Fink's cdsxmatch). */
  overriding: boolean;
}

/** A watchlist target the alert fell within. */
export interface WatchlistHitEntry {
  watchlistId: string;
  targetLabel: string;
  distanceArcsec: number;
}

/**
 * The one record raw2science computes per stored alert, after its last stage: every column of `alerts`, every
 * classifier score with its provenance, the cross-matches and the watchlists hit. It is what the tables store and
 * what travels on the science topic (schema/avro): the live feed, the filters and distribution read it as it is.
 */
export interface ScienceRecord extends AlertRow {
  scores: ScoreEntry[];
  crossmatches: CrossmatchEntry[];
  watchlistHits: WatchlistHitEntry[];
  /** The broker version that computed the record (the provenance of its label). */
  brokerVersion: string;
}

/** Light-curve points, deduplicated across alerts: one row per (object, time, band). */
export const LIGHTCURVE = defineTable('lightcurve', {
  survey: 'String',
  objectId: ['object_id', 'String'],
  jd: 'Float64',
  band: 'String',
  /** 'detection', 'upper-limit' or 'forced'. */
  kind: 'String',
  mag: 'Nullable(Float64)',
  magErr: ['mag_err', 'Nullable(Float64)'],
  limitMag: ['limit_mag', 'Nullable(Float64)'],
  flux: 'Nullable(Float64)',
  fluxErr: ['flux_err', 'Nullable(Float64)'],
  negative: 'Bool',
  /** Apparent (DC) magnitude and error of a ZTF detection (Fink's dc_mag); null elsewhere. */
  dcMag: ['dc_mag', 'Nullable(Float64)'],
  dcMagErr: ['dc_mag_err', 'Nullable(Float64)'],
  /** 0 for points that are not a detection of their own. */
  sourceId: ['source_id', 'UInt64'],
});
export type LightCurveRow = RowOfTable<typeof LIGHTCURVE>;

/** One point of an alert's light curve, as the pipeline's survey mapping produces it. */
export interface PointInput {
  jd: number;
  band: string;
  kind: string;
  mag: number | null;
  magErr: number | null;
  limitMag: number | null;
  flux: number | null;
  fluxErr: number | null;
  negative: boolean;
  dcMag: number | null;
  dcMagErr: number | null;
  sourceId: bigint | null;
}

/** Latest state of each object: the row from its most recent alert wins (version = that alert's time in ms). */
export const OBJECTS = defineTable('objects', {
  survey: 'String',
  objectId: ['object_id', 'String'],
  version: 'UInt64',
  lastAlertId: ['last_alert_id', 'UInt64'],
  ra: 'Float64',
  dec: 'Float64',
  hpx: 'UInt64',
  firstJd: ['first_jd', 'Float64'],
  lastJd: ['last_jd', 'Float64'],
  band: 'String',
  mag: 'Nullable(Float64)',
  roid: 'UInt8',
  ssName: ['ss_name', 'String'],
  label: ['class', 'String'],
  ndet: 'UInt32',
  nlim: 'UInt32',
  peakMag: ['peak_mag', 'Nullable(Float64)'],
  colorGr: ['color_gr', 'Nullable(Float64)'],
  rate: 'Nullable(Float64)',
  rising: 'Nullable(Bool)',
  features: 'String',
  updatedAt: ['updated_at', 'DateTime'],
});
export type ObjectRow = RowOfTable<typeof OBJECTS>;

export const CROSSMATCHES = defineTable('crossmatches', {
  survey: 'String',
  alertId: ['alert_id', 'UInt64'],
  objectId: ['object_id', 'String'],
  jd: 'Float64',
  catalog: 'String',
  sourceId: ['source_id', 'String'],
  distanceArcsec: ['distance_arcsec', 'Float64'],
  /** '' when the catalogue has no class for the counterpart. */
  type: 'String',
});
export type CrossmatchRow = RowOfTable<typeof CROSSMATCHES>;

/**
 * One row per classifier score, and one (classifier 'fink') for the final label, each with its version and the
 * provenance of its model (migrations/0011: '' for the label row, a heuristic, and rows written before).
 */
export const CLASSIFICATIONS = defineTable('classifications', {
  survey: 'String',
  alertId: ['alert_id', 'UInt64'],
  objectId: ['object_id', 'String'],
  jd: 'Float64',
  classifier: 'String',
  version: 'String',
  label: 'String',
  score: 'Nullable(Float64)',
  processedAt: ['processed_at', 'DateTime'],
  modelFile: ['model_file', 'String'],
  modelSha256: ['model_sha256', 'String'],
  finkScienceVersion: ['fink_science_version', 'String'],
});
export type ClassificationRow = RowOfTable<typeof CLASSIFICATIONS>;

/** Provenance of the final label in the classifications table. */
export const FINK_LABEL_CLASSIFIER = 'fink';

/** What one alert adds to the tables. */
export interface StoredAlert {
  record: ScienceRecord;
  /** The alert's light curve: the triggering detection and the history it carries. */
  points: readonly PointInput[];
}

export interface ScienceStore {
  /** Writes every table of the batch; idempotent (replaying a batch leaves the same visible rows). */
  write(alerts: readonly StoredAlert[]): Promise<void>;
}

/** Time of the alert in whole milliseconds of MJD: the objects table keeps the row of the latest alert. */
function versionOf(jd: number): bigint {
  return BigInt(Math.round((jd - 2400000.5) * 86_400_000));
}

/** The rows of every table for a batch of alerts. */
export interface ScienceRows {
  alerts: AlertRow[];
  lightcurve: LightCurveRow[];
  objects: ObjectRow[];
  crossmatches: CrossmatchRow[];
  classifications: ClassificationRow[];
}

export function scienceRows(stored: readonly StoredAlert[]): ScienceRows {
  const rows: ScienceRows = {
    alerts: [],
    lightcurve: [],
    objects: [],
    crossmatches: [],
    classifications: [],
  };
  const latestObject = new Map<string, ObjectRow>();
  for (const { record, points } of stored) {
    const { scores, crossmatches, brokerVersion } = record;
    rows.alerts.push(record);
    const { survey, alertId, objectId, jd, processedAt } = record;
    // Rows written out field by field: spreading a point (and overriding sourceId) cost ~10 us a row in V8, more
    // than encoding it.
    for (const point of points) {
      rows.lightcurve.push({
        survey,
        objectId,
        jd: point.jd,
        band: point.band,
        kind: point.kind,
        mag: point.mag,
        magErr: point.magErr,
        limitMag: point.limitMag,
        flux: point.flux,
        fluxErr: point.fluxErr,
        negative: point.negative,
        dcMag: point.dcMag,
        dcMagErr: point.dcMagErr,
        sourceId: point.sourceId ?? 0n,
      });
    }
    for (const { catalog, sourceId, distanceArcsec, type } of crossmatches) {
      rows.crossmatches.push({
        survey,
        alertId,
        objectId,
        jd,
        catalog,
        sourceId,
        distanceArcsec,
        type: type ?? '',
      });
    }
    // The final label first (classifier 'fink', the broker's version), then each score with its provenance.
    const labelEntry: ScoreEntry = {
      classifier: FINK_LABEL_CLASSIFIER,
      version: brokerVersion,
      score: null,
      modelFile: '',
      modelSha256: '',
      finkScienceVersion: '',
    };
    for (const entry of [labelEntry, ...scores]) {
      rows.classifications.push({
        survey,
        alertId,
        objectId,
        jd,
        processedAt,
        classifier: entry.classifier,
        version: entry.version,
        label: entry === labelEntry ? record.label : '',
        score: entry.score,
        modelFile: entry.modelFile,
        modelSha256: entry.modelSha256,
        finkScienceVersion: entry.finkScienceVersion,
      });
    }
    const objectRow: ObjectRow = {
      survey,
      objectId,
      version: versionOf(jd),
      lastAlertId: alertId,
      ra: record.ra,
      dec: record.dec,
      hpx: record.hpx,
      firstJd: record.firstJd,
      lastJd: record.lastJd,
      band: record.band,
      mag: record.mag,
      roid: record.roid,
      ssName: record.ssName,
      label: record.label,
      ndet: record.ndet,
      nlim: record.nlim,
      peakMag: record.peakMag,
      colorGr: record.colorGr,
      rate: record.rate,
      rising: record.rising,
      features: record.features,
      updatedAt: processedAt,
    };
    // Within a batch only the latest alert of an object matters; the table keeps the highest version anyway.
    const previous = latestObject.get(objectId);
    if (previous === undefined || previous.version <= objectRow.version)
      latestObject.set(objectId, objectRow);
  }
  rows.objects = [...latestObject.values()];
  return rows;
}

/**
 * The batch's inserts, every table encoded before any is sent: a value no column holds fails the write before a
 * row is stored. In write order: what readers find through an alert row first, the alert and object rows last.
 */
export function encodeScienceRows(rows: ScienceRows): { first: EncodedInsert[]; last: EncodedInsert[] } {
  return {
    first: [
      encodeRows(LIGHTCURVE, rows.lightcurve),
      encodeRows(CROSSMATCHES, rows.crossmatches),
      encodeRows(CLASSIFICATIONS, rows.classifications),
    ],
    last: [encodeRows(ALERTS, rows.alerts), encodeRows(OBJECTS, rows.objects)],
  };
}

export class ClickHouseScienceStore implements ScienceStore {
  constructor(private readonly client: ClickHouseClient) {}

  async write(alerts: readonly StoredAlert[]): Promise<void> {
    const { first, last } = encodeScienceRows(scienceRows(alerts));
    // Points, matches and scores first, the alert rows last: a reader that sees an alert finds the rest.
    await Promise.all(first.map((insert) => insertEncoded(this.client, insert)));
    for (const insert of last) await insertEncoded(this.client, insert);
  }
}
