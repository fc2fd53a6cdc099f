// Follow-up requests (migrations/0005_watchlists_followups.sql); the webhooks they are posted to have a store of
// their own (webhook-store.ts).
import type { ClickHouseClient } from './clickhouse.ts';
import { queryRows } from './clickhouse.ts';
import { insertRows } from './row-binary.ts';
import { defineTable, type RowOfTable } from './table.ts';
import { join, sql } from './sql.ts';

export const FOLLOWUP_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export type FollowupPriority = (typeof FOLLOWUP_PRIORITIES)[number];

export interface FollowupRequest {
  requestId: string;
  objectId: string;
  facility: string;
  priority: FollowupPriority;
  note: string;
  /** Who asked (the viewer's user). */
  user: string;
  /** Whole seconds (the column's resolution), so what is published equals what is read back. */
  createdAt: Date;
}

export interface FollowupStore {
  /** Idempotent on requestId. */
  add(requests: readonly FollowupRequest[]): Promise<void>;
  /** Requests per object id, oldest first. */
  byObjectIds(objectIds: readonly string[]): Promise<Map<string, FollowupRequest[]>>;
}

const FOLLOWUPS = defineTable('followups', {
  request_id: 'String',
  object_id: 'String',
  facility: 'String',
  priority: 'String',
  note: 'String',
  user: 'String',
  created_at: 'DateTime',
});
type FollowupRow = RowOfTable<typeof FOLLOWUPS>;

const MAX_IN_LIST = 2000;

export class ClickHouseFollowupStore implements FollowupStore {
  constructor(private readonly client: ClickHouseClient) {}

  async add(requests: readonly FollowupRequest[]): Promise<void> {
    await insertRows(
      this.client,
      FOLLOWUPS,
      requests.map((request): FollowupRow => ({
        request_id: request.requestId,
        object_id: request.objectId,
        facility: request.facility,
        priority: request.priority,
        note: request.note,
        user: request.user,
        created_at: request.createdAt,
      })),
    );
  }

  async byObjectIds(objectIds: readonly string[]): Promise<Map<string, FollowupRequest[]>> {
    const unique = [...new Set(objectIds)];
    const result = new Map<string, FollowupRequest[]>(unique.map((id) => [id, []]));
    for (let start = 0; start < unique.length; start += MAX_IN_LIST) {
      const chunk = unique.slice(start, start + MAX_IN_LIST);
      const rows = await queryRows<Omit<FollowupRow, 'created_at'> & { created_at_unix: number }>(
        this.client,
        sql`SELECT request_id, object_id, facility, priority, note, user,
                   toUInt32(created_at) AS created_at_unix
            FROM followups FINAL
            WHERE object_id IN (${join(
              chunk.map((id) => sql`${id}`),
              ', ',
            )})
            ORDER BY object_id, created_at, request_id`,
      );
      for (const row of rows) {
        result.get(row.object_id)?.push({
          requestId: row.request_id,
          objectId: row.object_id,
          facility: row.facility,
          priority: row.priority as FollowupPriority,
          note: row.note,
          user: row.user,
          createdAt: new Date(Number(row.created_at_unix) * 1000),
        });
      }
    }
    return result;
  }
}
