// A minimal reader for the one thing the cutout endpoints need: the image in a FITS file's primary HDU, as
// physical values. Section numbers refer to the FITS Standard 4.0 (IAU FITS Working Group, 2016).
//
// No well-kept FITS reader is among the project's dependencies (the npm ones, fitsjs and fits-reader-js, are
// browser-era and unmaintained), and the alerts' cutouts use a small, regular subset of the standard: a 2-D
// primary image, BITPIX -32 for ZTF and Rubin. This covers every BITPIX of the standard, BSCALE/BZERO and BLANK,
// and refuses (FitsError) anything else rather than guessing.
import { gunzipSync, inflateRawSync, constants as zlibConstants } from 'node:zlib';

/** Header values as §4.2 types them: character string, logical, integer or real (complex values are kept as text). */
export type FitsValue = string | number | boolean;

export interface FitsImage {
  /** NAXIS1: pixels per row. */
  width: number;
  /** NAXIS2: rows. */
  height: number;
  /**
   * Physical values (BZERO + BSCALE * stored, §4.4.2.5), row-major in the file's order: the first row is FITS
   * row 1, which display tools draw at the bottom. Blank pixels (BLANK, or IEEE NaN) are NaN.
   */
  pixels: Float64Array;
  /** Keyword -> value of every valued keyword record of the primary header; the first occurrence wins. */
  header: ReadonlyMap<string, FitsValue>;
}

export class FitsError extends Error {
  override name = 'FitsError';
}

/** §3.1: headers and data come in logical records of 2880 bytes. */
const BLOCK_BYTES = 2880;
/** §4.1.1: a header is a sequence of 80-character keyword records. */
const CARD_BYTES = 80;
/**
 * Bounds what a stored cutout may expand to: ZTF cutouts are ~20 KB once gunzipped, Rubin's ~35 KB. A gzip bomb
 * or a corrupt size must fail, not exhaust the server's memory.
 */
const MAX_FITS_BYTES = 64 * 1024 * 1024;
const MAX_PIXELS = 4096 * 4096;

/** §4.4.2.4: commentary keywords, never valued. */
const COMMENTARY = new Set(['COMMENT', 'HISTORY', '']);

const GZIP_MAGIC = [0x1f, 0x8b] as const;

export function isGzipped(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** The FITS bytes of a stored cutout: gunzipped when stored gzipped (ZTF), as they are otherwise (Rubin). */
export function fitsBytes(stored: Uint8Array): Buffer {
  const buffer = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (!isGzipped(buffer)) return buffer;
  try {
    return gunzipSync(buffer, { maxOutputLength: MAX_FITS_BYTES });
  } catch (err) {
    throw new FitsError(`cannot gunzip the cutout: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses the primary HDU's 2-D image of a FITS file, gunzipping it first when it is gzipped. */
export function parseFitsImage(input: Uint8Array): FitsImage {
  const bytes = fitsBytes(input);
  const layout = readImageLayout(bytes);
  checkDataPresent(layout, bytes.length);
  const { header, width, height, sample, dataOffset, dataBytes, bscale, bzero, blank } = layout;

  // §5.2, §5.3: big-endian two's-complement integers (BITPIX 8 unsigned) and big-endian IEEE-754 floats.
  const count = width * height;
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, dataBytes);
  const pixels = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const stored = sample.read(view, i * sample.bytes);
    pixels[i] = blank !== null && stored === blank ? NaN : bzero + bscale * stored;
  }
  return { width, height, pixels, header };
}

/**
 * Throws the FitsError parseFitsImage would throw, without inflating a gzipped file whose structure is sound:
 * its gzip header, its FITS header (inflated from the start of the stream only), and the size the gzip trailer
 * records (ISIZE, RFC 1952 §2.3.1) equal to the size a standard file with that header has (the header's blocks and
 * the data's whole 2880-byte blocks, §3.1). Any other size (a stream cut short, extensions after the image, a file
 * not padded) is inflated and read whole. What this cannot see is a stream corrupt inside its compressed pixels
 * with its trailer intact (a changed byte, a bad code or CRC after the header), which parseFitsImage finds when
 * the cutout is served. Ingest checks every cutout this way: inflating whole stamps cost ~0.5 ms of CPU per ZTF
 * alert.
 */
export function checkFitsStructure(stored: Uint8Array): void {
  const buffer = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (!isGzipped(buffer)) {
    checkDataPresent(readImageLayout(buffer), buffer.length);
    return;
  }
  const deflated = buffer.subarray(gzipHeaderLength(buffer), buffer.length - GZIP_TRAILER_BYTES);
  // §4.4.1: the header is whole 2880-byte blocks of text, which deflate compresses ten times over; the first
  // few hundred bytes of the stream hold it, and a header not found in them is looked for in twice as many.
  let head: Buffer;
  let prefix = HEADER_PREFIX_BYTES;
  for (;;) {
    const whole = prefix >= deflated.length;
    try {
      head = inflateRawSync(deflated.subarray(0, prefix), {
        finishFlush: whole ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_FITS_BYTES,
      });
    } catch (err) {
      throw new FitsError(`cannot gunzip the cutout: ${(err as Error).message}`, { cause: err });
    }
    if (whole || findEnd(head) !== null) break;
    prefix *= 2;
  }
  const layout = readImageLayout(head);
  const standardSize = layout.dataOffset + Math.ceil(layout.dataBytes / BLOCK_BYTES) * BLOCK_BYTES;
  if (buffer.readUInt32LE(buffer.length - 4) !== standardSize) parseFitsImage(buffer);
}

const GZIP_TRAILER_BYTES = 8;
/** Compressed bytes inflated first to find the FITS header: ZTF's 2880-byte header deflates to ~250 bytes. */
const HEADER_PREFIX_BYTES = 512;
/** RFC 1952 §2.3.1 FLG bits. */
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

/** The length of a gzip member's header (RFC 1952 §2.3): where its deflate stream begins. */
function gzipHeaderLength(bytes: Buffer): number {
  const fail = (what: string): never => {
    throw new FitsError(`cannot gunzip the cutout: ${what}`);
  };
  if (bytes.length < 10 + GZIP_TRAILER_BYTES) fail('the gzip stream is cut short');
  if (bytes[2] !== 8) fail(`unknown compression method ${bytes[2]}`);
  const flags = bytes[3]!;
  if ((flags & FRESERVED) !== 0) fail('unknown header flags set');
  let offset = 10;
  if ((flags & FEXTRA) !== 0) offset += 2 + bytes.readUInt16LE(Math.min(offset, bytes.length - 2));
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue;
    const zero = bytes.indexOf(0, offset);
    if (zero === -1) fail('the gzip header is cut short');
    offset = zero + 1;
  }
  if ((flags & FHCRC) !== 0) offset += 2;
  if (offset > bytes.length - GZIP_TRAILER_BYTES) fail('the gzip header is cut short');
  return offset;
}

interface ImageLayout {
  header: ReadonlyMap<string, FitsValue>;
  width: number;
  height: number;
  sample: Sample;
  /** Where the pixels begin and how many bytes they take. */
  dataOffset: number;
  dataBytes: number;
  /** §4.4.2.5: physical_value = BZERO + BSCALE * array_value; defaults 0 and 1. */
  bscale: number;
  bzero: number;
  /** §4.4.2.5: the stored value of undefined pixels of an integer array; null for floating arrays (IEEE NaN, §5.3). */
  blank: number | null;
}

/** The primary header's image, checked as §4.4.1.1 and §4.4.2.5 require; the pixels themselves are not read. */
function readImageLayout(bytes: Buffer): ImageLayout {
  const { header, dataOffset } = readHeader(bytes);

  // §4.4.1.1: the mandatory keywords of a primary header, SIMPLE first.
  if (header.get('SIMPLE') !== true) throw new FitsError('not a FITS file: SIMPLE = T is missing');
  const bitpix = integerKeyword(header, 'BITPIX');
  const naxis = integerKeyword(header, 'NAXIS');
  if (naxis < 2) throw new FitsError(`the primary HDU holds no 2-D image (NAXIS = ${naxis})`);
  const width = integerKeyword(header, 'NAXIS1');
  const height = integerKeyword(header, 'NAXIS2');
  // A 3-D or 4-D array whose extra axes have length 1 is still one image (some writers add a degenerate axis).
  for (let axis = 3; axis <= naxis; axis++) {
    const length = integerKeyword(header, `NAXIS${axis}`);
    if (length !== 1) throw new FitsError(`NAXIS${axis} = ${length}: only a single 2-D image is supported`);
  }
  if (width <= 0 || height <= 0 || width * height > MAX_PIXELS) {
    throw new FitsError(`unsupported image size ${width} x ${height}`);
  }

  const sample = SAMPLES[bitpix];
  if (sample === undefined)
    throw new FitsError(`invalid BITPIX ${bitpix} (§4.4.1.1: 8, 16, 32, 64, -32, -64)`);
  return {
    header,
    width,
    height,
    sample,
    dataOffset,
    dataBytes: width * height * sample.bytes,
    bscale: realKeyword(header, 'BSCALE', 1),
    bzero: realKeyword(header, 'BZERO', 0),
    blank: bitpix > 0 && header.has('BLANK') ? integerKeyword(header, 'BLANK') : null,
  };
}

function checkDataPresent(
  { width, height, sample, dataOffset, dataBytes }: ImageLayout,
  length: number,
): void {
  if (dataOffset + dataBytes > length) {
    throw new FitsError(
      `truncated data: ${width} x ${height} pixels of BITPIX ${sample.bitpix} need ${dataBytes} bytes, ` +
        `${Math.max(0, length - dataOffset)} present`,
    );
  }
}

interface Sample {
  bitpix: number;
  bytes: number;
  read(view: DataView, offset: number): number;
}

const SAMPLES: Partial<Record<number, Sample>> = {
  8: { bitpix: 8, bytes: 1, read: (view, offset) => view.getUint8(offset) },
  16: { bitpix: 16, bytes: 2, read: (view, offset) => view.getInt16(offset) },
  32: { bitpix: 32, bytes: 4, read: (view, offset) => view.getInt32(offset) },
  // A 64-bit integer beyond 2^53 loses precision as a physical double, which is what the image is rendered from.
  64: { bitpix: 64, bytes: 8, read: (view, offset) => Number(view.getBigInt64(offset)) },
  [-32]: { bitpix: -32, bytes: 4, read: (view, offset) => view.getFloat32(offset) },
  [-64]: { bitpix: -64, bytes: 8, read: (view, offset) => view.getFloat64(offset) },
};

function readHeader(bytes: Buffer): { header: Map<string, FitsValue>; dataOffset: number } {
  const header = new Map<string, FitsValue>();
  for (let offset = 0; offset + CARD_BYTES <= bytes.length; offset += CARD_BYTES) {
    // §4.1.2: keyword records are restricted to printable ASCII, so latin1 maps bytes to characters 1:1.
    const card = bytes.toString('latin1', offset, offset + CARD_BYTES);
    const name = keywordName(card);
    if (name === 'END') {
      // §4.4.1: the data begin at the first 2880-byte boundary after the END record.
      const dataOffset = Math.ceil((offset + CARD_BYTES) / BLOCK_BYTES) * BLOCK_BYTES;
      return { header, dataOffset };
    }
    // §4.1.2.2: a value follows only when bytes 9-10 are "= "; COMMENT, HISTORY and blank keywords hold text
    // in bytes 9-80 whatever it looks like (§4.4.2.4).
    if (card.slice(8, 10) !== '= ' || COMMENTARY.has(name) || header.has(name)) continue;
    header.set(name, parseValue(card.slice(10)));
  }
  throw new FitsError('the header has no END record');
}

/** §4.1.2.1: the keyword name is bytes 1-8 of a record, left-justified and space-padded. */
function keywordName(card: string): string {
  return card.slice(0, 8).trimEnd();
}

/** The offset of the END record among the whole records of `bytes`, or null when there is none. */
function findEnd(bytes: Buffer): number | null {
  for (let offset = 0; offset + CARD_BYTES <= bytes.length; offset += CARD_BYTES) {
    if (keywordName(bytes.toString('latin1', offset, offset + 8)) === 'END') return offset;
  }
  return null;
}

/** §4.2: the value field, without its trailing "/ comment". */
function parseValue(field: string): FitsValue {
  const text = field.trimStart();
  if (text.startsWith("'")) {
    // §4.2.1.1: a string is quoted; a quote inside it is written twice; trailing spaces are not significant.
    let value = '';
    for (let i = 1; i < text.length; i++) {
      const ch = text[i]!;
      if (ch !== "'") {
        value += ch;
      } else if (text[i + 1] === "'") {
        value += "'";
        i++;
      } else {
        break;
      }
    }
    return value.trimEnd();
  }
  const slash = text.indexOf('/');
  const token = (slash === -1 ? text : text.slice(0, slash)).trim();
  // §4.2.2: logical T or F.
  if (token === 'T') return true;
  if (token === 'F') return false;
  // §4.2.3, §4.2.4: integers and reals, whose exponent may be written with D (double precision).
  if (/^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$/.test(token)) return Number(token.replace(/[Dd]/, 'E'));
  return token;
}

function integerKeyword(header: ReadonlyMap<string, FitsValue>, name: string): number {
  const value = header.get(name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new FitsError(
      `${name} is ${value === undefined ? 'missing' : `not an integer (${String(value)})`}`,
    );
  }
  return value;
}

function realKeyword(header: ReadonlyMap<string, FitsValue>, name: string, fallback: number): number {
  const value = header.get(name);
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new FitsError(`${name} is not a number (${String(value)})`);
  }
  return value;
}
