// The lossless archive: every received alert as its original bytes plus the key fields to find it again.
import { queryRows, type ClickHouseClient } from './clickhouse.ts';
import { encodeRows, insertEncoded, queryRowBinary, type EncodedInsert } from './row-binary.ts';
import { join, sql, type Sql } from './sql.ts';
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

/** An archived alert, found by its survey and id. */
export interface RawAlertKey {
  survey: string;
  alertId: bigint;
}

export interface ArchivedAlert extends RawAlertKey {
  /** The message value as received. */
  payload: Buffer;
}

export interface RawAlertWriter {
  write(rows: readonly RawAlertRow[]): Promise<void>;
}

export interface RawAlertReader {
  /** The archived bytes of these alerts (one per key found; a replayed message's copies are the same bytes). */
  payloads(keys: readonly RawAlertKey[]): Promise<ArchivedAlert[]>;
  /** The same by alert id alone, whatever the survey (the cutout endpoints know only the id). */
  payloadsByAlertIds(alertIds: readonly bigint[]): Promise<ArchivedAlert[]>;
}

/** Alerts received on one observing night from one survey, before any cut. */
export interface ReceivedNight {
  survey: string;
  /** YYYY-MM-DD, the night as src/sky/night.ts dates it. */
  night: string;
  alerts: number;
}

export interface RawAlertStats {
  /** Alerts received per survey and night, nights from..to (YYYY-MM-DD) inclusive; a replayed alert once. */
  receivedPerNight(fromNight: string, toNight: string): Promise<ReceivedNight[]>;
}

export type RawAlertStore = RawAlertWriter & RawAlertReader & RawAlertStats;

const UNIX_EPOCH_JD = 2440587.5;
const DAY_MS = 86_400_000;

/** Keys per query: bounds the statement (~30 characters a key) and the answer (~50-70 KB a payload). */
const MAX_KEYS_PER_QUERY = 500;

/** The rows' insert, encoded (a value no column holds fails here, before anything is sent). */
export function encodeRawAlerts(rows: readonly RawAlertRow[]): EncodedInsert {
  return encodeRows(RAW_ALERTS, rows);
}

export class ClickHouseRawAlertStore implements RawAlertStore {
  constructor(private readonly client: ClickHouseClient) {}

  async write(rows: readonly RawAlertRow[]): Promise<void> {
    await insertEncoded(this.client, encodeRawAlerts(rows));
  }

  async payloads(keys: readonly RawAlertKey[]): Promise<ArchivedAlert[]> {
    return this.chunked(keys, (part) => {
      const tuples = part.map(({ survey, alertId }) => sql`(${survey}, ${alertId})`);
      return sql`(survey, alert_id) IN (${join(tuples, ', ')})`;
    });
  }

  async payloadsByAlertIds(alertIds: readonly bigint[]): Promise<ArchivedAlert[]> {
    // The sort key is (survey, alert_id): within each survey's granules alert_id is sorted, so the index finds an
    // id's granules without the survey too.
    return this.chunked(
      [...new Set(alertIds)],
      (part) =>
        sql`alert_id IN (${join(
          part.map((id) => sql`${id}`),
          ', ',
        )})`,
    );
  }

  async receivedPerNight(fromNight: string, toNight: string): Promise<ReceivedNight[]> {
    // The night's day number as nightOf (src/sky/night.ts) gives it: Rubin's nights start twelve hours earlier.
    const first = Date.parse(`${fromNight}T00:00:00Z`) / DAY_MS;
    const last = Date.parse(`${toNight}T00:00:00Z`) / DAY_MS;
    const rows = await queryRows<{ survey: string; day: string | number; alerts: string }>(
      this.client,
      sql`SELECT survey, toInt32(floor(jd - ${UNIX_EPOCH_JD} - if(survey = 'lsst', 0.5, 0))) AS day,
                 uniqExact(alert_id) AS alerts
          FROM raw_alerts
          WHERE jd >= ${first + UNIX_EPOCH_JD} AND jd < ${last + UNIX_EPOCH_JD + 1.5}
          GROUP BY survey, day HAVING day >= ${first} AND day <= ${last}
          ORDER BY day, survey`,
    );
    return rows.map((row) => ({
      survey: row.survey,
      night: new Date(Number(row.day) * DAY_MS).toISOString().slice(0, 10),
      alerts: Number(row.alerts),
    }));
  }

  private async chunked<K>(
    keys: readonly K[],
    condition: (part: readonly K[]) => Sql,
  ): Promise<ArchivedAlert[]> {
    const found: ArchivedAlert[] = [];
    for (let start = 0; start < keys.length; start += MAX_KEYS_PER_QUERY) {
      // A message replayed in another month is in another partition, which FINAL would not merge: LIMIT 1 BY
      // keeps one copy (they are the same bytes).
      found.push(
        ...(await queryRowBinary(
          this.client,
          RAW_ALERTS,
          ['survey', 'alertId', 'payload'],
          sql`SELECT survey, alert_id, payload FROM raw_alerts
              WHERE ${condition(keys.slice(start, start + MAX_KEYS_PER_QUERY))}
              LIMIT 1 BY survey, alert_id`,
        )),
      );
    }
    return found;
  }
}
