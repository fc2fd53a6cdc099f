// The webhooks follow-up requests are posted to (migrations/0005_watchlists_followups.sql).
import type { ClickHouseClient } from './clickhouse.ts';
import { queryRows, runCommand } from './clickhouse.ts';
import { join, sql } from './sql.ts';

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
