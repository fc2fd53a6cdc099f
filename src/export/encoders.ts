// The four download formats of an ExportTable:
//
//   json     records, `[{"col": value, ...}]`, as pandas' to_json(orient='records') writes them (Fink's output);
//            64-bit ids written as JSON integers from their bigint digits, so Python's json, pd.DataFrame(r.json())
//            and pd.read_json read them exactly (a JavaScript number would round them above 2^53); NaN -> null.
//   csv      RFC 4180 (CRLF, quotes doubled), a header row of the names; ids as plain integers; booleans True/False
//            (what pandas writes and reads back as bool); missing values empty.
//   parquet  one row group per 100,000 rows, long -> INT64, int -> INT32, double -> DOUBLE, float -> FLOAT,
//            string and json -> UTF8 BYTE_ARRAY, boolean -> BOOLEAN, all optional (pandas and pyarrow read int64 exactly).
//   votable  VOTable 1.4 TABLEDATA: FIELD datatype long/int/double/float/boolean/char (arraysize="*"), with unit,
//            ucd and DESCRIPTION where the column has them; missing values are empty cells (null in 1.3+).
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { BasicType } from 'hyparquet-writer';
import { cellOf, type Cell, type ExportColumn, type ExportTable } from './table.ts';

export const EXPORT_FORMATS = ['json', 'csv', 'parquet', 'votable'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  votable: 'application/x-votable+xml',
};

export function encodeTable(table: ExportTable, format: ExportFormat): Buffer {
  switch (format) {
    case 'json':
      return Buffer.from(toJson(table), 'utf8');
    case 'csv':
      return Buffer.from(toCsv(table), 'utf8');
    case 'parquet':
      return toParquet(table);
    case 'votable':
      return Buffer.from(toVotable(table), 'utf8');
  }
}

function jsonValue(column: ExportColumn, value: Cell): string {
  const cell = cellOf(column, value);
  if (cell === null) return 'null';
  if (typeof cell === 'bigint') return cell.toString();
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : 'null';
  if (column.type === 'json' && typeof cell === 'string') return cell;
  return JSON.stringify(cell);
}

export function toJson(table: ExportTable): string {
  const keys = table.columns.map((column) => JSON.stringify(column.name));
  const rows = table.rows.map(
    (row) =>
      `{${table.columns.map((column, i) => `${keys[i]!}:${jsonValue(column, row[column.name] ?? null)}`).join(',')}}`,
  );
  return `[${rows.join(',')}]`;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvValue(column: ExportColumn, value: Cell): string {
  const cell = cellOf(column, value);
  if (cell === null) return '';
  if (typeof cell === 'boolean') return cell ? 'True' : 'False';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  return csvField(String(cell));
}

export function toCsv(table: ExportTable): string {
  const lines = [table.columns.map((column) => csvField(column.name)).join(',')];
  for (const row of table.rows) {
    lines.push(table.columns.map((column) => csvValue(column, row[column.name] ?? null)).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

const PARQUET_TYPES: Record<ExportColumn['type'], BasicType> = {
  long: 'INT64',
  int: 'INT32',
  double: 'DOUBLE',
  float: 'FLOAT',
  string: 'STRING',
  boolean: 'BOOLEAN',
  json: 'STRING',
};

export function toParquet(table: ExportTable): Buffer {
  const buffer = parquetWriteBuffer({
    columnData: table.columns.map((column) => ({
      name: column.name,
      type: PARQUET_TYPES[column.type],
      nullable: true,
      data: table.rows.map((row) => cellOf(column, row[column.name] ?? null)),
    })),
    rowGroupSize: 100_000,
    createdBy: 'fink (hyparquet-writer)',
  });
  return Buffer.from(buffer);
}

const VOTABLE_TYPES: Record<ExportColumn['type'], string> = {
  long: 'long',
  int: 'int',
  double: 'double',
  float: 'float',
  string: 'char',
  boolean: 'boolean',
  json: 'char',
};

function xml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // Characters XML 1.0 cannot carry at all.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
  );
}

function votableValue(column: ExportColumn, value: Cell): string {
  const cell = cellOf(column, value);
  if (cell === null) return '';
  if (typeof cell === 'boolean') return cell ? 'T' : 'F';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : 'NaN';
  return xml(String(cell));
}

/**
 * An XML ID per field (VOTable ids are xs:ID: no ':'), made from the name as astropy makes one (`i:jd` -> `i_jd`),
 * unique; readers that key columns by ID (astropy's Table by default) see these, `use_names_over_ids` the names.
 */
function fieldIds(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let base = name.replace(/[^A-Za-z0-9_.-]/g, '_');
    if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    return id;
  });
}

export interface VotableOptions {
  /** The TABLE's name. */
  name?: string;
  description?: string;
}

export function toVotable(table: ExportTable, options: VotableOptions = {}): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"' +
      ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' +
      ' xsi:schemaLocation="http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/v1.3">',
    '<RESOURCE type="results">',
    `<TABLE name="${xml(options.name ?? 'results')}" nrows="${table.rows.length}">`,
  ];
  if (options.description !== undefined) out.push(`<DESCRIPTION>${xml(options.description)}</DESCRIPTION>`);
  const ids = fieldIds(table.columns.map((column) => column.name));
  for (const [i, column] of table.columns.entries()) {
    const attributes = [
      `ID="${ids[i]!}"`,
      `name="${xml(column.name)}"`,
      `datatype="${VOTABLE_TYPES[column.type]}"`,
      column.type === 'string' || column.type === 'json' ? 'arraysize="*"' : '',
      column.unit === undefined ? '' : `unit="${xml(column.unit)}"`,
      column.ucd === undefined ? '' : `ucd="${xml(column.ucd)}"`,
    ].filter((attribute) => attribute !== '');
    out.push(
      column.description === undefined
        ? `<FIELD ${attributes.join(' ')}/>`
        : `<FIELD ${attributes.join(' ')}><DESCRIPTION>${xml(column.description)}</DESCRIPTION></FIELD>`,
    );
  }
  out.push('<DATA>', '<TABLEDATA>');
  for (const row of table.rows) {
    out.push(
      `<TR>${table.columns.map((column) => `<TD>${votableValue(column, row[column.name] ?? null)}</TD>`).join('')}</TR>`,
    );
  }
  out.push('</TABLEDATA>', '</DATA>', '</TABLE>', '</RESOURCE>', '</VOTABLE>', '');
  return out.join('\n');
}
