// Follow-up requests and the webhooks they are posted to (migrations/0005_watchlists_followups.sql).
import type { ClickHouseClient } from './clickhouse.ts';
import { queryRows, runCommand } from './clickhouse.ts';
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

export interface Webhook {
  id: string;
  owner: string;
  url: string;
  /** Signs each delivery; never returned by the API, never logged. */
  secret: string;
  /** Facilities whose requests are posted; empty: all. */
  facilities: string[];
  active: boolean;
  createdAt: Date;
  version: number;
}

export interface WebhookStore {
  /** Writes the webhooks as given (a new version of each: the highest version wins). */
  save(webhooks: readonly Webhook[]): Promise<void>;
  /** The active webhooks, oldest first. */
  active(): Promise<Webhook[]>;
  /** The latest version of each id that exists and is active. */
  byIds(ids: readonly string[]): Promise<Webhook[]>;
}

/** A webhook's filter accepts a facility when it is empty or names it (case-insensitively). */
export function webhookAccepts(webhook: Pick<Webhook, 'facilities'>, facility: string): boolean {
  if (webhook.facilities.length === 0) return true;
  const wanted = facility.toLowerCase();
  return webhook.facilities.some((name) => name.toLowerCase() === wanted);
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

interface WebhookRow {
  webhook_id: string;
  owner: string;
  url: string;
  secret: string;
  facilities: string[];
  active: number;
  created_at_unix: number;
  version: string;
}

export class ClickHouseWebhookStore implements WebhookStore {
  constructor(private readonly client: ClickHouseClient) {}

  async save(webhooks: readonly Webhook[]): Promise<void> {
    if (webhooks.length === 0) return;
    // Few rows with an Array column (which the RowBinary writer does not encode): bound VALUES are simplest.
    const values = join(
      webhooks.map(
        (w) =>
          sql`(${w.id}, ${w.owner}, ${w.url}, ${w.secret}, ${w.facilities}, ${w.active}, ${w.createdAt}, ${w.version})`,
      ),
      ', ',
    );
    await runCommand(
      this.client,
      sql`INSERT INTO webhooks (webhook_id, owner, url, secret, facilities, active, created_at, version)
          VALUES ${values}`,
    );
  }

  async active(): Promise<Webhook[]> {
    return this.select(null);
  }

  async byIds(ids: readonly string[]): Promise<Webhook[]> {
    if (ids.length === 0) return [];
    return this.select([...new Set(ids)]);
  }

  /** The `active` filter runs outside FINAL: inside, it could drop the newest version before deduplication. */
  private async select(ids: string[] | null): Promise<Webhook[]> {
    const where =
      ids === null
        ? sql``
        : sql`WHERE webhook_id IN (${join(
            ids.map((id) => sql`${id}`),
            ', ',
          )})`;
    const rows = await queryRows<WebhookRow>(
      this.client,
      sql`SELECT * FROM (
            SELECT webhook_id, owner, url, secret, facilities, active, toUInt32(created_at) AS created_at_unix,
                   version
            FROM webhooks FINAL ${where}
          ) WHERE active = 1
          ORDER BY created_at_unix, webhook_id`,
    );
    return rows.map((row): Webhook => ({
      id: row.webhook_id,
      owner: row.owner,
      url: row.url,
      secret: row.secret,
      facilities: row.facilities,
      active: Number(row.active) === 1,
      createdAt: new Date(Number(row.created_at_unix) * 1000),
      version: Number(row.version),
    }));
  }
}
