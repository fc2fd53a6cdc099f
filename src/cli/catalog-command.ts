// `fink catalog load|list|drop`: the static catalogs every alert is cross-matched against.
//
//   fink catalog load gcvs ../shared/catalogs/gcvs.parquet --ra ra --dec dec --radius 1.5 --type-column VarType
//   fink catalog load 3hsp ../shared/catalogs/3hsp.csv --ra R.A. --dec Dec --radius 60 --id-column "3HSP Source name"
//   fink catalog list
//   fink catalog drop gcvs
//
// A running pipeline picks up a loaded, reloaded or dropped catalog when its catalog cache refreshes (60 s).
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { CatalogReadError, openCatalog } from '../catalogs/reader.ts';
import type { Config } from '../config.ts';
import { configOption } from './options.ts';
import { CatalogError, ClickHouseCatalogStore, MAX_RADIUS_ARCSEC } from '../storage/catalog-store.ts';
import type { CatalogInfo } from '../storage/catalog-store.ts';
import { connectClickHouse } from '../storage/clickhouse.ts';

type GetConfig = (options: { config?: string }) => Config;

interface LoadOptions {
  config?: string;
  ra: string;
  dec: string;
  radius: number;
  idColumn?: string;
  typeColumn?: string;
  columns?: string[];
  overriding: boolean;
}

function radiusArcsec(value: string): number {
  const radius = Number(value);
  if (!Number.isFinite(radius) || radius <= 0 || radius > MAX_RADIUS_ARCSEC) {
    throw new InvalidArgumentError(
      `expected arcseconds above 0 and at most ${MAX_RADIUS_ARCSEC}, got '${value}'`,
    );
  }
  return radius;
}

function columnList(value: string, previous: string[] | undefined): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected comma-separated column names');
  return [...(previous ?? []), ...names];
}

/** Expected failures (a bad file, an unknown catalog) print one line; anything else goes to the caller. */
async function reportingErrors(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof CatalogReadError || err instanceof CatalogError) {
      console.error(`fink: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

async function withStore<T>(config: Config, use: (store: ClickHouseCatalogStore) => Promise<T>): Promise<T> {
  const client = connectClickHouse(config.clickhouse);
  try {
    return await use(new ClickHouseCatalogStore(client));
  } finally {
    await client.close();
  }
}

export interface CatalogFileRequest {
  name: string;
  file: string;
  ra: string;
  dec: string;
  radiusArcsec: number;
  idColumn: string | null;
  typeColumn: string | null;
  extraColumns: string[];
  overriding: boolean;
}

/** Reads a CSV or Parquet catalog and loads (or replaces) it; `fink catalog load` and `fink demo` use it. */
export async function loadCatalogFile(
  config: Config,
  request: CatalogFileRequest,
): Promise<{ rows: number; hpxOrder: number; seconds: number }> {
  const file = path.resolve(request.file);
  // Opening checks every named column before anything is written.
  const source = await openCatalog(file, {
    ra: request.ra,
    dec: request.dec,
    id: request.idColumn,
    type: request.typeColumn,
    extra: request.extraColumns,
  });
  const started = performance.now();
  const result = await withStore(config, (store) =>
    store.load(
      {
        name: request.name,
        file,
        raColumn: request.ra,
        decColumn: request.dec,
        idColumn: request.idColumn,
        typeColumn: request.typeColumn,
        extraColumns: request.extraColumns,
        radiusArcsec: request.radiusArcsec,
        overriding: request.overriding,
      },
      source.sources(),
    ),
  );
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

export function registerCatalogCommands(program: Command, getConfig: GetConfig): void {
  const catalog = program
    .command('catalog')
    .description('static catalogs every alert is cross-matched against (nearest source within a radius)');

  catalog
    .command('load')
    .description(
      'load a CSV (comma-separated, header line) or Parquet catalog into ClickHouse; a catalog of the same ' +
        'name is replaced. Decimal coordinates are degrees; sexagesimal RA is hours ("12 34 56.7", ' +
        '"12:34:56.7", "12h34m56.7s"), sexagesimal Dec degrees ("-00 30 00")',
    )
    .argument('<name>', "the catalog's name in matches (letters, digits, _ . -)")
    .argument('<file>', 'a .csv or .parquet file')
    .requiredOption('--ra <column>', 'right ascension column')
    .requiredOption('--dec <column>', 'declination column')
    .requiredOption(
      '--radius <arcsec>',
      'match radius in arcseconds (Fink: GCVS 1.5, SPICY 1.2, 3HSP 60)',
      radiusArcsec,
    )
    .option('--id-column <column>', "source id column (default: the source's 1-based row number in the file)")
    .option(
      '--type-column <column>',
      'source type column, e.g. VarType (default: none; matches carry type null)',
    )
    .option(
      '--columns <names>',
      'extra columns stored with each source as JSON (comma-separated)',
      columnList,
    )
    .option(
      '--overriding',
      "a match's type replaces the alert's classification label, like SIMBAD in Fink",
      false,
    )
    .addOption(configOption())
    .action((name: string, file: string, options: LoadOptions) =>
      reportingErrors(async () => {
        const result = await loadCatalogFile(getConfig(options), {
          name,
          file,
          ra: options.ra,
          dec: options.dec,
          radiusArcsec: options.radius,
          idColumn: options.idColumn ?? null,
          typeColumn: options.typeColumn ?? null,
          extraColumns: options.columns ?? [],
          overriding: options.overriding,
        });
        console.log(
          `loaded catalog ${name}: ${result.rows} rows from ${file} in ${result.seconds.toFixed(1)} s ` +
            `(radius ${options.radius}", HEALPix order ${result.hpxOrder}${options.overriding ? ', overriding' : ''})`,
        );
      }),
    );

  catalog
    .command('list')
    .description('list the loaded catalogs')
    .addOption(configOption())
    .action((options: { config?: string }) =>
      reportingErrors(async () => {
        const catalogs = await withStore(getConfig(options), (store) => store.list());
        console.log(catalogs.length === 0 ? 'no catalogs loaded' : formatCatalogTable(catalogs));
      }),
    );

  catalog
    .command('drop')
    .description('remove a catalog and its sources')
    .argument('<name>', 'catalog name')
    .addOption(configOption())
    .action((name: string, options: { config?: string }) =>
      reportingErrors(async () => {
        await withStore(getConfig(options), (store) => store.drop(name));
        console.log(`dropped catalog ${name}`);
      }),
    );
}

export function formatCatalogTable(catalogs: readonly CatalogInfo[]): string {
  const header = ['NAME', 'ROWS', 'RADIUS', 'ORDER', 'TYPE COLUMN', 'OVERRIDING', 'LOADED (UTC)', 'FILE'];
  const rows = catalogs.map((c) => [
    c.name,
    String(c.rowCount),
    `${c.radiusArcsec}"`,
    String(c.hpxOrder),
    c.typeColumn ?? '-',
    c.overriding ? 'yes' : 'no',
    c.loadedAt.toISOString().slice(0, 19).replace('T', ' '),
    c.file,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
