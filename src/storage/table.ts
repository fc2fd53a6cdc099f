// One table spec per table: its name and its columns, each a record field with its ClickHouse column and type,
// written once. The row type, the INSERT column list and encoding (row-binary.ts), the SELECT list and the
// reading of a selected row all derive from it, so a column cannot be added in one place and missed in another.
//
// Each ClickHouse type has one TypeScript representation, the same for writing and reading:
//   String -> string · Bytes (a String column holding binary) -> Buffer · UInt64 -> bigint (exact beyond 2^53) ·
//   Bool (UInt8 0/1) -> boolean · Date -> 'YYYY-MM-DD' (UTC) · DateTime -> Date (whole seconds) · others -> number
// and Nullable(T) -> T | null (a NaN written to a Nullable float column is stored as NULL).
import { identifier, join, Sql, sql } from './sql.ts';

export type ScalarKind =
  | 'String'
  | 'Bytes'
  | 'UInt8'
  | 'UInt16'
  | 'UInt32'
  | 'UInt64'
  | 'Float32'
  | 'Float64'
  | 'Bool'
  | 'Date'
  | 'DateTime';
export type ColumnKind = ScalarKind | `Nullable(${ScalarKind})`;

type ScalarValue<K extends ScalarKind> = K extends 'String' | 'Date'
  ? string
  : K extends 'Bytes'
    ? Buffer
    : K extends 'UInt64'
      ? bigint
      : K extends 'Bool'
        ? boolean
        : K extends 'DateTime'
          ? Date
          : number;

export type ValueOf<K extends ColumnKind> = K extends `Nullable(${infer S extends ScalarKind})`
  ? ScalarValue<S> | null
  : K extends ScalarKind
    ? ScalarValue<K>
    : never;

/** A column: its kind (the column is named as the field), or its name in ClickHouse and its kind. */
export type ColumnDef = ColumnKind | readonly [column: string, kind: ColumnKind];

type KindOf<D extends ColumnDef> = D extends ColumnKind
  ? D
  : D extends readonly [string, infer K extends ColumnKind]
    ? K
    : never;

export type RowOf<C extends Record<string, ColumnDef>> = { -readonly [F in keyof C]: ValueOf<KindOf<C[F]>> };

/** The row type of a table. */
export type RowOfTable<T> = T extends Table<infer Row> ? Row : never;

export interface ColumnSpec {
  field: string;
  column: string;
  kind: ColumnKind;
  nullable: boolean;
  scalar: ScalarKind;
}

export interface Table<Row> {
  name: string;
  /** Every column, in declaration order (the INSERT order). */
  columns: readonly ColumnSpec[];
  /** The column of a field (for conditions and orderings built in storage). */
  column(field: keyof Row & string): Sql;
  /** The SELECT list of these fields (all by default), each readable back by readRow. */
  select(fields?: readonly (keyof Row & string)[]): Sql;
  /** A row of a `select(fields)` query (JSONEachRow) as the record. */
  readRow(json: Record<string, unknown>): Row;
}

export function defineTable<const C extends Record<string, ColumnDef>>(
  name: string,
  definition: C,
): Table<RowOf<C>> {
  type Row = RowOf<C>;
  const columns: ColumnSpec[] = Object.entries(definition).map(([field, def]) => {
    const [column, kind] = typeof def === 'string' ? [field, def] : def;
    const nullable = kind.startsWith('Nullable(');
    return { field, column, kind, nullable, scalar: (nullable ? kind.slice(9, -1) : kind) as ScalarKind };
  });
  const byField = new Map(columns.map((c) => [c.field, c]));
  const names = columns.map((c) => c.column);
  const spec = (field: string): ColumnSpec => {
    const found = byField.get(field);
    if (found === undefined) throw new RangeError(`table ${name} has no field ${field}`);
    return found;
  };
  return {
    name,
    columns,
    column: (field) => identifier(spec(field).column, names),
    select(fields) {
      const chosen = fields === undefined ? columns : fields.map(spec);
      return join(
        chosen.map((c) => selected(c, names)),
        ', ',
      );
    },
    readRow(json) {
      const row: Record<string, unknown> = {};
      for (const c of columns) {
        const alias = aliasOf(c);
        if (alias in json) row[c.field] = readValue(c, json[alias]);
      }
      return row as Row;
    },
  };
}

/** Converted columns get names of their own: on 18.16 an alias named like a column replaces it everywhere. */
function aliasOf(c: ColumnSpec): string {
  return c.scalar === 'Bytes' || c.scalar === 'DateTime' ? `${c.column}__v` : c.column;
}

function selected(c: ColumnSpec, names: readonly string[]): Sql {
  const column = identifier(c.column, names);
  const alias = Sql.trusted(`\`${aliasOf(c)}\``);
  // JSON carries no bytes (a byte >= 0x80 comes back as UTF-8 text): binary travels as hex. A DateTime as Unix
  // seconds, whatever the server's time zone. UInt64 comes back as a quoted decimal (JSON's default for 64-bit).
  if (c.scalar === 'Bytes') return sql`hex(${column}) AS ${alias}`;
  if (c.scalar === 'DateTime') return sql`toUnixTimestamp(${column}) AS ${alias}`;
  return column;
}

function readValue(c: ColumnSpec, value: unknown): unknown {
  if (value === null || value === undefined) return c.nullable ? null : value;
  switch (c.scalar) {
    case 'UInt64':
      return BigInt(value as string | number);
    case 'Bool':
      return Number(value) === 1;
    case 'Bytes':
      return Buffer.from(value as string, 'hex');
    case 'DateTime':
      return new Date(Number(value) * 1000);
    case 'String':
    case 'Date':
      return value;
    default:
      return Number(value);
  }
}
