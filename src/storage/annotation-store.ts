// Annotations on objects (migrations/0004_auth_annotations.sql); votes have a store of their own (vote-store.ts).
//
// Annotations are versioned: every edit or retraction is a new row (version + 1) and the history stays.
// The current state is each annotation's highest version, read with argMax(.., version) per annotation, which
// does not depend on merges and ignores a retried insert's duplicate row.
import { queryRows, runCommand, type ClickHouseClient } from './clickhouse.ts';
import { join, readInChunks, sql, type Sql } from './sql.ts';

export const CITATION_KINDS = ['DOI', 'ADS', 'ATEL', 'TNS', 'URL'] as const;
export type CitationKind = (typeof CITATION_KINDS)[number];

export interface Citation {
  kind: CitationKind;
  value: string;
}

/** One version of an annotation. */
export interface AnnotationRecord {
  /** Shared by every version. */
  annotationId: string;
  /** 1 for the first, +1 for each edit or retraction. */
  version: number;
  objectId: string;
  author: string;
  text: string;
  tags: string[];
  classification: string | null;
  citations: Citation[];
  retracted: boolean;
  /** When the annotation was first written (version 1); a write ignores it. */
  createdAt: Date;
  /** When this version was written. */
  updatedAt: Date;
}

export interface AnnotationChange {
  before: AnnotationRecord | undefined;
  written: AnnotationRecord | null;
}

export interface AnnotationStore {
  /** The current version of every annotation of these objects, retracted ones included, oldest first. */
  byObjectIds(objectIds: readonly string[]): Promise<AnnotationRecord[]>;
  /** The current version of each of these annotations; unknown ids are absent. */
  byIds(annotationIds: readonly string[]): Promise<AnnotationRecord[]>;
  /** Every version of these annotations, by annotation then version. */
  history(annotationIds: readonly string[]): Promise<AnnotationRecord[]>;
  /** Writes annotation versions (a version already written is replaced, not duplicated). */
  writeAnnotations(records: readonly AnnotationRecord[]): Promise<void>;
  /**
   * Changes one annotation as a compare-and-set: `change` gets its current version, read afresh, and returns
   * the version to write (or null to write nothing; it may throw to refuse). Changes of one annotation run one
   * at a time, so two edits that both started from version N cannot both write N + 1: the second one sees N + 1
   * and refuses. Resolves with the version `change` saw and what was written (null when nothing was).
   */
  change(
    annotationId: string,
    change: (current: AnnotationRecord | undefined) => AnnotationRecord | null,
  ): Promise<AnnotationChange>;
}

interface AnnotationRow {
  annotation_id: string;
  version: number;
  object_id: string;
  author: string;
  text: string;
  tags: string[];
  classification: string;
  citation_kinds: string[];
  citation_values: string[];
  retracted: number;
  created_at: number;
  first_created_at: number;
}

/** Values per IN list: keeps each statement small. */
const MAX_IDS_PER_QUERY = 1000;

export class ClickHouseAnnotationStore implements AnnotationStore {
  /** The change of each annotation under way: the next one of the same annotation waits for it. */
  private readonly changing = new Map<string, Promise<unknown>>();

  constructor(private readonly client: ClickHouseClient) {}

  async byObjectIds(objectIds: readonly string[]): Promise<AnnotationRecord[]> {
    const rows = await this.chunked(objectIds, (list) =>
      queryRows<AnnotationRow>(this.client, latestAnnotations(sql`object_id IN (${list})`)),
    );
    return rows
      .map(toAnnotation)
      .sort(
        (a, b) =>
          a.objectId.localeCompare(b.objectId) ||
          a.createdAt.getTime() - b.createdAt.getTime() ||
          a.annotationId.localeCompare(b.annotationId),
      );
  }

  async byIds(annotationIds: readonly string[]): Promise<AnnotationRecord[]> {
    // The sort key starts with object_id: a lookup by id reads the whole (small) table's id column.
    const rows = await this.chunked(annotationIds, (list) =>
      queryRows<AnnotationRow>(this.client, latestAnnotations(sql`annotation_id IN (${list})`)),
    );
    return rows.map(toAnnotation);
  }

  async history(annotationIds: readonly string[]): Promise<AnnotationRecord[]> {
    const rows = await this.chunked(annotationIds, (list) =>
      queryRows<Omit<AnnotationRow, 'created_at' | 'first_created_at'> & { created_unix: number }>(
        this.client,
        sql`SELECT annotation_id, version, object_id, author, text, tags, classification,
                   citation_kinds, citation_values, retracted,
                   toUnixTimestamp(created_at) AS created_unix
            FROM annotations FINAL
            WHERE annotation_id IN (${list})`,
      ),
    );
    // Version 1 is the earliest row of each annotation: its time is the annotation's creation time.
    const first = new Map<string, number>();
    for (const row of rows) {
      const previous = first.get(row.annotation_id);
      if (previous === undefined || row.created_unix < previous)
        first.set(row.annotation_id, row.created_unix);
    }
    return rows
      .map(({ created_unix, ...row }) =>
        toAnnotation({ ...row, created_at: created_unix, first_created_at: first.get(row.annotation_id)! }),
      )
      .sort((a, b) => a.annotationId.localeCompare(b.annotationId) || a.version - b.version);
  }

  async writeAnnotations(records: readonly AnnotationRecord[]): Promise<void> {
    if (records.length === 0) return;
    const values = records.map(
      (r) =>
        sql`(${r.annotationId}, ${r.version}, ${r.objectId}, ${r.author}, ${r.text}, ${r.tags},
             ${r.classification ?? ''}, ${r.citations.map((c) => c.kind)}, ${r.citations.map((c) => c.value)},
             ${r.retracted}, ${r.updatedAt})`,
    );
    await runCommand(
      this.client,
      sql`INSERT INTO annotations (annotation_id, version, object_id, author, text, tags, classification,
                                   citation_kinds, citation_values, retracted, created_at)
          VALUES ${join(values, ', ')}`,
    );
  }

  /**
   * ClickHouse has no transactions: the compare-and-set is made exact by running the read, the check and the
   * write of one annotation one at a time in this process (the server that serves the mutations). Two server
   * instances behind a load balancer could still interleave within a write's few milliseconds (README).
   */
  change(
    annotationId: string,
    change: (current: AnnotationRecord | undefined) => AnnotationRecord | null,
  ): Promise<AnnotationChange> {
    const previous = this.changing.get(annotationId) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async (): Promise<AnnotationChange> => {
        const [before] = await this.byIds([annotationId]);
        const written = change(before);
        if (written !== null) await this.writeAnnotations([written]);
        return { before, written };
      });
    this.changing.set(annotationId, run);
    const forget = () => {
      if (this.changing.get(annotationId) === run) this.changing.delete(annotationId);
    };
    run.then(forget, forget);
    return run;
  }

  private chunked<T>(ids: readonly string[], read: (list: Sql) => Promise<T[]>): Promise<T[]> {
    return readInChunks(ids, MAX_IDS_PER_QUERY, read);
  }
}

/**
 * The highest version of each annotation matching `condition`, with the time of its first version. The
 * aggregates get names of their own inside, renamed outside: on 18.16 an alias equal to a column name replaces
 * that column everywhere in the query (the WHERE and the other aggregates included).
 */
function latestAnnotations(condition: Sql): Sql {
  return sql`SELECT annotation_id, l_version AS version, l_object_id AS object_id, l_author AS author,
                    l_text AS text, l_tags AS tags, l_classification AS classification,
                    l_citation_kinds AS citation_kinds, l_citation_values AS citation_values,
                    l_retracted AS retracted, l_created_at AS created_at, l_first_created_at AS first_created_at
             FROM (
               SELECT annotation_id,
                      max(version) AS l_version,
                      argMax(object_id, version) AS l_object_id,
                      argMax(author, version) AS l_author,
                      argMax(text, version) AS l_text,
                      argMax(tags, version) AS l_tags,
                      argMax(classification, version) AS l_classification,
                      argMax(citation_kinds, version) AS l_citation_kinds,
                      argMax(citation_values, version) AS l_citation_values,
                      argMax(retracted, version) AS l_retracted,
                      toUnixTimestamp(argMax(created_at, version)) AS l_created_at,
                      toUnixTimestamp(min(created_at)) AS l_first_created_at
               FROM annotations
               WHERE ${condition}
               GROUP BY annotation_id
             )`;
}

function toAnnotation(row: AnnotationRow): AnnotationRecord {
  const kinds = row.citation_kinds;
  return {
    annotationId: row.annotation_id,
    version: Number(row.version),
    objectId: row.object_id,
    author: row.author,
    text: row.text,
    tags: row.tags,
    classification: row.classification === '' ? null : row.classification,
    citations: kinds.map((kind, i) => ({
      kind: kind as CitationKind,
      value: row.citation_values[i] ?? '',
    })),
    retracted: Number(row.retracted) === 1,
    createdAt: new Date(Number(row.first_created_at) * 1000),
    updatedAt: new Date(Number(row.created_at) * 1000),
  };
}
