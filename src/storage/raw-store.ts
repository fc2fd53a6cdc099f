// The lossless archive: every received alert as its original bytes plus the key fields to find it again.
import type { ClickHouseClient } from './clickhouse.ts';
import { encodeRows, insertEncoded, type EncodedInsert } from './row-binary.ts';
import { defineTable, type RowOfTable } from './table.ts';

export const RAW_ALERTS = defineTable('raw_alerts', {
  survey: 'String',
  alertId: ['alert_id', 'UInt64'],
  objectId: ['object_id', 'String'],
  ra: 'Float64',
  dec: 'Float64',
  jd: 'Float64',
  topic: 'String',
  partition: 'UInt32',
  offset: 'UInt64',
  receivedAt: ['received_at', 'DateTime'],
  /** The message value as received. */
  payload: 'Bytes',
  /** Why the alert went no further ('' when nothing is wrong): a bounds reason (src/pipeline/decode/bounds.ts). */
  problem: 'String',
});
export type RawAlertRow = RowOfTable<typeof RAW_ALERTS>;

export interface RawAlertStore {
  write(rows: readonly RawAlertRow[]): Promise<void>;
}

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
