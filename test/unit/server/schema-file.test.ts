import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printFinkSchema, SCHEMA_FILE } from '../../../src/server/schema-file.ts';

describe('schema/schema.graphql', () => {
  it('is what the resolvers emit (run `npm run schema` after changing the API)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(await printFinkSchema());
  });
});
