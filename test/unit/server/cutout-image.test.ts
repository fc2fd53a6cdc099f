import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { readRubinParquet } from '../../../datasim/rubin.ts';
import { createZtfDecoder } from '../../../src/pipeline/decode/ztf-avro.ts';
import { renderCutoutPng, toGrey8, zscaleLimits } from '../../../src/server/cutout-image.ts';
import { parseFitsImage, type FitsImage } from '../../../src/pipeline/decode/fits.ts';
import { sharedPath } from '../../helpers/shared-data.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function ztfCutouts(night: string, file: string): Record<'science' | 'template' | 'difference', Uint8Array> {
  const alert = createZtfDecoder().decode(readFileSync(sharedPath('datasim', 'ztf', night, file)));
  return {
    science: alert.cutoutScience!.stampData,
    template: alert.cutoutTemplate!.stampData,
    difference: alert.cutoutDifference!.stampData,
  };
}

function image(width: number, height: number, values: readonly number[]): FitsImage {
  return { width, height, pixels: Float64Array.from(values), header: new Map() };
}

describe('zscaleLimits', () => {
  // Reference limits computed by astropy 8.0.2, ZScaleInterval().get_limits(fits.getdata(<gunzipped cutout>)),
  // for candid 1095578115815010001 (schema 3.3) and the 4.02 alert in part-00000-435a4a9d-....
  it.each([
    ['2020-01', '1095578115815010001.avro', 'science', -73.37296110802171, 76.89111328125],
    ['2020-01', '1095578115815010001.avro', 'template', 23.096675872802734, 24.613173435369326],
    ['2020-01', '1095578115815010001.avro', 'difference', -56.586570739746094, 98.70135224305754],
    [
      '2023-10',
      'part-00000-435a4a9d-aa27-46f8-a172-d7159a6fb30d-c000.avro',
      'science',
      66.7464599609375,
      130.5605847669396,
    ],
    [
      '2023-10',
      'part-00000-435a4a9d-aa27-46f8-a172-d7159a6fb30d-c000.avro',
      'template',
      80.24187469482422,
      97.77042830051313,
    ],
    [
      '2023-10',
      'part-00000-435a4a9d-aa27-46f8-a172-d7159a6fb30d-c000.avro',
      'difference',
      -39.14812280216,
      39.336831656324655,
    ],
  ] as const)('%s %s %s matches astropy', (night, file, kind, min, max) => {
    const limits = zscaleLimits(parseFitsImage(ztfCutouts(night, file)[kind]).pixels);
    // astropy keeps float32 where the data are float32 (the median, the sample extremes), so the limits agree to
    // float32 precision, ~1e-7 relative, not exactly.
    expect(Math.abs(limits.min - min)).toBeLessThan(1e-6 * Math.max(1, Math.abs(min)));
    expect(Math.abs(limits.max - max)).toBeLessThan(1e-6 * Math.max(1, Math.abs(max)));
  });

  it('narrows the range to the sky on a few bright outliers, unlike min/max', () => {
    // A smooth ramp of 10,000 sky values between 100 and 110, with 20 "stars" at 50,000.
    const values = Array.from({ length: 10_000 }, (_, i) => 100 + (i % 100) / 10);
    for (let i = 0; i < 20; i++) values[i * 500] = 50_000;
    const limits = zscaleLimits(values);
    expect(limits.min).toBeGreaterThanOrEqual(99);
    expect(limits.max).toBeLessThan(200);
    expect(limits.max).toBeGreaterThan(limits.min);
  });

  it.each([
    ['no value at all', [], { min: 0, max: 0 }],
    ['only NaN and infinities', [NaN, Infinity, -Infinity], { min: 0, max: 0 }],
    ['a flat image', Array.from({ length: 100 }, () => 3), { min: 3, max: 3 }],
    ['fewer samples than the fit needs', [5, 1, 3], { min: 1, max: 5 }],
  ])('handles %s', (_name, values, expected) => {
    expect(zscaleLimits(values)).toEqual(expected);
  });

  it('ignores NaN among the values', () => {
    const values = Array.from({ length: 400 }, (_, i) => i);
    const withNaN = values.flatMap((value) => [value, NaN]);
    expect(zscaleLimits(withNaN)).toEqual(zscaleLimits(values));
  });
});

describe('toGrey8', () => {
  it('puts FITS row 1 at the bottom, scales linearly, clips, and draws NaN black', () => {
    // FITS rows bottom-up: row 1 = [0, 5], row 2 = [10, NaN], row 3 = [-3, 99].
    const grey = toGrey8(image(2, 3, [0, 5, 10, NaN, -3, 99]), { min: 0, max: 10 });
    expect([...grey]).toEqual([
      // Top row of the picture: FITS row 3.
      0, 255,
      // FITS row 2.
      255, 0,
      // Bottom row: FITS row 1.
      0, 128,
    ]);
  });

  it('draws a flat image mid-grey, distinct from its blank pixels', () => {
    expect([...toGrey8(image(3, 1, [7, NaN, 7]), { min: 7, max: 7 })]).toEqual([128, 0, 128]);
  });
});

describe('renderCutoutPng', () => {
  it.each([
    ['2020-01', '1095578115815010001.avro'],
    ['2023-10', 'part-00000-435a4a9d-aa27-46f8-a172-d7159a6fb30d-c000.avro'],
    ['2023-10', 'part-00000-09de403b-932d-46a5-ba1a-81ce1ad5ec25-c000.avro'],
  ])('renders the three ZTF cutouts of %s/%s as 63x63 grey PNGs', (night, file) => {
    for (const [kind, stored] of Object.entries(ztfCutouts(night, file))) {
      const fits = parseFitsImage(stored);
      const png = renderCutoutPng(fits);
      expect([...png.subarray(0, 8)], kind).toEqual(PNG_SIGNATURE);
      const decoded = decode(png);
      expect([decoded.width, decoded.height, decoded.channels, decoded.depth]).toEqual([63, 63, 1, 8]);
      const levels = new Set(decoded.data);
      // A real cutout shows structure: many grey levels, the zscale range reaching both ends.
      expect(levels.size, kind).toBeGreaterThan(50);
      expect(Math.min(...decoded.data)).toBeLessThan(30);
      expect(Math.max(...decoded.data)).toBeGreaterThan(225);
      // The decoded PNG is exactly the flipped, scaled image.
      expect(decoded.data).toEqual(toGrey8(fits, zscaleLimits(fits.pixels)));
    }
  });

  it('renders a real Rubin cutout at its own size', async () => {
    const [alert] = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'));
    const fits = parseFitsImage(alert!.cutoutScience!);
    const decoded = decode(renderCutoutPng(fits));
    expect([decoded.width, decoded.height]).toEqual([fits.width, fits.height]);
    expect(new Set(decoded.data).size).toBeGreaterThan(50);
  });

  it('flips rows: the brightest FITS row 1 is the bottom row of the PNG', () => {
    const width = 4;
    const values = [
      ...Array.from({ length: width }, () => 1000),
      ...Array.from({ length: width * 15 }, (_, i) => i % 7),
    ];
    const decoded = decode(renderCutoutPng(image(width, 16, values)));
    const bottom = decoded.data.subarray(15 * width);
    expect([...bottom]).toEqual([255, 255, 255, 255]);
    expect(Math.max(...decoded.data.subarray(0, width))).toBeLessThan(255);
  });
});
