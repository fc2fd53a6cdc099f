// The lossless archive: every received alert as its original bytes plus the key fields to find it again.
import type { ClickHouseClient } from './clickhouse.ts';
import { encodeRows, insertEncoded, type EncodedInsert, type TableSpec } from './row-binary.ts';

export interface RawAlertRow {
  survey: string;
  alert_id: bigint;
  object_id: string;
  ra: number;
  dec: number;
  jd: number;
  topic: string;
  partition: number;
  offset: bigint;
  received_at: Date;
  payload: Buffer;
  /** Why the alert went no further ('' when nothing is wrong): a bounds reason (src/pipeline/decode/bounds.ts). */
  problem: string;
}

export interface RawAlertStore {
  write(rows: readonly RawAlertRow[]): Promise<void>;
}

const RAW_ALERTS: TableSpec<RawAlertRow> = {
  table: 'raw_alerts',
  columns: [
    { name: 'survey', type: 'String' },
    { name: 'alert_id', type: 'UInt64' },
    { name: 'object_id', type: 'String' },
    { name: 'ra', type: 'Float64' },
    { name: 'dec', type: 'Float64' },
    { name: 'jd', type: 'Float64' },
    { name: 'topic', type: 'String' },
    { name: 'partition', type: 'UInt32' },
    { name: 'offset', type: 'UInt64' },
    { name: 'received_at', type: 'DateTime' },
    { name: 'payload', type: 'String' },
    { name: 'problem', type: 'String' },
  ],
};

/** The rows' insert, encoded (a value no column holds fails here, before anything is sent). */
export function encodeRawAlerts(rows: readonly RawAlertRow[]): EncodedInsert {
  return encodeRows(RAW_ALERTS, rows);
}

export class ClickHouseRawAlertStore implements RawAlertStore {
  constructor(private readonly client: ClickHouseClient) {}

  async write(rows: readonly RawAlertRow[]): Promise<void> {
    await insertEncoded(this.client, encodeRawAlerts(rows));
  }
}
