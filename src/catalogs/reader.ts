// Reads a static catalog (CSV, Parquet or a FITS binary table) into validated sources: id, position in degrees, type, extra columns.
//
// Coordinates are read the way catalogs write them:
// - a plain number (or a number-typed Parquet column) is degrees, for RA as for Dec;
// - sexagesimal text is hours for RA ("12 34 56.7", "12:34:56.7", "12h34m56.7s") and degrees for Dec
//   ("+12 34 56", "-00:30:00", "-12d34m56s"); RA written with d or ° ("180d30m00s") is degrees.
// The sign of a sexagesimal Dec is read from the text, never from the degrees field, so "-00 30 00" is -0.5°.
//
// Every rejected value names the row (1-based, header excluded; CSV also gives the line) and the column, so a
// bad file is fixed at the place it is wrong. Nothing is written before the header has been checked.
import { constants, createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CsvError, parse as parseCsv } from 'csv-parse';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { CatalogSource } from '../storage/catalog-store.ts';
import { FitsTableError, readFitsTable } from './fits-table.ts';
import type { FitsTable } from './fits-table.ts';

export type CatalogFormat = 'csv' | 'parquet' | 'fits';

/** Which columns of the file hold what. Names are matched exactly (CSV header cells are trimmed). */
export interface CatalogColumns {
  ra: string;
  dec: string;
  /** Source id column; when absent, a source's id is its 1-based row number in the file. */
  id?: string | null | undefined;
  /** Type column (GCVS VarType, SPICY class); when absent, every source's type is null. */
  type?: string | null | undefined;
  /** Extra columns kept with each source as JSON text, not interpreted. */
  extra?: readonly string[] | undefined;
  /**
   * Read a right ascension of exactly 360° as 0° (the same point) instead of refusing it: Mangrove, in the
   * fink-science wheel, writes some sources at ra = 360.0 (astropy, which Fink matches with, wraps it).
   */
  wrapRa360?: boolean | undefined;
}

export interface CatalogFile {
  file: string;
  format: CatalogFormat;
  /** The file's own columns, in file order. */
  columns: string[];
  /** Total data rows when the format records it (Parquet); null for CSV. */
  rowCount: number | null;
  /** The validated sources, in file order (iterate once). Throws CatalogReadError at the first bad row. */
  sources(): AsyncIterable<CatalogSource>;
}

export class CatalogReadError extends Error {
  override name = 'CatalogReadError';
}

/** A value that is not a coordinate; the reader adds the row and column. */
export class CoordinateError extends Error {
  override name = 'CoordinateError';
}

export function catalogFormat(file: string): CatalogFormat {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.parquet' || extension === '.pq') return 'parquet';
  if (extension === '.fits' || extension === '.fit' || extension === '.fts') return 'fits';
  throw new CatalogReadError(
    `${file}: unknown catalog format '${extension}' (expected .csv, .parquet or .fits)`,
  );
}

/**
 * Opens `file` and checks that every named column exists, before any row is read.
 * A missing column is an error naming it and listing the columns the file has.
 */
export async function openCatalog(file: string, columns: CatalogColumns): Promise<CatalogFile> {
  const format = catalogFormat(file);
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    throw new CatalogReadError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
  if (format === 'fits') return openFits(file, columns);
  return format === 'csv' ? openCsv(file, columns) : openParquet(file, columns);
}

/**
 * Several files of one catalog (4LAC ships its high- and low-latitude parts as two FITS tables): every file is
 * opened and checked first, then their sources follow each other. Without an id column, a source's id is
 * <file number>:<row number> so that rows of different files do not share one.
 */
export async function openCatalogFiles(
  files: readonly string[],
  columns: CatalogColumns,
): Promise<CatalogFile> {
  if (files.length === 0) throw new CatalogReadError('no catalog file given');
  const opened: CatalogFile[] = [];
  for (const file of files) opened.push(await openCatalog(file, columns));
  if (opened.length === 1) return opened[0]!;
  const counts = opened.map((f) => f.rowCount);
  const numbered = columns.id === null || columns.id === undefined;
  async function* sources(): AsyncGenerator<CatalogSource> {
    for (const [i, part] of opened.entries()) {
      for await (const source of part.sources()) {
        yield numbered ? { ...source, sourceId: `${i + 1}:${source.sourceId}` } : source;
      }
    }
  }
  return {
    file: files.join(','),
    format: opened[0]!.format,
    columns: opened[0]!.columns,
    rowCount: counts.every((c) => c !== null) ? counts.reduce<number>((a, b) => a + b, 0) : null,
    sources,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Coordinates

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_WITH_UNIT = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([hd°])$/;
// [sign] first (h|d|°|:|space) second [(m|'|′|:|space) third [s|"|″] | m|'|′]
const SEXAGESIMAL =
  /^([+-])?\s*(\d+)\s*(h|d|°|:|\s)\s*(\d+(?:\.\d*)?)\s*(?:(m|'|′|:|\s)\s*(\d+(?:\.\d*)?)\s*(s|"|″)?|(m|'|′))?$/;

interface Sexagesimal {
  negative: boolean;
  /** The unit named by the first separator: h for hours, d for degrees, undefined for ':' or a space. */
  unit: 'h' | 'd' | undefined;
  whole: number;
  minutes: number;
  seconds: number;
}

function parseSexagesimal(text: string): Sexagesimal | undefined {
  const match = SEXAGESIMAL.exec(text);
  if (match === null) return undefined;
  const [, sign, whole, separator, minutes, , seconds] = match;
  if (seconds !== undefined && minutes?.includes('.') === true) {
    throw new CoordinateError(`'${text}': minutes must be whole when seconds follow`);
  }
  const result: Sexagesimal = {
    negative: sign === '-',
    unit: separator === 'h' ? 'h' : separator === 'd' || separator === '°' ? 'd' : undefined,
    whole: Number(whole),
    minutes: Number(minutes),
    seconds: seconds === undefined ? 0 : Number(seconds),
  };
  if (!(result.minutes < 60)) throw new CoordinateError(`'${text}': minutes must be below 60`);
  if (!(result.seconds < 60)) throw new CoordinateError(`'${text}': seconds must be below 60`);
  return result;
}

function sexagesimalValue(parts: Sexagesimal): number {
  return parts.whole + parts.minutes / 60 + parts.seconds / 3600;
}

function coordinateText(value: unknown): string | number {
  if (value === null || value === undefined) throw new CoordinateError('empty value');
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'string') throw new CoordinateError(`not a coordinate: a ${typeof value}`);
  const text = value.trim();
  if (text === '') throw new CoordinateError('empty value');
  return text;
}

/**
 * Right ascension in degrees, in [0, 360). Numbers and decimal text are degrees ("12.5h" is hours);
 * sexagesimal text is hours ("12 34 56.7", "12:34:56.7", "12h34m56.7s") unless written with d or °.
 */
export function parseRa(value: unknown, options: { wrap360?: boolean } = {}): number {
  const text = coordinateText(value);
  let degrees: number;
  if (typeof text === 'number') {
    degrees = text;
  } else if (DECIMAL.test(text)) {
    degrees = Number(text);
  } else {
    const withUnit = DECIMAL_WITH_UNIT.exec(text);
    if (withUnit !== null) {
      degrees = Number(withUnit[1]) * (withUnit[2] === 'h' ? 15 : 1);
    } else {
      const parts = parseSexagesimal(text);
      if (parts === undefined) throw new CoordinateError(`'${text}' is neither degrees nor sexagesimal`);
      if (parts.negative) throw new CoordinateError(`'${text}': a right ascension cannot be negative`);
      if (parts.unit === 'd') {
        degrees = sexagesimalValue(parts);
      } else {
        if (parts.whole >= 24) throw new CoordinateError(`'${text}': hours must be below 24`);
        degrees = sexagesimalValue(parts) * 15;
      }
    }
  }
  if (!Number.isFinite(degrees)) throw new CoordinateError(`${String(value)} is not a finite number`);
  if (degrees === 360 && options.wrap360 === true) return 0;
  if (degrees < 0 || degrees >= 360) {
    throw new CoordinateError(`right ascension ${degrees}° is outside [0, 360)`);
  }
  return degrees;
}

/**
 * Declination in degrees, in [-90, 90]. Numbers and decimal text are degrees; sexagesimal text is degrees,
 * minutes, seconds with the sign applying to the whole value ("-00 30 00" is -0.5).
 */
export function parseDec(value: unknown): number {
  const text = coordinateText(value);
  let degrees: number;
  if (typeof text === 'number') {
    degrees = text;
  } else if (DECIMAL.test(text)) {
    degrees = Number(text);
  } else {
    const withUnit = DECIMAL_WITH_UNIT.exec(text);
    if (withUnit !== null) {
      if (withUnit[2] === 'h') throw new CoordinateError(`'${text}': a declination is not in hours`);
      degrees = Number(withUnit[1]);
    } else {
      const parts = parseSexagesimal(text);
      if (parts === undefined) throw new CoordinateError(`'${text}' is neither degrees nor sexagesimal`);
      if (parts.unit === 'h') throw new CoordinateError(`'${text}': a declination is not in hours`);
      degrees = (parts.negative ? -1 : 1) * sexagesimalValue(parts);
    }
  }
  if (!Number.isFinite(degrees)) throw new CoordinateError(`${String(value)} is not a finite number`);
  if (degrees < -90 || degrees > 90) {
    throw new CoordinateError(`declination ${degrees}° is outside [-90, 90]`);
  }
  // -0 and 0 are the same position; keep stored values free of -0.
  return degrees === 0 ? 0 : degrees;
}

// ---------------------------------------------------------------------------------------------------------
// Rows -> sources

interface RowPlace {
  /** 1-based data row number (header excluded). */
  row: number;
  /** 1-based line of the file, for CSV. */
  line?: number | undefined;
}

function where(file: string, place: RowPlace, column?: string): string {
  const line = place.line === undefined ? '' : ` (line ${place.line})`;
  const col = column === undefined ? '' : `, column '${column}'`;
  return `${path.basename(file)}: row ${place.row}${line}${col}`;
}

type CellReader = (name: string) => unknown;

function checkColumns(file: string, available: readonly string[], wanted: CatalogColumns): void {
  const requested = [
    ['--ra', wanted.ra],
    ['--dec', wanted.dec],
    ['--id-column', wanted.id],
    ['--type-column', wanted.type],
    ...(wanted.extra ?? []).map((name) => ['--columns', name] as const),
  ] as const;
  for (const [option, name] of requested) {
    if (name === null || name === undefined) continue;
    const count = available.filter((column) => column === name).length;
    if (count === 0) {
      throw new CatalogReadError(
        `${path.basename(file)}: no column '${name}' (${option}); the file's columns are: ` +
          available.map((column) => `'${column}'`).join(', '),
      );
    }
    if (count > 1) {
      throw new CatalogReadError(
        `${path.basename(file)}: column '${name}' (${option}) appears ${count} times`,
      );
    }
  }
}

function toSource(file: string, place: RowPlace, cell: CellReader, wanted: CatalogColumns): CatalogSource {
  const coordinate = (column: string, parse: (value: unknown) => number): number => {
    try {
      return parse(cell(column));
    } catch (err) {
      if (err instanceof CoordinateError) {
        throw new CatalogReadError(`${where(file, place, column)}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  };
  const ra = coordinate(wanted.ra, (value) => parseRa(value, { wrap360: wanted.wrapRa360 === true }));
  const dec = coordinate(wanted.dec, parseDec);

  let sourceId = String(place.row);
  if (wanted.id !== null && wanted.id !== undefined) {
    const id = textOf(cell(wanted.id));
    if (id === null) throw new CatalogReadError(`${where(file, place, wanted.id)}: empty source id`);
    sourceId = id;
  }
  const type = wanted.type === null || wanted.type === undefined ? null : textOf(cell(wanted.type));

  let extra: Record<string, unknown> | null = null;
  if (wanted.extra !== undefined && wanted.extra.length > 0) {
    extra = {};
    for (const name of wanted.extra) extra[name] = jsonValue(cell(name));
  }
  return { sourceId, ra, dec, type, extra };
}

/** Trimmed text (fixed-width catalogs pad with spaces: GCVS 'M         '), or null when empty. */
function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean'
        ? String(value)
        : (JSON.stringify(jsonValue(value)) ?? '');
  return text.trim() === '' ? null : text.trim();
}

/** Values JSON can hold exactly: 64-bit integers as decimal text, dates as ISO text, bytes as base64. */
function jsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, jsonValue(inner)]));
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// CSV: comma-separated, a header line, fields optionally quoted, spaces around fields ignored (3HSP writes
// `1 , "3HSPJ000116.4+293534" , ...`).

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

async function openCsv(file: string, wanted: CatalogColumns): Promise<CatalogFile> {
  const input = createReadStream(file);
  const parser = parseCsv({ trim: true, bom: true, info: true, skip_empty_lines: true });
  // pipe() does not forward a read error; without this it would be an uncaught exception.
  input.once('error', (err) => parser.destroy(err));
  input.pipe(parser);
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<CsvRecord>;
  const next = async (): Promise<IteratorResult<CsvRecord>> => {
    try {
      return await records.next();
    } catch (err) {
      throw new CatalogReadError(`${path.basename(file)}: ${csvMessage(err)}`, { cause: err });
    }
  };

  const first = await next();
  if (first.done === true) throw new CatalogReadError(`${path.basename(file)}: empty file, no header line`);
  const header = first.value.record;
  try {
    checkColumns(file, header, wanted);
  } catch (err) {
    parser.destroy();
    throw err;
  }
  const index = new Map(header.map((name, i) => [name, i]));

  async function* sources(): AsyncGenerator<CatalogSource> {
    let row = 0;
    try {
      for (let item = await next(); item.done !== true; item = await next()) {
        row++;
        const { record, info } = item.value;
        const cell: CellReader = (name) => record[index.get(name) ?? -1];
        yield toSource(file, { row, line: info.lines }, cell, wanted);
      }
    } finally {
      parser.destroy();
    }
  }
  return { file, format: 'csv', columns: header, rowCount: null, sources };
}

function csvMessage(err: unknown): string {
  if (err instanceof CsvError) return `not valid CSV: ${err.message}`;
  return (err as Error).message;
}

// ---------------------------------------------------------------------------------------------------------
// Parquet: read one row group at a time (row groups are what writers size to fit in memory), only the
// columns asked for. Snappy is built into hyparquet; gzip, zstd (polars' default), brotli and lz4 come from
// hyparquet-compressors.

async function openParquet(file: string, wanted: CatalogColumns): Promise<CatalogFile> {
  const { buffer, metadata } = await readParquetMetadata(file);
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  checkColumns(file, columns, wanted);
  const needed = [wanted.ra, wanted.dec, wanted.id, wanted.type, ...(wanted.extra ?? [])].filter(
    (name, i, all): name is string => typeof name === 'string' && all.indexOf(name) === i,
  );

  async function* sources(): AsyncGenerator<CatalogSource> {
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({
          file: buffer,
          metadata,
          columns: needed,
          rowStart,
          rowEnd,
          compressors,
        });
      } catch (err) {
        throw new CatalogReadError(
          `${path.basename(file)}: cannot read rows ${rowStart + 1}-${rowEnd}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      for (let i = 0; i < rows.length; i++) {
        const values = rows[i]!;
        yield toSource(file, { row: rowStart + i + 1 }, (name) => values[name], wanted);
      }
      rowStart = rowEnd;
    }
  }
  return { file, format: 'parquet', columns, rowCount: Number(metadata.num_rows), sources };
}

// ---------------------------------------------------------------------------------------------------------
// FITS: the first binary table of the file, read whole (catalogs shipped as FITS are small).

async function openFits(file: string, wanted: CatalogColumns): Promise<CatalogFile> {
  let table: FitsTable;
  try {
    table = readFitsTable(await readFile(file), path.basename(file));
  } catch (err) {
    if (err instanceof FitsTableError) throw new CatalogReadError(err.message, { cause: err });
    throw err;
  }
  const columns = table.columns.map((c) => c.name);
  checkColumns(file, columns, wanted);
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  async function* sources(): AsyncGenerator<CatalogSource> {
    for (let row = 0; row < table.rowCount; row++) {
      const cell: CellReader = (name) => {
        const column = byName.get(name);
        return column === undefined ? undefined : table.value(row, column);
      };
      // The table is in memory: nothing to wait for, but the catalog interface is asynchronous.
      yield await Promise.resolve(toSource(file, { row: row + 1 }, cell, wanted));
    }
  }
  return { file, format: 'fits', columns, rowCount: table.rowCount, sources };
}

async function readParquetMetadata(file: string): Promise<{ buffer: AsyncBuffer; metadata: FileMetaData }> {
  try {
    const buffer = await asyncBufferFromFile(file);
    return { buffer, metadata: await parquetMetadataAsync(buffer) };
  } catch (err) {
    throw new CatalogReadError(
      `${path.basename(file)}: not a readable Parquet file: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
