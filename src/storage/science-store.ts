// The science tables written by raw2science (migrations/0002_science.sql), one insert per table per batch.
import type { ClickHouseClient } from './clickhouse.ts';
import { encodeRows, insertEncoded, type EncodedInsert, type TableSpec } from './row-binary.ts';

export interface AlertRow {
  survey: string;
  alert_id: bigint;
  object_id: string;
  jd: number;
  night: Date;
  ra: number;
  dec: number;
  hpx: number;
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
  topic: string;
  partition: number;
  offset: bigint;
  processed_at: Date;
}

export interface LightCurveRow {
  survey: string;
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
  source_id: bigint;
}

export interface ObjectRow {
  survey: string;
  object_id: string;
  version: bigint;
  last_alert_id: bigint;
  ra: number;
  dec: number;
  hpx: number;
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
  updated_at: Date;
}

export interface CutoutRow {
  survey: string;
  alert_id: bigint;
  object_id: string;
  science: Buffer;
  template: Buffer;
  difference: Buffer;
}

export interface CrossmatchRow {
  survey: string;
  alert_id: bigint;
  object_id: string;
  jd: number;
  catalog: string;
  source_id: string;
  distance_arcsec: number;
  type: string;
}

export interface ClassificationRow {
  survey: string;
  alert_id: bigint;
  object_id: string;
  jd: number;
  classifier: string;
  version: string;
  label: string;
  score: number | null;
  processed_at: Date;
}

export interface ScienceBatch {
  alerts: AlertRow[];
  lightcurve: LightCurveRow[];
  objects: ObjectRow[];
  cutouts: CutoutRow[];
  crossmatches: CrossmatchRow[];
  classifications: ClassificationRow[];
}

export interface ScienceStore {
  /** Writes every table of the batch; idempotent (replaying a batch leaves the same visible rows). */
  write(batch: ScienceBatch): Promise<void>;
}

const ALERTS: TableSpec<AlertRow> = {
  table: 'alerts',
  columns: [
    { name: 'survey', type: 'String' },
    { name: 'alert_id', type: 'UInt64' },
    { name: 'object_id', type: 'String' },
    { name: 'jd', type: 'Float64' },
    { name: 'night', type: 'Date' },
    { name: 'ra', type: 'Float64' },
    { name: 'dec', type: 'Float64' },
    { name: 'hpx', type: 'UInt64' },
    { name: 'band', type: 'String' },
    { name: 'mag', type: 'Nullable(Float64)' },
    { name: 'mag_err', type: 'Nullable(Float64)' },
    { name: 'roid', type: 'UInt8' },
    { name: 'ss_name', type: 'String' },
    { name: 'class', type: 'String' },
    { name: 'ndet', type: 'UInt32' },
    { name: 'nlim', type: 'UInt32' },
    { name: 'first_jd', type: 'Float64' },
    { name: 'last_jd', type: 'Float64' },
    { name: 'peak_mag', type: 'Nullable(Float64)' },
    { name: 'color_gr', type: 'Nullable(Float64)' },
    { name: 'rate', type: 'Nullable(Float64)' },
    { name: 'rising', type: 'Nullable(UInt8)' },
    { name: 'features', type: 'String' },
    { name: 'candidate', type: 'String' },
    { name: 'topic', type: 'String' },
    { name: 'partition', type: 'UInt32' },
    { name: 'offset', type: 'UInt64' },
    { name: 'processed_at', type: 'DateTime' },
  ],
};

const LIGHTCURVE: TableSpec<LightCurveRow> = {
  table: 'lightcurve',
  columns: [
    { name: 'survey', type: 'String' },
    { name: 'object_id', type: 'String' },
    { name: 'jd', type: 'Float64' },
    { name: 'band', type: 'String' },
    { name: 'kind', type: 'String' },
    { name: 'mag', type: 'Nullable(Float64)' },
    { name: 'mag_err', type: 'Nullable(Float64)' },
    { name: 'limit_mag', type: 'Nullable(Float64)' },
    { name: 'flux', type: 'Nullable(Float64)' },
    { name: 'flux_err', type: 'Nullable(Float64)' },
    { name: 'negative', type: 'UInt8' },
    { name: 'source_id', type: 'UInt64' },
  ],
};

const OBJECTS: TableSpec<ObjectRow> = {
  table: 'objects',
  columns: [
    { name: 'survey', type: 'String' },
    { name: 'object_id', type: 'String' },
    { name: 'version', type: 'UInt64' },
    { name: 'last_alert_id', type: 'UInt64' },
    { name: 'ra', type: 'Float64' },
    { name: 'dec', type: 'Float64' },
    { name: 'hpx', type: 'UInt64' },
    { name: 'first_jd', type: 'Float64' },
    { name: 'last_jd', type: 'Float64' },
    { name: 'band', type: 'String' },
    { name: 'mag', type: 'Nullable(Float64)' },
    { name: 'roid', type: 'UInt8' },
    { name: 'ss_name', type: 'String' },
    { name: 'class', type: 'String' },
    { name: 'ndet', type: 'UInt32' },
    { name: 'nlim', type: 'UInt32' },
    { name: 'peak_mag', type: 'Nullable(Float64)' },
    { name: 'color_gr', type: 'Nullable(Float64)' },
    { name: 'rate', type: 'Nullable(Float64)' },
    { name: 'rising', type: 'Nullable(UInt8)' },
    { name: 'features', type: 'String' },
    { name: 'updated_at', type: 'DateTime' },
  ],
};

const CUTOUTS: TableSpec<CutoutRow> = {
  table: 'cutouts',
  columns: [
    { name: 'survey', type: 'String' },
    { name: 'alert_id', type: 'UInt64' },
    { name: 'object_id', type: 'String' },
    { name: 'science', type: 'String' },
    { name: 'template', type: 'String' },
    { name: 'difference', type: 'String' },
  ],
};

const CROSSMATCHES: TableSpec<CrossmatchRow> = {
  table: 'crossmatches',
  columns: [
    { name: 'survey', type: 'String' },
    { name: 'alert_id', type: 'UInt64' },
    { name: 'object_id', type: 'String' },
    { name: 'jd', type: 'Float64' },
    { name: 'catalog', type: 'String' },
    { name: 'source_id', type: 'String' },
    { name: 'distance_arcsec', type: 'Float64' },
    { name: 'type', type: 'String' },
  ],
};

const CLASSIFICATIONS: TableSpec<ClassificationRow> = {
  table: 'classifications',
  columns: [
    { name: 'survey', type: 'String' },
    { name: 'alert_id', type: 'UInt64' },
    { name: 'object_id', type: 'String' },
    { name: 'jd', type: 'Float64' },
    { name: 'classifier', type: 'String' },
    { name: 'version', type: 'String' },
    { name: 'label', type: 'String' },
    { name: 'score', type: 'Nullable(Float64)' },
    { name: 'processed_at', type: 'DateTime' },
  ],
};

/**
 * The batch's inserts, every table encoded before any is sent: a value no column holds fails the write before a
 * row is stored. In write order: what readers find through an alert row first, the alert and object rows last.
 */
export function encodeScienceBatch(batch: ScienceBatch): { first: EncodedInsert[]; last: EncodedInsert[] } {
  return {
    first: [
      encodeRows(CUTOUTS, batch.cutouts),
      encodeRows(LIGHTCURVE, batch.lightcurve),
      encodeRows(CROSSMATCHES, batch.crossmatches),
      encodeRows(CLASSIFICATIONS, batch.classifications),
    ],
    last: [encodeRows(ALERTS, batch.alerts), encodeRows(OBJECTS, batch.objects)],
  };
}

export class ClickHouseScienceStore implements ScienceStore {
  constructor(private readonly client: ClickHouseClient) {}

  async write(batch: ScienceBatch): Promise<void> {
    const { first, last } = encodeScienceBatch(batch);
    // Cutouts and points first, the alert rows last: a reader that sees an alert finds its cutouts.
    await Promise.all(first.map((insert) => insertEncoded(this.client, insert)));
    for (const insert of last) await insertEncoded(this.client, insert);
  }
}
