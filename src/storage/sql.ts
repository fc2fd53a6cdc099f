// The one place SQL text is built. ClickHouse 18.16 has no server-side query parameters, so every value is
// bound here, client side, into a literal that the server parses back to exactly the same value.
//
//   sql`SELECT * FROM alerts WHERE candid IN ${candids} AND ra > ${minRa}`
//
// Values become literals; nested `Sql` fragments are inlined; identifiers come only from `identifier()`,
// which accepts names from a whitelist. Nothing else may concatenate SQL.

export class Sql {
  /** Built only by the `sql` tag, `identifier` and `join`, so its text is always safe. */
  private constructor(readonly text: string) {}

  /** @internal */
  static trusted(text: string): Sql {
    return new Sql(text);
  }

  toString(): string {
    return this.text;
  }
}

export type SqlValue =
  string | number | bigint | boolean | null | Date | Uint8Array | Sql | readonly SqlValue[];

export class SqlBindError extends Error {
  override name = 'SqlBindError';
}

export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): Sql {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += literal(value) + (strings[i + 1] ?? '');
  });
  return Sql.trusted(text);
}

/** A table or column name, accepted only when it is one of `allowed` (the caller's whitelist). */
export function identifier(name: string, allowed: readonly string[]): Sql {
  if (!allowed.includes(name)) {
    throw new SqlBindError(`identifier ${JSON.stringify(name)} is not one of: ${allowed.join(', ')}`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(name)) {
    throw new SqlBindError(`identifier ${JSON.stringify(name)} is not a plain name`);
  }
  return Sql.trusted(
    name
      .split('.')
      .map((part) => `\`${part}\``)
      .join('.'),
  );
}

/** Joins fragments, e.g. conditions with ' AND '. The separator is code, not data. */
export function join(fragments: readonly Sql[], separator: ', ' | ' AND ' | ' OR ' | '\n'): Sql {
  return Sql.trusted(fragments.map((f) => f.text).join(separator));
}

/**
 * Values as a comma-separated list of literals, for `x IN (${list(ids)})` (ClickHouse 18.16 refuses
 * `IN [array]`). An empty list has no SQL form: callers return early instead.
 */
export function list(values: readonly SqlValue[]): Sql {
  if (values.length === 0) throw new SqlBindError('cannot bind an empty list');
  return Sql.trusted(values.map(literal).join(', '));
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

function literal(value: SqlValue): string {
  if (value instanceof Sql) return value.text;
  if (value === null) return 'NULL';
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return numberLiteral(value);
  if (typeof value === 'bigint') return bigintLiteral(value);
  if (value instanceof Date) return dateLiteral(value);
  if (value instanceof Uint8Array) return bytesLiteral(value);
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  throw new SqlBindError(`cannot bind a value of type ${typeof value}`);
}

/** Smallest normal Float64; below it ClickHouse 18.16's parser rejects the literal. */
const MIN_NORMAL = 2.2250738585072014e-308;

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new SqlBindError(`cannot bind non-finite number ${value}`);
  if (value !== 0 && Math.abs(value) < MIN_NORMAL) {
    // A subnormal goes in as its IEEE-754 bytes, the one form every server version reads back exactly.
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    return `reinterpretAsFloat64(unhex('${bytes.toString('hex')}'))`;
  }
  // A JS number beyond 2^53 is a float whatever it looks like; written as an integer, the server would type it
  // UInt64 (or reject it past 2^64), so it is written in exponent form, which it reads as Float64.
  const text = Object.is(value, -0)
    ? '0'
    : Number.isInteger(value) && !Number.isSafeInteger(value)
      ? value.toExponential()
      : String(value);
  // Parenthesised so that `x - ${-1}` can never become the comment `--`.
  return value < 0 ? `(${text})` : text;
}

function bigintLiteral(value: bigint): string {
  if (value < INT64_MIN || value > UINT64_MAX) {
    throw new SqlBindError(`bigint ${value} is outside the Int64/UInt64 range`);
  }
  return value < 0n ? `(${value})` : String(value);
}

function dateLiteral(value: Date): string {
  const ms = value.getTime();
  if (!Number.isFinite(ms)) throw new SqlBindError('cannot bind an invalid Date');
  // DateTime has second resolution; the epoch form avoids any time-zone parsing on the server.
  return `toDateTime(${Math.floor(ms / 1000)})`;
}

/** Binary data as an escaped String literal: every byte as \xHH, which both old and new servers read back. */
function bytesLiteral(value: Uint8Array): string {
  let out = "'";
  for (const byte of value) out += `\\x${byte.toString(16).padStart(2, '0')}`;
  return `${out}'`;
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function stringLiteral(value: string): string {
  if (!value.isWellFormed()) {
    throw new SqlBindError('cannot bind a string with a lone UTF-16 surrogate (it has no UTF-8 form)');
  }
  // Other control characters pass as they are: inside quotes the server reads them as plain bytes.
  return `'${value.replace(/[\\'\0\b\f\n\r\t]/g, (ch) => ESCAPES[ch] ?? ch)}'`;
}

/**
 * Reads by a list of string ids in statements of at most `perQuery` ids each, the ids bound as `IN (a, b, ...)`
 * (ClickHouse 18.16 refuses `IN [array]`); duplicates are read once.
 */
export async function readInChunks<T>(
  ids: readonly string[],
  perQuery: number,
  read: (list: Sql) => Promise<T[]>,
): Promise<T[]> {
  const unique = [...new Set(ids)];
  const out: T[] = [];
  for (let start = 0; start < unique.length; start += perQuery) {
    const chunk = unique.slice(start, start + perQuery);
    out.push(
      ...(await read(
        join(
          chunk.map((id) => sql`${id}`),
          ', ',
        ),
      )),
    );
  }
  return out;
}
