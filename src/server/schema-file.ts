// The emitted GraphQL schema (schema/schema.graphql), committed so that clients and reviewers see the API and its
// changes; `npm run schema` rewrites it and a unit test fails when it is stale.
import path from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { PROJECT_ROOT } from '../project.ts';
import { buildFinkSchema } from '../resolvers/index.ts';

export const SCHEMA_FILE = path.join(PROJECT_ROOT, 'schema', 'schema.graphql');

export async function printFinkSchema(): Promise<string> {
  const schema = await buildFinkSchema();
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
