import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/project.ts';
import { readMigrations, splitStatements } from '../../src/storage/migrations.ts';

describe('splitStatements', () => {
  it('splits on semicolons at line ends and drops comment lines', () => {
    const text = "-- a comment\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\n-- another\nSELECT ';' ;\n";
    expect(splitStatements(text)).toEqual(['CREATE TABLE a (x UInt8) ENGINE = Memory', "SELECT ';'"]);
  });
});

describe('readMigrations', () => {
  it('reads the project migrations in order, each with statements and a checksum', async () => {
    const files = await readMigrations(MIGRATIONS_DIR);
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((f) => f.name)).toEqual([...files.map((f) => f.name)].sort());
    for (const file of files) {
      expect(file.statements.length).toBeGreaterThan(0);
      expect(file.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('refuses a file that does not follow NNNN_name.sql', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fink-migrations-'));
    writeFileSync(path.join(dir, 'add-table.sql'), 'SELECT 1;');
    await expect(readMigrations(dir)).rejects.toThrow(
      /add-table\.sql must be named NNNN_lowercase_name\.sql/,
    );
  });
});
