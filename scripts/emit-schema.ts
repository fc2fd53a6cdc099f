// npm run schema: writes schema/schema.graphql from the resolvers.
import { writeFile } from 'node:fs/promises';
import { printFinkSchema, SCHEMA_FILE } from '../src/server/schema-file.ts';

await writeFile(SCHEMA_FILE, await printFinkSchema());
console.log(`wrote ${SCHEMA_FILE}`);
