// Reads the cutouts raw2science stored (the `cutouts` table of migrations/0002_science.sql), byte for byte.
import type { ClickHouseClient } from './clickhouse.ts';
import { queryRows } from './clickhouse.ts';
import { join, sql } from './sql.ts';

export const CUTOUT_KINDS = ['science', 'template', 'difference'] as const;
export type CutoutKind = (typeof CUTOUT_KINDS)[number];

export interface StoredCutouts {
  survey: string;
  alertId: bigint;
  objectId: string;
  /**
   * The bytes exactly as the alert carried them: gzipped FITS for ZTF, FITS for Rubin. null when the alert had
   * none (Rubin cutouts are optional; the table keeps an absent one as an empty string).
   */
  science: Buffer | null;
  template: Buffer | null;
  difference: Buffer | null;
}

export interface CutoutStore {
  /** The cutouts of each alert id that has a row; ids without one are absent from the map. */
  byAlertIds(ids: readonly bigint[]): Promise<Map<bigint, StoredCutouts>>;
}

/** Bounds the query text (each id is ~20 characters) and each answer (three cutouts of ~15-40 KB per alert). */
const MAX_IDS_PER_QUERY = 200;

interface CutoutHexRow {
  survey: string;
  id: string;
  object_id: string;
  science: string;
  template: string;
  difference: string;
}

export class ClickHouseCutoutStore implements CutoutStore {
  constructor(private readonly client: ClickHouseClient) {}

  async byAlertIds(ids: readonly bigint[]): Promise<Map<bigint, StoredCutouts>> {
    const unique = [...new Set(ids)];
    const found = new Map<bigint, StoredCutouts>();
    for (let start = 0; start < unique.length; start += MAX_IDS_PER_QUERY) {
      // ClickHouse 18.16 refuses `IN [array]`, so the ids go in as a bound list: IN (id1, id2, ...).
      const inList = join(
        unique.slice(start, start + MAX_IDS_PER_QUERY).map((id) => sql`${id}`),
        ', ',
      );
      // JSON cannot carry arbitrary bytes (a byte >= 0x80 comes back as UTF-8 text), so the cutouts travel as
      // hex; the UInt64 id as text, since JSON numbers lose precision beyond 2^53 (aliased `id`: an alias named
      // alert_id would replace the column in WHERE too). FINAL: a replayed alert rewrites its row, seen once.
      const rows = await queryRows<CutoutHexRow>(
        this.client,
        sql`SELECT survey, toString(alert_id) AS id, object_id,
                   hex(science) AS science, hex(template) AS template, hex(difference) AS difference
            FROM cutouts FINAL
            WHERE alert_id IN (${inList})`,
      );
      for (const row of rows) {
        const alertId = BigInt(row.id);
        found.set(alertId, {
          survey: row.survey,
          alertId,
          objectId: row.object_id,
          science: fromHex(row.science),
          template: fromHex(row.template),
          difference: fromHex(row.difference),
        });
      }
    }
    return found;
  }
}

function fromHex(hex: string): Buffer | null {
  return hex.length === 0 ? null : Buffer.from(hex, 'hex');
}
