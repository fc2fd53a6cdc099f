import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../../src/project.ts';
import {
  ClusterDdlError,
  ClusterSchema,
  EACH_SHARD,
  schemaMigrationsTable,
  translateStatement,
} from '../../../src/storage/cluster-ddl.ts';
import { readMigrations, statementsFor } from '../../../src/storage/migrations.ts';

const TARGET = { cluster: 'fink', database: 'db' };
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

function schemaWith(statements: string[]): ClusterSchema {
  const schema = new ClusterSchema(TARGET);
  for (const statement of statements) translateStatement(statement, schema);
  return schema;
}

const OBJECTS =
  'CREATE TABLE IF NOT EXISTS objects (object_id String, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY object_id';
const TOKENS = 'CREATE TABLE tokens (id String, tags Array(String)) ENGINE = MergeTree ORDER BY id';

describe('translateStatement', () => {
  it.each([
    {
      name: 'a table with object_id: a replicated local table per shard and a Distributed table by object id',
      before: [],
      statement: OBJECTS,
      expected: [
        "CREATE TABLE IF NOT EXISTS db.objects_local ON CLUSTER fink (object_id String, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/objects_local', '{replica}', v) ORDER BY object_id",
        'CREATE TABLE IF NOT EXISTS db.objects ON CLUSTER fink AS db.objects_local ENGINE = Distributed(fink, db, objects_local, cityHash64(object_id))',
      ],
    },
    {
      name: 'a table without object_id: one table replicated on every node',
      before: [],
      statement: TOKENS,
      expected: [
        "CREATE TABLE IF NOT EXISTS db.tokens ON CLUSTER fink (id String, tags Array(String)) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/db/tokens', '{replica}') ORDER BY id",
      ],
    },
    {
      name: 'a view of a sharded table: a view per shard reading the local table, and a Distributed table',
      before: [OBJECTS],
      statement:
        'CREATE MATERIALIZED VIEW IF NOT EXISTS by_v ENGINE = ReplacingMergeTree ORDER BY v SETTINGS index_granularity = 256 AS SELECT v, object_id FROM objects',
      expected: [
        "CREATE MATERIALIZED VIEW IF NOT EXISTS db.by_v_local ON CLUSTER fink ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/by_v_local', '{replica}') ORDER BY v SETTINGS index_granularity = 256 AS SELECT v, object_id FROM db.objects_local",
        'CREATE TABLE IF NOT EXISTS db.by_v ON CLUSTER fink AS db.by_v_local ENGINE = Distributed(fink, db, by_v_local, cityHash64(object_id))',
      ],
    },
    {
      name: 'a column ALTER of a sharded table: once per shard, then the Distributed table anew',
      before: [OBJECTS],
      statement: "ALTER TABLE objects ADD COLUMN note String DEFAULT ''",
      expected: [
        "/* on one replica of each shard */ ALTER TABLE db.objects_local ADD COLUMN note String DEFAULT ''",
        'DROP TABLE IF EXISTS db.objects ON CLUSTER fink',
        'CREATE TABLE IF NOT EXISTS db.objects ON CLUSTER fink AS db.objects_local ENGINE = Distributed(fink, db, objects_local, cityHash64(object_id))',
      ],
    },
    {
      name: 'a partition ALTER of a sharded table: once per shard, the local tables only',
      before: [OBJECTS],
      statement: 'ALTER TABLE objects DROP PARTITION tuple()',
      expected: ['/* on one replica of each shard */ ALTER TABLE db.objects_local DROP PARTITION tuple()'],
    },
    {
      name: 'an ALTER of a global table: once, replication takes it to every node',
      before: [TOKENS],
      statement: "ALTER TABLE tokens ADD COLUMN owner String DEFAULT ''",
      expected: ["ALTER TABLE db.tokens ADD COLUMN owner String DEFAULT ''"],
    },
    {
      name: 'a RENAME swap of sharded tables: locals renamed together, Distributed tables recreated',
      before: [OBJECTS, OBJECTS.replace('objects', 'objects_new')],
      statement: 'RENAME TABLE objects TO objects_old, objects_new TO objects',
      expected: [
        'DROP TABLE IF EXISTS db.objects ON CLUSTER fink',
        'DROP TABLE IF EXISTS db.objects_new ON CLUSTER fink',
        'RENAME TABLE db.objects_local TO db.objects_old_local, db.objects_new_local TO db.objects_local ON CLUSTER fink',
        'CREATE TABLE IF NOT EXISTS db.objects_old ON CLUSTER fink AS db.objects_old_local ENGINE = Distributed(fink, db, objects_old_local, cityHash64(object_id))',
        'CREATE TABLE IF NOT EXISTS db.objects ON CLUSTER fink AS db.objects_local ENGINE = Distributed(fink, db, objects_local, cityHash64(object_id))',
      ],
    },
    {
      name: 'a RENAME of a global table',
      before: [TOKENS],
      statement: 'RENAME TABLE tokens TO api_tokens',
      expected: ['RENAME TABLE db.tokens TO db.api_tokens ON CLUSTER fink'],
    },
    {
      name: 'a DROP of a sharded table: both tables',
      before: [OBJECTS],
      statement: 'DROP TABLE objects',
      expected: [
        'DROP TABLE IF EXISTS db.objects ON CLUSTER fink',
        'DROP TABLE IF EXISTS db.objects_local ON CLUSTER fink',
      ],
    },
    {
      name: 'INSERT ... SELECT: once, through the Distributed tables',
      before: [OBJECTS],
      statement: 'INSERT INTO objects SELECT * FROM objects',
      expected: ['INSERT INTO objects SELECT * FROM objects'],
    },
  ])('$name', ({ before, statement, expected }) => {
    expect(translateStatement(statement, schemaWith(before)).map(oneLine)).toEqual(expected);
  });

  it.each([
    ['a view with TO', 'CREATE MATERIALIZED VIEW v TO objects AS SELECT * FROM objects', /own ENGINE/],
    [
      'a view of a sharded table without object_id',
      'CREATE MATERIALIZED VIEW v ENGINE = MergeTree ORDER BY v AS SELECT v FROM objects',
      /must select object_id/,
    ],
    [
      'an engine that is not a MergeTree',
      'CREATE TABLE m (object_id String) ENGINE = Memory',
      /MergeTree engines only/,
    ],
    ['an ALTER of an unknown table', 'ALTER TABLE nowhere ADD COLUMN x UInt8', /no migration created/],
    ['another kind of statement', 'OPTIMIZE TABLE objects FINAL', /cannot translate/],
  ])('refuses %s', (_name, statement, message) => {
    expect(() => translateStatement(statement, schemaWith([OBJECTS]))).toThrow(ClusterDdlError);
    expect(() => translateStatement(statement, schemaWith([OBJECTS]))).toThrow(message);
  });

  it('never gives a new table the ZooKeeper path of a dropped one', () => {
    const schema = schemaWith([OBJECTS, 'DROP TABLE objects']);
    const [local] = translateStatement(OBJECTS, schema);
    expect(local).toContain("'/clickhouse/tables/{shard}/db/objects_local_2'");
  });
});

describe('the project migrations in cluster mode', () => {
  it('translate, every file, with schema_migrations a global table', async () => {
    const files = await readMigrations(MIGRATIONS_DIR);
    const translated = statementsFor(files, TARGET);
    expect(translated).toHaveLength(files.length);
    for (const [i, statements] of translated.entries()) {
      expect(statements.length).toBeGreaterThanOrEqual(files[i]!.statements.length);
      for (const { text } of statements) {
        // Every DDL statement runs ON CLUSTER, but ALTERs (once per shard, or once for a global table); data goes
        // through INSERT.
        expect(text).toMatch(
          /ON CLUSTER fink|^INSERT INTO|^(\/\* on one replica of each shard \*\/ )?ALTER TABLE db\.[a-z_]+ /,
        );
        expect(text.startsWith(EACH_SHARD) && text.includes('ON CLUSTER')).toBe(false);
        expect(text).not.toMatch(/ENGINE = (Replacing)?MergeTree/);
      }
    }
    expect(schemaMigrationsTable(new ClusterSchema(TARGET)).join()).toContain(
      "ReplicatedMergeTree('/clickhouse/tables/all/db/schema_migrations', '{replica}')",
    );
  });

  it('shard every table of an object and keep the small tables whole on every node', async () => {
    const files = await readMigrations(MIGRATIONS_DIR);
    const schema = new ClusterSchema(TARGET);
    for (const file of files) for (const s of file.statements) translateStatement(s.text, schema);
    expect(schema.tablesOfKind('sharded').sort()).toEqual([
      'alerts',
      'alerts_by_class',
      'alerts_by_hpx',
      'alerts_by_id',
      'alerts_by_night',
      'annotations',
      'classifications',
      'crossmatches',
      'followups',
      'lightcurve',
      'objects',
      'raw_alerts',
      'votes',
      'watchlist_hits',
      'watchlist_hits_by_object',
    ]);
    expect(schema.tablesOfKind('global').sort()).toEqual([
      'api_tokens',
      'catalog_sources',
      'catalogs',
      'saved_filters',
      'watchlist_targets',
      'watchlists',
      'webhooks',
    ]);
  });

  it('key every sharded table so that the rows of one replacing key are on one shard (FINAL per shard)', async () => {
    // The sorting key of the last CREATE of each sharded table must hold object_id, or alert_id: an alert
    // belongs to one object, so equal alert ids mean equal object ids, hence one shard.
    const files = await readMigrations(MIGRATIONS_DIR);
    const schema = new ClusterSchema(TARGET);
    const orderBy = new Map<string, string>();
    for (const file of files) {
      for (const { text } of file.statements) {
        for (const out of translateStatement(text, schema)) {
          const created =
            /^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS db\.([a-z_]+)_local ON CLUSTER/.exec(out);
          const key = /ORDER BY (\([^)]*\)|[a-z_]+)/.exec(out);
          if (created !== null && key !== null) orderBy.set(created[1]!, key[1]!);
        }
      }
    }
    for (const table of schema.tablesOfKind('sharded')) {
      expect(orderBy.get(table), table).toMatch(/\b(object_id|alert_id)\b/);
    }
  });
});
