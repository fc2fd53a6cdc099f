// A typed table for downloads (the REST API's json, csv, parquet and votable outputs): each column declares its
// type once, with its unit, UCD and description where they exist, and every encoder reads the same model. 64-bit
// integers (`long`: ZTF candids, Rubin ids) travel as bigint from the store to the bytes, never through a double.

/** `json`: a string holding JSON text (a cutout's 2D array), written as JSON in json, as text elsewhere. */
export type ColumnType = 'long' | 'int' | 'double' | 'float' | 'string' | 'boolean' | 'json';

export interface ExportColumn {
  name: string;
  type: ColumnType;
  /** VOUnit string (deg, mag, d, arcsec, ...). */
  unit?: string;
  /** IVOA UCD1+ (pos.eq.ra;meta.main, phot.mag, time.epoch, meta.id, ...). */
  ucd?: string;
  description?: string;
}

/** long: bigint; int, double, float: number; string: string; boolean: boolean; null: missing. */
export type Cell = bigint | number | string | boolean | null;
export type ExportRow = Readonly<Record<string, Cell>>;

export interface ExportTable {
  columns: readonly ExportColumn[];
  rows: readonly ExportRow[];
}

export class ExportError extends Error {
  override name = 'ExportError';
}

/** The table restricted to `names`, in that order; unknown names throw with the first of them. */
export function selectColumns(table: ExportTable, names: readonly string[]): ExportTable {
  const byName = new Map(table.columns.map((column) => [column.name, column]));
  const columns = names.map((name) => {
    const column = byName.get(name);
    if (column === undefined) throw new ExportError(`unknown column ${name}`);
    return column;
  });
  return { columns, rows: table.rows };
}

/** A cell as its column's type holds it: null for a value of the wrong type (checked, not trusted). */
export function cellOf(column: ExportColumn, value: Cell | undefined): Cell {
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case 'long':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt(value);
      return null;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    case 'double':
    case 'float':
      if (typeof value === 'number') return Number.isNaN(value) ? null : value;
      if (typeof value === 'bigint') return Number(value);
      return null;
    case 'string':
    case 'json':
      return typeof value === 'string' ? value : String(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
  }
}
