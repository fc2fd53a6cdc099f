// Cluster mode (`clickhouse.cluster`): the single-node statements of migrations/*.sql, translated into their
// sharded and replicated form. The migration files stay the one history (append-only, checksummed); this
// module derives the cluster's DDL from them, statement by statement, keeping what it learnt about each table
// (sharded or global, its ZooKeeper path) for the statements that follow.
//
// Two kinds of table:
// - sharded: every table with an `object_id` column (and every materialized view reading one). `<name>_local`
//   is a Replicated<engine> on each node, `/clickhouse/tables/{shard}/<db>/<name>_local`, and `<name>` is a
//   Distributed table over them, sharded by cityHash64(object_id): an object's alerts, light curve,
//   classifications, cross-matches, annotations, votes, follow-ups and watchlist hits live on one shard.
//   FINAL through the Distributed table runs per shard, which is exact because every row of a replacing key
//   is on one shard: each table's ORDER BY either holds object_id or holds alert_id, and an alert belongs to
//   one object (a replay carries the same objectId), so rows with equal keys have equal object ids.
// - global: the small tables without an object id (catalogs and their sources, tokens, watchlists and their
//   targets, webhooks, saved filters, schema_migrations). One replicated table with every node a replica of
//   it (`/clickhouse/tables/all/<db>/<name>`), read and written locally under its own name: a cross-match
//   or a token check never leaves the node, and an insert on any node reaches all of them.
//
// Statements the translation knows: CREATE TABLE, CREATE MATERIALIZED VIEW (with an inner engine), ALTER
// TABLE, RENAME TABLE, DROP TABLE and INSERT ... SELECT. Anything else is refused with the statement, so a
// migration the translation cannot express fails before it runs, not halfway on a cluster.

export interface ClusterTarget {
  /** The cluster's name in the servers' remote_servers (clickhouse.cluster). */
  cluster: string;
  database: string;
}

export class ClusterDdlError extends Error {
  override name = 'ClusterDdlError';
}

/**
 * Marks a statement to run on one node of each shard (not through the node `fink migrate` talks to): the
 * ALTERs of sharded tables. A comment, so the statement stays valid SQL as it is.
 */
export const EACH_SHARD = '/* on one replica of each shard */ ';

/** The column every sharded table is distributed by, and the expression of its sharding key. */
export const SHARDING_COLUMN = 'object_id';
export const SHARDING_KEY = `cityHash64(${SHARDING_COLUMN})`;

type TableKind = 'sharded' | 'global';

interface TableState {
  kind: TableKind;
}

/** What the translation knows of the schema so far; carried from one statement to the next. */
export class ClusterSchema {
  private readonly tables = new Map<string, TableState>();
  /** Every ZooKeeper path handed out: a dropped or renamed table keeps (or leaves behind) its path. */
  private readonly paths = new Set<string>();

  constructor(readonly target: ClusterTarget) {}

  kindOf(table: string): TableKind | undefined {
    return this.tables.get(table)?.kind;
  }

  /** Tables known so far, by kind (for tests and for `fink migrate` to report). */
  tablesOfKind(kind: TableKind): string[] {
    return [...this.tables].filter(([, state]) => state.kind === kind).map(([name]) => name);
  }

  set(table: string, kind: TableKind): void {
    this.tables.set(table, { kind });
  }

  delete(table: string): void {
    this.tables.delete(table);
  }

  /**
   * A ZooKeeper path no table of this database ever had: 18.16 leaves a dropped table's path behind (and a
   * renamed table keeps its own), and a new table on an old path would join the old table's replicas.
   */
  newPath(base: string): string {
    let candidate = base;
    for (let n = 2; this.paths.has(candidate); n++) candidate = `${base}_${n}`;
    this.paths.add(candidate);
    return candidate;
  }
}

/** The cluster statements for one single-node statement, in the order they must run. */
export function translateStatement(statement: string, schema: ClusterSchema): string[] {
  const text = statement.trim();
  if (/^CREATE\s+TABLE\b/i.test(text)) return createTable(text, schema);
  if (/^CREATE\s+MATERIALIZED\s+VIEW\b/i.test(text)) return createMaterializedView(text, schema);
  if (/^ALTER\s+TABLE\b/i.test(text)) return alterTable(text, schema);
  if (/^RENAME\s+TABLE\b/i.test(text)) return renameTables(text, schema);
  if (/^DROP\s+TABLE\b/i.test(text)) return dropTable(text, schema);
  if (/^INSERT\s+INTO\b/i.test(text)) return insertSelect(text, schema);
  throw new ClusterDdlError(`cluster mode cannot translate this statement:\n${text}`);
}

/** Every statement of every migration, translated in order; one list of statements per input statement. */
export function translateStatements(statements: readonly string[], schema: ClusterSchema): string[][] {
  return statements.map((statement) => translateStatement(statement, schema));
}

/** CREATE DATABASE on every node. */
export function createDatabaseOnCluster({ cluster, database }: ClusterTarget): string {
  return `CREATE DATABASE IF NOT EXISTS ${database} ON CLUSTER ${cluster}`;
}

/** schema_migrations: a global table, so that every node (and `fink migrate` through any of them) agrees. */
export function schemaMigrationsTable(schema: ClusterSchema): string[] {
  return createTable(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       name String, checksum String, applied_at DateTime
     ) ENGINE = MergeTree ORDER BY name`,
    schema,
  );
}

const NAME = '([A-Za-z_][A-Za-z0-9_]*)';

function createTable(text: string, schema: ClusterSchema): string[] {
  const match = new RegExp(`^CREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${NAME}\\s*\\(`, 'i').exec(text);
  if (match === null) throw new ClusterDdlError(`cannot read the table name of:\n${text}`);
  const name = match[2]!;
  const open = match[0].length - 1;
  const close = matchingParen(text, open);
  const columnList = text.slice(open + 1, close);
  const rest = text.slice(close + 1).trim();
  const columns = columnNames(columnList);
  const kind: TableKind = columns.includes(SHARDING_COLUMN) ? 'sharded' : 'global';
  const { database, cluster } = schema.target;
  const engine = replicatedEngine(rest, kind, kind === 'sharded' ? `${name}_local` : name, schema);
  schema.set(name, kind);
  if (kind === 'global') {
    return [`CREATE TABLE IF NOT EXISTS ${database}.${name} ON CLUSTER ${cluster} (${columnList}) ${engine}`];
  }
  return [
    `CREATE TABLE IF NOT EXISTS ${database}.${name}_local ON CLUSTER ${cluster} (${columnList}) ${engine}`,
    distributedTable(name, schema.target),
  ];
}

function createMaterializedView(text: string, schema: ClusterSchema): string[] {
  const match = new RegExp(
    `^CREATE\\s+MATERIALIZED\\s+VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${NAME}\\s+(ENGINE\\s*=[\\s\\S]*?)\\bAS\\s+(SELECT\\s[\\s\\S]*)$`,
    'i',
  ).exec(text);
  if (match === null) {
    throw new ClusterDdlError(
      `cluster mode needs a materialized view with its own ENGINE, not TO; got:\n${text}`,
    );
  }
  const name = match[2]!;
  const engineClause = match[3]!.trim();
  const select = match[4]!;
  const from = new RegExp(`\\bFROM\\s+${NAME}\\b`, 'i').exec(select);
  if (from === null) throw new ClusterDdlError(`cannot find the source table of:\n${text}`);
  const source = from[1]!;
  const kind = schema.kindOf(source);
  if (kind === undefined)
    throw new ClusterDdlError(`view ${name} reads ${source}, which no migration created`);
  const { database, cluster } = schema.target;
  schema.set(name, kind);
  if (kind === 'global') {
    // A view fires only on the node that takes the insert (replicated parts arriving on the others do not fire
    // it), so its inner table is replicated to every node like its source.
    const engine = replicatedEngine(engineClause, 'global', name, schema);
    return [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.${name} ON CLUSTER ${cluster} ${engine} AS ${select.replace(
        from[0],
        `FROM ${database}.${source}`,
      )}`,
    ];
  }
  if (!new RegExp(`\\b${SHARDING_COLUMN}\\b`).test(select.slice(0, from.index))) {
    throw new ClusterDdlError(
      `view ${name} reads the sharded table ${source} and must select ${SHARDING_COLUMN} (its sharding key)`,
    );
  }
  const engine = replicatedEngine(engineClause, 'sharded', `${name}_local`, schema);
  const localSelect =
    select.slice(0, from.index) +
    `FROM ${database}.${source}_local` +
    select.slice(from.index + from[0].length);
  return [
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.${name}_local ON CLUSTER ${cluster} ${engine} AS ${localSelect}`,
    distributedTable(name, schema.target),
  ];
}

/**
 * Column operations change the Distributed table too. It is dropped and created again from its local table
 * rather than altered: 18.16 runs no ALTER ON CLUSTER of a table that is not replicated on a cluster whose
 * shards are (internal_replication), and a Distributed table holds nothing (inserts are synchronous).
 */
const COLUMN_ALTER = /^(ADD|DROP|MODIFY|COMMENT)\s+COLUMN\b/i;

function alterTable(text: string, schema: ClusterSchema): string[] {
  const match = new RegExp(`^ALTER\\s+TABLE\\s+${NAME}\\s+`, 'i').exec(text);
  if (match === null) throw new ClusterDdlError(`cannot read the table name of:\n${text}`);
  const name = match[1]!;
  const action = text.slice(match[0].length);
  const { database, cluster } = schema.target;
  const kind = schema.kindOf(name);
  if (kind === undefined) throw new ClusterDdlError(`ALTER of ${name}, which no migration created`);
  // A replicated ALTER run on one replica reaches the others through ZooKeeper: a global table is altered once,
  // a sharded one once per shard. Not ON CLUSTER: 18.16's DDL worker, which is to run it on one replica of each
  // shard, sometimes ran it on both (measured: the second failed, "column already exists", and the statement
  // hung until its timeout).
  if (kind === 'global') return [`ALTER TABLE ${database}.${name} ${action}`];
  const statements = [`${EACH_SHARD}ALTER TABLE ${database}.${name}_local ${action}`];
  if (COLUMN_ALTER.test(action)) {
    statements.push(
      `DROP TABLE IF EXISTS ${database}.${name} ON CLUSTER ${cluster}`,
      distributedTable(name, schema.target),
    );
  }
  return statements;
}

function renameTables(text: string, schema: ClusterSchema): string[] {
  const body = text.replace(/^RENAME\s+TABLE\s+/i, '');
  const pairs = body.split(',').map((pair) => {
    const match = new RegExp(`^\\s*${NAME}\\s+TO\\s+${NAME}\\s*$`, 'i').exec(pair);
    if (match === null) throw new ClusterDdlError(`cannot read the renames of:\n${text}`);
    return { from: match[1]!, to: match[2]! };
  });
  const { database, cluster } = schema.target;
  const kinds = pairs.map(({ from }) => {
    const kind = schema.kindOf(from);
    if (kind === undefined) throw new ClusterDdlError(`RENAME of ${from}, which no migration created`);
    return kind;
  });
  for (const { from } of pairs) schema.delete(from);
  for (const [i, { to }] of pairs.entries()) schema.set(to, kinds[i]!);
  const renames = (suffix: string, which: TableKind): string =>
    pairs
      .filter((_, i) => kinds[i] === which)
      .map(({ from, to }) => `${database}.${from}${suffix} TO ${database}.${to}${suffix}`)
      .join(', ');
  const statements: string[] = [];
  if (kinds.includes('global'))
    statements.push(`RENAME TABLE ${renames('', 'global')} ON CLUSTER ${cluster}`);
  const sharded = pairs.filter((_, i) => kinds[i] === 'sharded');
  if (sharded.length > 0) {
    // A Distributed table names its local table: the old ones go, the locals are renamed (all at once, as the
    // single-node RENAME swaps them), and Distributed tables are created for the new names.
    for (const { from } of sharded) {
      statements.push(`DROP TABLE IF EXISTS ${database}.${from} ON CLUSTER ${cluster}`);
    }
    statements.push(`RENAME TABLE ${renames('_local', 'sharded')} ON CLUSTER ${cluster}`);
    for (const { to } of sharded) statements.push(distributedTable(to, schema.target));
  }
  return statements;
}

function dropTable(text: string, schema: ClusterSchema): string[] {
  const match = new RegExp(`^DROP\\s+TABLE\\s+(IF\\s+EXISTS\\s+)?${NAME}\\s*$`, 'i').exec(text);
  if (match === null) throw new ClusterDdlError(`cannot read the table name of:\n${text}`);
  const name = match[2]!;
  const { database, cluster } = schema.target;
  const kind = schema.kindOf(name);
  if (kind === undefined && match[1] === undefined) {
    throw new ClusterDdlError(`DROP of ${name}, which no migration created`);
  }
  schema.delete(name);
  const drops =
    kind === 'global' ? [name] : kind === 'sharded' ? [name, `${name}_local`] : [name, `${name}_local`];
  return drops.map((table) => `DROP TABLE IF EXISTS ${database}.${table} ON CLUSTER ${cluster}`);
}

/**
 * INSERT ... SELECT (a view's backfill, a table's rebuild) runs once, on the node `fink migrate` talks to: it
 * reads every shard through the Distributed source and writes through the Distributed target, which sends each
 * row to its object's shard (migrations run with insert_distributed_sync, so it is all there when it returns).
 */
function insertSelect(text: string, schema: ClusterSchema): string[] {
  const match = new RegExp(`^INSERT\\s+INTO\\s+${NAME}\\s+SELECT\\b`, 'i').exec(text);
  if (match === null)
    throw new ClusterDdlError(`cluster mode translates INSERT ... SELECT only; got:\n${text}`);
  if (schema.kindOf(match[1]!) === undefined) {
    throw new ClusterDdlError(`INSERT into ${match[1]!}, which no migration created`);
  }
  return [text];
}

function distributedTable(name: string, { database, cluster }: ClusterTarget): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${database}.${name} ON CLUSTER ${cluster} AS ${database}.${name}_local ` +
    `ENGINE = Distributed(${cluster}, ${database}, ${name}_local, ${SHARDING_KEY})`
  );
}

/** `ENGINE = ReplacingMergeTree(v) ORDER BY ...` -> `ENGINE = ReplicatedReplacingMergeTree('<path>', '{replica}', v) ORDER BY ...`. */
function replicatedEngine(clause: string, kind: TableKind, table: string, schema: ClusterSchema): string {
  const match = /^ENGINE\s*=\s*([A-Za-z]*MergeTree)\s*(\(([^)]*)\))?/i.exec(clause);
  if (match === null)
    throw new ClusterDdlError(`cluster mode replicates MergeTree engines only; got:\n${clause}`);
  const engine = match[1]!;
  if (/^Replicated/i.test(engine)) throw new ClusterDdlError(`already a replicated engine: ${engine}`);
  const { database } = schema.target;
  const zkPath = schema.newPath(
    kind === 'sharded'
      ? `/clickhouse/tables/{shard}/${database}/${table}`
      : `/clickhouse/tables/all/${database}/${table}`,
  );
  const args = [`'${zkPath}'`, `'{replica}'`];
  const own = match[3]?.trim();
  if (own !== undefined && own.length > 0) args.push(own);
  const tail = clause.slice(match[0].length).trim();
  return `ENGINE = Replicated${engine}(${args.join(', ')})${tail === '' ? '' : ` ${tail}`}`;
}

/** The index of the parenthesis closing the one at `open`; quotes are skipped. */
function matchingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  throw new ClusterDdlError(`unbalanced parentheses in:\n${text}`);
}

/** The names of a column list `a String, b Nullable(Float64) DEFAULT NULL, ...` (commas inside types skipped). */
function columnNames(list: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  const take = (end: number): void => {
    const name = /^\s*`?([A-Za-z_][A-Za-z0-9_]*)/.exec(list.slice(start, end))?.[1];
    if (name !== undefined) names.push(name);
  };
  for (let i = 0; i < list.length; i++) {
    const ch = list[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      take(i);
      start = i + 1;
    }
  }
  take(list.length);
  return names;
}
