import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createZtfDecoder } from '../../../src/pipeline/decode/ztf-avro.ts';
import {
  FitsError,
  checkFitsStructure,
  fitsBytes,
  isGzipped,
  parseFitsImage,
} from '../../../src/pipeline/decode/fits.ts';
import { readRubinParquet } from '../../../datasim/rubin.ts';
import { sharedPath, ztfAlertFiles } from '../../helpers/shared-data.ts';

/** One keyword record: 8-character name, "= ", the value right-justified to column 30 as writers do. */
function card(name: string, value?: string): string {
  const text = value === undefined ? name : `${name.padEnd(8)}= ${value.padStart(20)}`;
  return text.padEnd(80);
}

/** A primary HDU built by hand: header cards padded to 2880 bytes, big-endian data padded with zeros. */
function buildFits(options: {
  bitpix: 8 | 16 | 32 | 64 | -32 | -64;
  width: number;
  height: number;
  values: readonly number[];
  cards?: readonly string[];
  naxis?: number;
}): Buffer {
  const naxis = options.naxis ?? 2;
  const cards = [
    card('SIMPLE', 'T'),
    card('BITPIX', String(options.bitpix)),
    card('NAXIS', String(naxis)),
    card('NAXIS1', String(options.width)),
    card('NAXIS2', String(options.height)),
    ...Array.from({ length: Math.max(0, naxis - 2) }, (_, i) => card(`NAXIS${i + 3}`, '1')),
    ...(options.cards ?? []),
    card('END'),
  ].join('');
  const header = Buffer.from(cards.padEnd(Math.ceil(cards.length / 2880) * 2880), 'latin1');
  const bytesPer = Math.abs(options.bitpix) / 8;
  const data = Buffer.alloc(Math.ceil((options.values.length * bytesPer) / 2880) * 2880);
  options.values.forEach((value, i) => {
    const at = i * bytesPer;
    if (options.bitpix === 8) data.writeUInt8(value, at);
    else if (options.bitpix === 16) data.writeInt16BE(value, at);
    else if (options.bitpix === 32) data.writeInt32BE(value, at);
    else if (options.bitpix === 64) data.writeBigInt64BE(BigInt(value), at);
    else if (options.bitpix === -32) data.writeFloatBE(value, at);
    else data.writeDoubleBE(value, at);
  });
  return Buffer.concat([header, data]);
}

/** Files parseFitsImage refuses, with what its message says. */
const DEFECTS: [string, Buffer, RegExp][] = [
  ['not FITS', Buffer.from('hello world'.padEnd(2880)), /END/],
  ['no END record', Buffer.from(card('SIMPLE', 'T').repeat(36), 'latin1'), /END/],
  ['SIMPLE = F', buildFits({ bitpix: 8, width: 1, height: 1, values: [0] }).fill('F', 29, 30), /SIMPLE/],
  ['an empty primary HDU', buildFits({ bitpix: 8, width: 1, height: 1, values: [0], naxis: 0 }), /NAXIS = 0/],
  [
    'a bad BITPIX',
    Buffer.from(
      buildFits({ bitpix: 8, width: 1, height: 1, values: [0] })
        .toString('latin1')
        .replace(card('BITPIX', '8'), card('BITPIX', '12')),
      'latin1',
    ),
    /BITPIX 12/,
  ],
  [
    'truncated data',
    buildFits({ bitpix: -32, width: 30, height: 30, values: [] }).subarray(0, 2880 + 100),
    /truncated/,
  ],
  ['a corrupt gzip stream', gzipSync(Buffer.alloc(3000)).subarray(0, 20), /gunzip/],
  [
    'a BSCALE that is not a number',
    buildFits({ bitpix: 16, width: 1, height: 1, values: [0], cards: [card('BSCALE', "'x'")] }),
    /BSCALE is not a number/,
  ],
  [
    'a BLANK that is not an integer',
    buildFits({ bitpix: 16, width: 1, height: 1, values: [0], cards: [card('BLANK', '1.5')] }),
    /BLANK is not an integer/,
  ],
];

describe('parseFitsImage on hand-built files', () => {
  it('applies BSCALE and BZERO to BITPIX 16 (the unsigned-16 convention) and blanks BLANK pixels', () => {
    // BZERO 32768 maps the stored int16 range onto 0..65535 (§5.2.5); BSCALE 0.5 halves it.
    const fits = buildFits({
      bitpix: 16,
      width: 3,
      height: 2,
      values: [-32768, -1, 0, 1, 32767, -999],
      cards: [card('BSCALE', '0.5'), card('BZERO', '32768'), card('BLANK', '-999')],
    });
    const image = parseFitsImage(fits);
    expect(image.width).toBe(3);
    expect(image.height).toBe(2);
    expect([...image.pixels]).toEqual([32768 - 16384, 32768 - 0.5, 32768, 32768.5, 32768 + 16383.5, NaN]);
    expect(image.header.get('BZERO')).toBe(32768);
    expect(image.header.get('BLANK')).toBe(-999);
  });

  it.each([
    ['unsigned BITPIX 8', 8, [0, 1, 128, 255], [0, 1, 128, 255]],
    ['BITPIX 32', 32, [-2147483648, -1, 0, 2147483647], [-2147483648, -1, 0, 2147483647]],
    ['BITPIX 64', 64, [-(2 ** 53), -1, 0, 2 ** 53], [-(2 ** 53), -1, 0, 2 ** 53]],
    ['BITPIX -32 with NaN', -32, [1.5, -2.25, NaN, 3e30], [1.5, -2.25, NaN, Math.fround(3e30)]],
    ['BITPIX -64', -64, [1e-300, -1e300, NaN, Math.PI], [1e-300, -1e300, NaN, Math.PI]],
  ] as const)('reads %s', (_name, bitpix, values, expected) => {
    const image = parseFitsImage(buildFits({ bitpix, width: 2, height: 2, values }));
    expect([...image.pixels]).toEqual(expected);
  });

  it('applies BSCALE/BZERO to floating arrays and leaves their NaNs blank', () => {
    const fits = buildFits({
      bitpix: -32,
      width: 2,
      height: 1,
      values: [2, NaN],
      cards: [card('BSCALE', '3.0D0'), card('BZERO', '-1.')],
    });
    expect([...parseFitsImage(fits).pixels]).toEqual([5, NaN]);
  });

  it('ignores BLANK on a floating array (§4.4.2.5 defines it for integers only)', () => {
    const fits = buildFits({ bitpix: -64, width: 2, height: 1, values: [7, 8], cards: [card('BLANK', '7')] });
    expect([...parseFitsImage(fits).pixels]).toEqual([7, 8]);
  });

  it('reads a gzipped file as the same image', () => {
    const fits = buildFits({ bitpix: 16, width: 2, height: 2, values: [1, 2, 3, 4] });
    const gz = gzipSync(fits);
    expect(isGzipped(gz)).toBe(true);
    expect(isGzipped(fits)).toBe(false);
    expect(fitsBytes(gz).equals(fits)).toBe(true);
    expect(parseFitsImage(gz)).toEqual(parseFitsImage(fits));
  });

  it('accepts degenerate extra axes (NAXIS3 = 1)', () => {
    const image = parseFitsImage(buildFits({ bitpix: 8, width: 2, height: 1, values: [4, 5], naxis: 3 }));
    expect([...image.pixels]).toEqual([4, 5]);
  });

  it('parses header values: strings with doubled quotes, logicals, D exponents, comments, first one wins', () => {
    const fits = buildFits({
      bitpix: 8,
      width: 1,
      height: 1,
      values: [0],
      cards: [
        "OBJECT  = 'O''Brien star'       / a quoted quote".padEnd(80),
        "EMPTY   = ''".padEnd(80),
        card('FLAG', 'F'),
        'EXPTIME =               3.0D+1 / seconds'.padEnd(80),
        card('GAIN', '-1.5E-2'),
        card('COMMENT no value here'),
        card('HISTORY = not a value either'),
        card('GAIN', '99'),
      ],
    });
    const { header } = parseFitsImage(fits);
    expect(header.get('OBJECT')).toBe("O'Brien star");
    expect(header.get('EMPTY')).toBe('');
    expect(header.get('FLAG')).toBe(false);
    expect(header.get('SIMPLE')).toBe(true);
    expect(header.get('EXPTIME')).toBe(30);
    expect(header.get('GAIN')).toBe(-0.015);
    expect(header.has('COMMENT')).toBe(false);
    expect(header.has('HISTORY')).toBe(false);
  });

  it('finds the data after a header longer than one 2880-byte block', () => {
    const many = Array.from({ length: 40 }, (_, i) => card(`KEY${i}`, String(i)));
    const image = parseFitsImage(
      buildFits({ bitpix: 16, width: 2, height: 1, values: [-7, 9], cards: many }),
    );
    expect([...image.pixels]).toEqual([-7, 9]);
    expect(image.header.get('KEY39')).toBe(39);
  });

  it.each(DEFECTS)('refuses %s with a FitsError', (_name, bytes, message) => {
    expect(() => parseFitsImage(bytes)).toThrow(FitsError);
    expect(() => parseFitsImage(bytes)).toThrow(message);
  });
});

describe('parseFitsImage on real cutouts', () => {
  // The first alerts of each ZTF schema (3.3 of 2020-01, 4.02 of 2023-10).
  const files = ztfAlertFiles();
  const picked = [
    ...files.filter((file) => file.includes(`${path.sep}2020-01${path.sep}`)).slice(0, 3),
    ...files.filter((file) => file.includes(`${path.sep}2023-10${path.sep}`)).slice(0, 3),
  ];

  it.each(picked.map((file) => [path.basename(file), file]))('ZTF %s: three 63x63 images', (_name, file) => {
    const alert = createZtfDecoder().decode(readFileSync(file));
    for (const cutout of [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference]) {
      const stored = cutout!.stampData;
      expect(isGzipped(stored)).toBe(true);
      const image = parseFitsImage(stored);
      expect(image.header.get('BITPIX')).toBe(-32);
      expect([image.width, image.height]).toEqual([63, 63]);
      // Pixel (1,1) is the first 4 data bytes after the 2880-byte header, as a big-endian float.
      expect(image.pixels[0]).toBe(gunzipSync(stored).readFloatBE(2880));
      expect(image.pixels.filter(Number.isFinite).length).toBeGreaterThan(63 * 63 * 0.9);
    }
  });

  it('reads the real Rubin cutouts (plain FITS, image in the primary HDU)', async () => {
    // Read as the simulator does: the test helper's realRubinAlerts decodes the cutout columns as UTF-8 text.
    const file = sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet');
    const alerts = (await readRubinParquet(file)).slice(0, 5);
    let images = 0;
    for (const alert of alerts) {
      for (const stored of [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference]) {
        if (stored === null) continue;
        expect(isGzipped(stored)).toBe(false);
        const image = parseFitsImage(stored);
        expect(image.width).toBeGreaterThan(10);
        expect(image.height).toBeGreaterThan(10);
        expect(new Set(image.pixels).size).toBeGreaterThan(100);
        images++;
      }
    }
    expect(images).toBeGreaterThan(0);
  });
});

/** The message of the FitsError `parse` throws for `bytes`. */
function failure(parse: (bytes: Uint8Array) => unknown, bytes: Uint8Array): string {
  try {
    parse(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(FitsError);
    return (err as Error).message;
  }
  throw new Error('no FitsError');
}

describe('checkFitsStructure', () => {
  it('passes every real ZTF cutout and the real Rubin ones, all of which parseFitsImage reads', async () => {
    const decoder = createZtfDecoder();
    let checked = 0;
    for (const file of ztfAlertFiles()) {
      const alert = decoder.decode(readFileSync(file));
      for (const cutout of [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference]) {
        if (cutout === null) continue;
        expect(() => checkFitsStructure(cutout.stampData)).not.toThrow();
        checked++;
      }
    }
    const rubin = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'));
    for (const alert of rubin) {
      for (const stored of [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference]) {
        if (stored === null) continue;
        expect(() => checkFitsStructure(stored)).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(611 * 3);
  });

  // The plain defects, and the same files gzipped (the trailer's size stands for the inflated length).
  const gzipped = DEFECTS.filter(([, bytes]) => !isGzipped(bytes)).map(
    ([name, bytes, message]): [string, Buffer, RegExp] => [`${name}, gzipped`, gzipSync(bytes), message],
  );
  it.each([...DEFECTS, ...gzipped])(
    'refuses %s with the message parseFitsImage gives',
    (_name, bytes, message) => {
      expect(failure(checkFitsStructure, bytes)).toMatch(message);
      expect(failure(checkFitsStructure, bytes)).toBe(failure(parseFitsImage, bytes));
    },
  );

  it('finds a header whose deflated text is longer than the first inflated prefix', () => {
    // 200 records of random base64 text deflate to ~9 KB: many times the 512 bytes inflated first.
    const noise = Array.from({ length: 200 }, (_, i) =>
      card(`K${i}`, `'${randomBytes(45).toString('base64')}'`),
    );
    const fits = buildFits({
      bitpix: -32,
      width: 40,
      height: 40,
      values: Array.from({ length: 1600 }, (_, i) => i),
      cards: noise,
    });
    const stored = gzipSync(fits);
    expect(stored.length).toBeGreaterThan(8 * 512);
    expect(() => checkFitsStructure(stored)).not.toThrow();
    const cut = gzipSync(fits.subarray(0, fits.length - 2880));
    expect(failure(checkFitsStructure, cut)).toBe(failure(parseFitsImage, cut));
    expect(failure(checkFitsStructure, cut)).toMatch(/truncated data/);
  });

  const real = createZtfDecoder().decode(readFileSync(ztfAlertFiles()[0]!)).cutoutScience!.stampData;

  it('refuses a gzip header zlib refuses: reserved flags, another method, a name without its end', () => {
    const reserved = Buffer.from(real);
    reserved[3] = reserved[3]! | 0x20;
    expect(failure(checkFitsStructure, reserved)).toMatch(/gunzip.*flags/);
    expect(failure(parseFitsImage, reserved)).toMatch(/gunzip/);
    const method = Buffer.from(real);
    method[2] = 7;
    expect(failure(checkFitsStructure, method)).toMatch(/gunzip.*method 7/);
    expect(failure(parseFitsImage, method)).toMatch(/gunzip/);
    const unnamed = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]),
      Buffer.alloc(20, 0x41),
    ]);
    expect(failure(checkFitsStructure, unnamed)).toMatch(/gunzip.*cut short/);
    expect(failure(parseFitsImage, unnamed)).toMatch(/gunzip/);
  });

  it('reads whole, as parseFitsImage does, a stamp whose trailer does not record a standard size', () => {
    // Cut short: the last 4 bytes are no longer the size.
    for (const missing of [1, 2, 3, 4, 100, 1000, 5000]) {
      const cut = real.subarray(0, real.length - missing);
      expect(failure(checkFitsStructure, cut)).toMatch(/gunzip/);
      expect(failure(checkFitsStructure, cut)).toBe(failure(parseFitsImage, cut));
    }
    // Not padded to whole blocks: readable (the data are all there), so neither refuses it.
    const fits = fitsBytes(real);
    const unpadded = gzipSync(fits.subarray(0, 2880 + 63 * 63 * 4));
    expect(() => parseFitsImage(unpadded)).not.toThrow();
    expect(() => checkFitsStructure(unpadded)).not.toThrow();
  });

  it('does not inflate the pixels: a byte changed among them is found only by parseFitsImage (when served)', () => {
    const flipped = Buffer.from(real);
    flipped[Math.floor(real.length / 2)] = flipped[Math.floor(real.length / 2)]! ^ 0xff;
    expect(() => checkFitsStructure(flipped)).not.toThrow();
    expect(failure(parseFitsImage, flipped)).toMatch(/gunzip/);
  });
});
