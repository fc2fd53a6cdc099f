// coneCellRanges starts its search at an order fitted to the radius (a 1-degree disc holds ~10^6 order-15
// cells: computing them took a second per cone): the ranges are those of the search from order 15 down.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coneCellRanges, healpixDisc } from '../../src/sky/healpix.ts';

/** The deepest order with at most 64 cells in the disc, searched from order 15 down (the former algorithm). */
function exhaustive(ra: number, dec: number, radiusArcsec: number): [number, number][] {
  let order = 15;
  let cells = healpixDisc(order, ra, dec, radiusArcsec);
  while (cells.length > 64 && order > 0) cells = healpixDisc(--order, ra, dec, radiusArcsec);
  const shift = 4 ** (15 - order);
  const merged: [number, number][] = [];
  for (const cell of cells.sort((a, b) => a - b)) {
    const last = merged.at(-1);
    if (last !== undefined && last[1] === cell * shift) last[1] = (cell + 1) * shift;
    else merged.push([cell * shift, (cell + 1) * shift]);
  }
  return merged;
}

describe('coneCellRanges', () => {
  it('gives the ranges of the search from order 15 down, for radii up to 10 arcmin', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 359.999, noNaN: true }),
        fc.double({ min: -90, max: 90, noNaN: true }),
        fc.constantFrom(0.5, 1, 5, 30, 100, 300, 600),
        (ra, dec, radius) => {
          expect(coneCellRanges(ra, dec, radius)).toEqual(exhaustive(ra, dec, radius));
        },
      ),
      { numRuns: 200, seed: 20261125 },
    );
  });

  it('covers a 1-degree disc with a few ranges', () => {
    const ranges = coneCellRanges(150, 2, 3600);
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.length).toBeLessThanOrEqual(64);
    // The centre's order-15 cell is inside one of them.
    const [centre] = healpixDisc(15, 150, 2, 0.01);
    expect(ranges.some(([from, to]) => centre! >= from && centre! < to)).toBe(true);
  });
});
