// Saved filters (migrations/0006_saved_filters.sql): owned, named, optionally distributed. Versioned rows, the
// latest per id wins; a delete is a new version with deleted = 1, so a filter never comes back by a merge.
import { randomUUID } from 'node:crypto';
import type { AlertFilterSpec } from '../storage/alert-filter.ts';
import { queryRows, type ClickHouseClient } from './clickhouse.ts';
import { insertRows } from './row-binary.ts';
import { defineTable, type RowOfTable } from './table.ts';
import { join, sql, type Sql } from './sql.ts';

export interface SavedFilter {
  id: string;
  owner: string;
  name: string;
  /** Validated when saved (src/filters/validate.ts). */
  definition: AlertFilterSpec;
  distribute: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Row version: grows with every change. */
  version: bigint;
}

export interface NewSavedFilter {
  owner: string;
  name: string;
  definition: AlertFilterSpec;
  distribute: boolean;
}

export interface SavedFilterStore {
  /** Stores new filters, each with a fresh id. */
  create(filters: readonly NewSavedFilter[]): Promise<SavedFilter[]>;
  /** Writes the given filters (read, then changed by the caller) as their new versions. */
  update(filters: readonly SavedFilter[]): Promise<SavedFilter[]>;
  /** Soft delete: the filters disappear from every read. Unknown ids are ignored. */
  delete(ids: readonly string[]): Promise<void>;
  byIds(ids: readonly string[]): Promise<SavedFilter[]>;
  byOwner(owners: readonly string[]): Promise<SavedFilter[]>;
  /** Every filter with distribute set, for the distribution service and name uniqueness. */
  distributed(): Promise<SavedFilter[]>;
}

const SAVED_FILTERS = defineTable('saved_filters', {
  id: 'String',
  owner: 'String',
  name: 'String',
  definition: 'String',
  distribute: 'UInt8',
  deleted: 'UInt8',
  created_at: 'DateTime',
  updated_at: 'DateTime',
  version: 'UInt64',
});
type SavedFilterRow = RowOfTable<typeof SAVED_FILTERS>;

interface ReadRow {
  id: string;
  owner: string;
  name: string;
  definition: string;
  distribute: number;
  created_unix: number;
  updated_unix: number;
  /** As text: an alias named `version` would shadow the column in the WHERE (ClickHouse aliases are global). */
  version_text: string;
}

/** Microseconds since the epoch: versions written by different processes order by time. */
function nowVersion(): bigint {
  return BigInt(Date.now()) * 1000n;
}

/** DateTime has whole seconds: what is returned is what a later read gives back. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function toRow(filter: SavedFilter, deleted: boolean): SavedFilterRow {
  return {
    id: filter.id,
    owner: filter.owner,
    name: filter.name,
    definition: JSON.stringify(filter.definition),
    distribute: filter.distribute ? 1 : 0,
    deleted: deleted ? 1 : 0,
    created_at: filter.createdAt,
    updated_at: filter.updatedAt,
    version: filter.version,
  };
}

function fromRow(row: ReadRow): SavedFilter {
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    definition: JSON.parse(row.definition) as AlertFilterSpec,
    distribute: Number(row.distribute) === 1,
    createdAt: new Date(Number(row.created_unix) * 1000),
    updatedAt: new Date(Number(row.updated_unix) * 1000),
    version: BigInt(row.version_text),
  };
}

function tuple(values: readonly string[]): Sql {
  return join(
    values.map((v) => sql`${v}`),
    ', ',
  );
}

export class ClickHouseSavedFilterStore implements SavedFilterStore {
  constructor(private readonly client: ClickHouseClient) {}

  async create(filters: readonly NewSavedFilter[]): Promise<SavedFilter[]> {
    const now = wholeSeconds(new Date());
    const version = nowVersion();
    const created = filters.map((filter): SavedFilter => ({
      ...filter,
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
      version,
    }));
    await insertRows(
      this.client,
      SAVED_FILTERS,
      created.map((f) => toRow(f, false)),
    );
    return created;
  }

  async update(filters: readonly SavedFilter[]): Promise<SavedFilter[]> {
    const now = wholeSeconds(new Date());
    const version = nowVersion();
    // Strictly above the version read, even within one microsecond or with a clock that went back.
    const updated = filters.map((f) => ({
      ...f,
      updatedAt: now,
      version: version > f.version ? version : f.version + 1n,
    }));
    await insertRows(
      this.client,
      SAVED_FILTERS,
      updated.map((f) => toRow(f, false)),
    );
    return updated;
  }

  async delete(ids: readonly string[]): Promise<void> {
    const current = await this.byIds(ids);
    const version = nowVersion();
    const now = wholeSeconds(new Date());
    await insertRows(
      this.client,
      SAVED_FILTERS,
      current.map((f) =>
        toRow({ ...f, updatedAt: now, version: version > f.version ? version : f.version + 1n }, true),
      ),
    );
  }

  async byIds(ids: readonly string[]): Promise<SavedFilter[]> {
    if (ids.length === 0) return [];
    return this.latest(sql`id IN (${tuple(ids)})`, sql`1`);
  }

  async byOwner(owners: readonly string[]): Promise<SavedFilter[]> {
    if (owners.length === 0) return [];
    // The owner never changes, so it narrows the versions read as well.
    return this.latest(sql`owner IN (${tuple(owners)})`, sql`1`);
  }

  async distributed(): Promise<SavedFilter[]> {
    return this.latest(sql`1`, sql`distribute = 1`);
  }

  /** The latest version of each filter among the rows `scope` selects, when not deleted and `where` holds. */
  private async latest(scope: Sql, where: Sql): Promise<SavedFilter[]> {
    const rows = await queryRows<ReadRow>(
      this.client,
      sql`SELECT id, owner, name, definition, distribute, toUInt32(created_at) AS created_unix,
                 toUInt32(updated_at) AS updated_unix, toString(version) AS version_text
          FROM saved_filters
          WHERE (id, version) IN (SELECT id, max(version) FROM saved_filters WHERE ${scope} GROUP BY id)
            AND deleted = 0 AND ${where}
          ORDER BY name, id`,
    );
    // Two rows of one version (the same write replayed) are the same row.
    const seen = new Set<string>();
    return rows.filter((row) => !seen.has(row.id) && seen.add(row.id)).map(fromRow);
  }
}
