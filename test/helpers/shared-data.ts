// The read-only real data at ../shared (FINK_SHARED_DIR), never copied into the project.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { testConfig } from './context.ts';

export function sharedPath(...parts: string[]): string {
  return path.join(testConfig().sharedDir, ...parts);
}

/** The real ZTF alert files: 50 of schema 3.3 (2020-01) and 561 of schema 4.02 (2023-10). */
export function ztfAlertFiles(): string[] {
  const root = sharedPath('datasim', 'ztf');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.avro'))
    .map((name) => path.join(root, name))
    .sort();
}
