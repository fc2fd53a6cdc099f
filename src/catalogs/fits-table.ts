// A FITS binary table (the first BINTABLE extension of a file), read into rows of named values: enough for
// catalogs shipped as FITS (Fermi-LAT's 4LAC, table-4LAC-DR3-h.fits / -l.fits in the fink-science wheel).
//
// FITS: 2880-byte blocks; headers are 80-character cards ending with END; binary data are big-endian. Column
// types read: A (text, trailing spaces and NULs trimmed), L, B, I, J, K, E, D, each with a repeat count
// (a count other than 1 gives an array, text excepted). TSCALn/TZEROn are applied to integer columns, TNULLn
// values read as null. Variable-length arrays (P, Q) are not supported: a column of that type is an error when
// it is asked for.

const BLOCK = 2880;
const CARD = 80;

export class FitsTableError extends Error {
  override name = 'FitsTableError';
}

interface Header {
  cards: Map<string, string>;
  /** Bytes of header, a multiple of 2880. */
  size: number;
}

function readHeader(bytes: Buffer, offset: number, file: string): Header {
  const cards = new Map<string, string>();
  for (let at = offset; at + CARD <= bytes.length; at += CARD) {
    const card = bytes.toString('latin1', at, at + CARD);
    const key = card.slice(0, 8).trim();
    if (key === 'END') {
      const end = at + CARD - offset;
      return { cards, size: Math.ceil(end / BLOCK) * BLOCK };
    }
    if (card[8] === '=' && card[9] === ' ') cards.set(key, parseValue(card.slice(10)));
  }
  throw new FitsTableError(`${file}: a FITS header without END`);
}

/** The value of a card: quoted text (with '' as a quote), or the token before a comment. */
function parseValue(text: string): string {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("'")) {
    let out = '';
    for (let i = 1; i < trimmed.length; i++) {
      if (trimmed[i] === "'") {
        if (trimmed[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        break;
      }
      out += trimmed[i];
    }
    return out.trimEnd();
  }
  return trimmed.split('/')[0]!.trim();
}

function intCard(header: Header, key: string, file: string): number {
  const value = Number(header.cards.get(key));
  if (!Number.isInteger(value))
    throw new FitsTableError(`${file}: header card ${key} is missing or not an integer`);
  return value;
}

export interface FitsColumn {
  name: string;
  /** TFORM letter. */
  type: string;
  repeat: number;
  offset: number;
  scale: number;
  zero: number;
  nullValue: number | undefined;
}

export interface FitsTable {
  columns: FitsColumn[];
  rowCount: number;
  /** The value of `column` in row `row` (0-based). */
  value(row: number, column: FitsColumn): unknown;
}

const WIDTH: Record<string, number> = { L: 1, B: 1, A: 1, I: 2, J: 4, K: 8, E: 4, D: 8, X: 1, C: 8, M: 16 };

export function readFitsTable(bytes: Buffer, file: string): FitsTable {
  if (bytes.toString('latin1', 0, 6) !== 'SIMPLE') throw new FitsTableError(`${file}: not a FITS file`);
  let offset = 0;
  for (;;) {
    if (offset >= bytes.length) throw new FitsTableError(`${file}: no BINTABLE extension`);
    const header = readHeader(bytes, offset, file);
    const naxis = Number(header.cards.get('NAXIS') ?? 0);
    let dataBytes = naxis === 0 ? 0 : Math.abs(Number(header.cards.get('BITPIX') ?? 8)) / 8;
    for (let i = 1; i <= naxis; i++) dataBytes *= intCard(header, `NAXIS${i}`, file);
    dataBytes += Number(header.cards.get('PCOUNT') ?? 0);
    const dataStart = offset + header.size;
    if (header.cards.get('XTENSION') === 'BINTABLE') return binTable(bytes, header, dataStart, file);
    offset = dataStart + Math.ceil(dataBytes / BLOCK) * BLOCK;
  }
}

function binTable(bytes: Buffer, header: Header, start: number, file: string): FitsTable {
  const rowBytes = intCard(header, 'NAXIS1', file);
  const rowCount = intCard(header, 'NAXIS2', file);
  const fields = intCard(header, 'TFIELDS', file);
  if (start + rowBytes * rowCount > bytes.length) throw new FitsTableError(`${file}: the table is truncated`);
  const columns: FitsColumn[] = [];
  let offset = 0;
  for (let i = 1; i <= fields; i++) {
    const form = header.cards.get(`TFORM${i}`) ?? '';
    const match = /^(\d*)([A-Z])/.exec(form.trim());
    if (match === null) throw new FitsTableError(`${file}: column ${i} has an unreadable TFORM '${form}'`);
    const repeat = match[1] === '' ? 1 : Number(match[1]);
    const type = match[2]!;
    const width = type === 'P' ? 8 : type === 'Q' ? 16 : WIDTH[type];
    if (width === undefined) throw new FitsTableError(`${file}: column ${i} has an unknown type '${type}'`);
    const nullText = header.cards.get(`TNULL${i}`);
    columns.push({
      name: header.cards.get(`TTYPE${i}`)?.trim() ?? `col${i}`,
      type,
      repeat,
      offset,
      scale: Number(header.cards.get(`TSCAL${i}`) ?? 1),
      zero: Number(header.cards.get(`TZERO${i}`) ?? 0),
      nullValue: nullText === undefined ? undefined : Number(nullText),
    });
    offset += type === 'X' ? Math.ceil(repeat / 8) : repeat * width;
  }
  if (offset !== rowBytes)
    throw new FitsTableError(`${file}: columns take ${offset} bytes, rows ${rowBytes}`);

  const scalar = (at: number, column: FitsColumn): unknown => {
    let raw: number | bigint;
    switch (column.type) {
      case 'L': {
        const c = String.fromCharCode(bytes[at]!);
        return c === 'T' ? true : c === 'F' ? false : null;
      }
      case 'B':
        raw = bytes.readUInt8(at);
        break;
      case 'I':
        raw = bytes.readInt16BE(at);
        break;
      case 'J':
        raw = bytes.readInt32BE(at);
        break;
      case 'K':
        raw = bytes.readBigInt64BE(at);
        break;
      case 'E':
        return bytes.readFloatBE(at);
      case 'D':
        return bytes.readDoubleBE(at);
      default:
        throw new FitsTableError(`${file}: column '${column.name}' of type ${column.type} cannot be read`);
    }
    if (column.nullValue !== undefined && Number(raw) === column.nullValue) return null;
    if (typeof raw === 'bigint' && column.scale === 1 && column.zero === 0) return raw;
    return Number(raw) * column.scale + column.zero;
  };

  return {
    columns,
    rowCount,
    value(row, column) {
      const at = start + row * rowBytes + column.offset;
      if (column.type === 'A') {
        return bytes
          .toString('latin1', at, at + column.repeat)
          .replace(/\0.*$/s, '')
          .trimEnd();
      }
      const width = WIDTH[column.type]!;
      if (column.repeat === 1) return scalar(at, column);
      return Array.from({ length: column.repeat }, (_, k) => scalar(at + k * width, column));
    },
  };
}
