// `fink catalog load|list|drop`: the static catalogs every alert is cross-matched against.
//
//   fink catalog load gcvs ../shared/catalogs/gcvs.parquet --ra ra --dec dec --radius 1.5 --type-column VarType
//   fink catalog load 3hsp ../shared/catalogs/3hsp.csv --ra R.A. --dec Dec --radius 60 --id-column "3HSP Source name"
//   fink catalog load x4lac table-4LAC-DR3-h.fits table-4LAC-DR3-l.fits --ra RAJ2000 --dec DEJ2000 --radius 60 \
//     --id-column Source_Name
//   fink catalog load-fink       (the catalogs of the fink-science wheel, with Fink's radii: run
//                                 `fink models install` first)
//   fink catalog list
//   fink catalog drop gcvs
//
// A running pipeline picks up a loaded, reloaded or dropped catalog when its catalog cache refreshes (60 s).
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { CatalogReadError, openCatalogFiles } from '../catalogs/reader.ts';
import type { Config } from '../config.ts';
import { configOption } from './options.ts';
import { CatalogError, ClickHouseCatalogStore, MAX_RADIUS_ARCSEC } from '../storage/catalog-store.ts';
import type { CatalogInfo } from '../storage/catalog-store.ts';
import { connectClickHouse } from '../storage/clickhouse.ts';
import { versionDir } from '../models/manifest.ts';

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
  /** One file, or the parts of one catalog (read one after the other, same columns). */
  file: string | readonly string[];
  ra: string;
  dec: string;
  radiusArcsec: number;
  idColumn: string | null;
  typeColumn: string | null;
  extraColumns: string[];
  overriding: boolean;
  /** Read ra = 360 as 0 (see CatalogColumns.wrapRa360). */
  wrapRa360?: boolean;
}

/** Reads a CSV, Parquet or FITS catalog and loads (or replaces) it; `fink catalog load` and `fink demo` use it. */
export async function loadCatalogFile(
  config: Config,
  request: CatalogFileRequest,
): Promise<{ rows: number; hpxOrder: number; seconds: number }> {
  const files = (typeof request.file === 'string' ? [request.file] : request.file).map((f) =>
    path.resolve(f),
  );
  const file = files.join(',');
  // Opening checks every named column of every file before anything is written.
  const source = await openCatalogFiles(files, {
    ra: request.ra,
    dec: request.dec,
    id: request.idColumn,
    type: request.typeColumn,
    extra: request.extraColumns,
    wrapRa360: request.wrapRa360,
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
      'load a CSV (comma-separated, header line), Parquet or FITS (binary table) catalog into ClickHouse; a catalog of the same ' +
        'name is replaced. Decimal coordinates are degrees; sexagesimal RA is hours ("12 34 56.7", ' +
        '"12:34:56.7", "12h34m56.7s"), sexagesimal Dec degrees ("-00 30 00")',
    )
    .argument('<name>', "the catalog's name in matches (letters, digits, _ . -)")
    .argument('<files...>', 'a .csv, .parquet or .fits file (or the parts of one catalog)')
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
    .action((name: string, files: string[], options: LoadOptions) =>
      reportingErrors(async () => {
        const result = await loadCatalogFile(getConfig(options), {
          name,
          file: files,
          ra: options.ra,
          dec: options.dec,
          radiusArcsec: options.radius,
          idColumn: options.idColumn ?? null,
          typeColumn: options.typeColumn ?? null,
          extraColumns: options.columns ?? [],
          overriding: options.overriding,
        });
        console.log(
          `loaded catalog ${name}: ${result.rows} rows from ${files.join(', ')} in ${result.seconds.toFixed(1)} s ` +
            `(radius ${options.radius}", HEALPix order ${result.hpxOrder}${options.overriding ? ', overriding' : ''})`,
        );
      }),
    );

  catalog
    .command('load-fink')
    .description(
      'load the catalogs of the fink-science wheel with Fink\'s radii and field names: vsx (VSX, 1.5"), ' +
        'x4lac (4LAC DR3, 60"), mangrove (Mangrove, 60"); run `fink models install` first',
    )
    .addOption(configOption())
    .action((options: { config?: string }) =>
      reportingErrors(async () => {
        const config = getConfig(options);
        for (const request of finkWheelCatalogs(wheelCatalogDir(config))) {
          const result = await loadCatalogFile(config, request);
          console.log(
            `loaded catalog ${request.name}: ${result.rows} rows in ${result.seconds.toFixed(1)} s ` +
              `(radius ${request.radiusArcsec}")`,
          );
        }
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

/** Where `fink models install` puts the wheel's catalogs. */
export function wheelCatalogDir(config: Pick<Config, 'models'>): string {
  return path.join(versionDir(config.models.cacheDir, config.models.finkScienceVersion), 'files', 'catalogs');
}

/**
 * The positional catalogs of the fink-science wheel, named after the fields Fink fills from them, with the radii
 * fink-broker uses (fink_broker/ztf/science.py apply_all_xmatch; fink-science ztf/xmatch):
 * - vsx: AAVSO VSX (RAJ2000, DEJ2000, VType), 1.5". Fink queries VizieR's B/vsx through the CDS xmatch service at
 *   1.5"; the wheel's vsx.parquet is the same catalogue, read here.
 * - x4lac: Fermi 4LAC DR3, high- and low-latitude tables, id Source_Name, 60".
 * - mangrove: Mangrove (galaxies for gravitational-wave follow-up), 60", with Fink's payload columns
 *   HyperLEDA_name, 2MASS_name, lum_dist, ang_dist kept as extra columns.
 * GCVS (1.5") and 3HSP (60") are in the wheel too, and in ../shared (loaded by the demo). The CTAO blazar list
 * (CTAO_blazars_ztf_dr22.parquet) has no coordinates: Fink's blazar modules look it up by ZTF object name, so it
 * is not a cross-match catalog.
 */
export function finkWheelCatalogs(dir: string): CatalogFileRequest[] {
  const file = (name: string) => path.join(dir, name);
  const base = { idColumn: null, typeColumn: null, extraColumns: [], overriding: false };
  return [
    {
      ...base,
      name: 'vsx',
      file: file('vsx.parquet'),
      ra: 'RAJ2000',
      dec: 'DEJ2000',
      radiusArcsec: 1.5,
      typeColumn: 'VType',
    },
    {
      ...base,
      name: 'x4lac',
      file: [file('table-4LAC-DR3-h.fits'), file('table-4LAC-DR3-l.fits')],
      ra: 'RAJ2000',
      dec: 'DEJ2000',
      radiusArcsec: 60,
      idColumn: 'Source_Name',
    },
    {
      ...base,
      name: 'mangrove',
      file: file('mangrove_filtered.parquet'),
      ra: 'ra',
      dec: 'dec',
      radiusArcsec: 60,
      extraColumns: ['HyperLEDA_name', '2MASS_name', 'lum_dist', 'ang_dist'],
      wrapRa360: true,
    },
  ];
}
