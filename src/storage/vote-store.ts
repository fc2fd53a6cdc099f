// Community votes on objects' classifications (migrations/0004_auth_annotations.sql): one current row per
// (object, user), the one with the highest version.
import { queryRows, runCommand, type ClickHouseClient } from './clickhouse.ts';
import { join, readInChunks, sql } from './sql.ts';

/** A user's current vote on an object's classification. */
export interface VoteRecord {
  objectId: string;
  user: string;
  label: string;
  /** 0 to 1. */
  confidence: number;
  comment: string | null;
  createdAt: Date;
}

export interface VoteStore {
  /** The current vote of every user on these objects. */
  byObjectIds(objectIds: readonly string[]): Promise<VoteRecord[]>;
  /** Writes votes; each replaces its user's previous vote on the object. */
  write(votes: readonly VoteRecord[]): Promise<void>;
}

interface VoteRow {
  object_id: string;
  user_name: string;
  label: string;
  confidence: number;
  comment: string;
  created_at: number;
}

/** Values per IN list: keeps each statement small. */
const MAX_IDS_PER_QUERY = 1000;

export class ClickHouseVoteStore implements VoteStore {
  /** Vote versions are microseconds, kept increasing within this process when the clock repeats. */
  private lastVersion = 0n;

  constructor(private readonly client: ClickHouseClient) {}

  async byObjectIds(objectIds: readonly string[]): Promise<VoteRecord[]> {
    const rows = await readInChunks(objectIds, MAX_IDS_PER_QUERY, (list) =>
      queryRows<VoteRow>(
        this.client,
        sql`SELECT object_id, user_name, l_label AS label, l_confidence AS confidence, l_comment AS comment,
                   l_created_at AS created_at
            FROM (
              SELECT object_id, user_name,
                     argMax(label, version) AS l_label,
                     argMax(confidence, version) AS l_confidence,
                     argMax(comment, version) AS l_comment,
                     toUnixTimestamp(argMax(created_at, version)) AS l_created_at
              FROM votes
              WHERE object_id IN (${list})
              GROUP BY object_id, user_name
            )`,
      ),
    );
    return rows
      .map((row): VoteRecord => ({
        objectId: row.object_id,
        user: row.user_name,
        label: row.label,
        confidence: Number(row.confidence),
        comment: row.comment === '' ? null : row.comment,
        createdAt: new Date(Number(row.created_at) * 1000),
      }))
      .sort((a, b) => a.objectId.localeCompare(b.objectId) || a.user.localeCompare(b.user));
  }

  async write(votes: readonly VoteRecord[]): Promise<void> {
    if (votes.length === 0) return;
    const values = votes.map(
      (v) =>
        sql`(${v.objectId}, ${v.user}, ${v.label}, ${v.confidence}, ${v.comment ?? ''}, ${v.createdAt},
             ${this.nextVersion()})`,
    );
    await runCommand(
      this.client,
      sql`INSERT INTO votes (object_id, user_name, label, confidence, comment, created_at, version)
          VALUES ${join(values, ', ')}`,
    );
  }

  private nextVersion(): bigint {
    const micros = BigInt(Date.now()) * 1000n;
    this.lastVersion = micros > this.lastVersion ? micros : this.lastVersion + 1n;
    return this.lastVersion;
  }
}
