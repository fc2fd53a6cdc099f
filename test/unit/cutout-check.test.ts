// Which cutouts of an alert cannot be read: real ones all can, corrupt ones are named with the reason.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cutoutProblem, unreadableCutouts } from '../../src/pipeline/cutout-check.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { fitsBytes } from '../../src/pipeline/decode/fits.ts';
import { readAll } from '../helpers/pipeline.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';

const decoder = createZtfDecoder();
const [first] = readAll(ztfAlertFiles().slice(0, 1));
const real = decoder.decode(first!);
const science = real.cutoutScience!.stampData;
/** The real science cutout's FITS, gunzipped. */
const fits = fitsBytes(science);

describe('cutoutProblem', () => {
  it('finds nothing wrong with a real ZTF cutout, gzipped or not', () => {
    for (const check of ['full', 'structure'] as const) {
      expect(cutoutProblem(science, check)).toBeNull();
      expect(cutoutProblem(fits, check)).toBeNull();
    }
  });

  it.each([
    [
      'a broken gzip stream',
      Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(40, 0xee)]),
      /gunzip/,
    ],
    ['bytes that are not FITS', Buffer.from('not a FITS file'), /END record/],
    ['gzipped bytes that are not FITS', gzipSync('SIMPLE'), /END record/],
    ['a FITS cut short in its data', fits.subarray(0, fits.length - 2880), /truncated data/],
    [
      'a FITS whose header lost SIMPLE',
      Buffer.concat([Buffer.from('X'.repeat(80)), fits.subarray(80)]),
      /SIMPLE/,
    ],
  ])('names the reason for %s, whichever the check', (_, bytes, reason) => {
    expect(cutoutProblem(bytes, 'full')).toMatch(reason);
    expect(cutoutProblem(bytes, 'structure')).toBe(cutoutProblem(bytes, 'full'));
  });

  it('finds a byte changed among the compressed pixels only with the full check', () => {
    const changed = Buffer.from(science);
    changed[changed.length >> 1] = changed[changed.length >> 1]! ^ 0xff;
    expect(cutoutProblem(changed, 'full')).toMatch(/gunzip/);
    expect(cutoutProblem(changed, 'structure')).toBeNull();
  });
});

describe('unreadableCutouts', () => {
  it('lists the unreadable cutouts by kind, not the absent ones', () => {
    expect(unreadableCutouts({ science, template: null, difference: Buffer.alloc(0) })).toEqual([]);
    expect(
      unreadableCutouts({ science: Buffer.from('junk'), template: science, difference: gzipSync('junk') }),
    ).toEqual([
      { kind: 'science', reason: expect.stringMatching(/END record/) as unknown },
      { kind: 'difference', reason: expect.stringMatching(/END record/) as unknown },
    ]);
  });
});
