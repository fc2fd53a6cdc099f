// HEALPix (NESTED) for the whole project: the alerts' `hpx` cell, catalog and watchlist indexes, cone searches.
//
// Two limits of @hscmap/healpix shape this module:
// - It interleaves the bits of a pixel's (x, y) with 32-bit operations, so order 15 (nside 32,768, pixels of
//   6.4") is the deepest it computes correctly (test/unit/sky.test.ts guards it).
// - It misplaces a position of the polar caps (|sin dec| > 2/3) lying exactly on an edge between base faces (ra a
//   multiple of 90°): measured, (90°, -89.99975°) lands in a pixel near the equator and (180°, 89.99975°) in the
//   pixel of the neighbouring face. Such a position is on the edge of the two pixels either side, which every disc
//   containing it lists, so it is placed just beside the edge instead (2e-9 rad: far below any radius).
import * as healpix from '@hscmap/healpix';
import { ARCSEC, DEG, normalizeRa } from './angles.ts';

export const MAX_HEALPIX_ORDER = 15;

/**
 * HEALPix order of the alerts' `hpx` columns: nside 32,768, cells of about 6.4 arcsec, so a 10-arcsec cone search
 * reads a handful of cells.
 */
export const ALERT_HPX_ORDER = MAX_HEALPIX_ORDER;

/** Cone searches list cells at the order whose cells are about the radius: few ranges of the sorted hpx key. */
const CONE_MAX_CELLS = 64;
/** Side of an order-0 HEALPix cell, arcsec (sqrt(4 pi / 12) radians); each order halves it. */
const CELL_SIZE_ARCSEC_ORDER_0 = Math.sqrt((4 * Math.PI) / 12) * (180 / Math.PI) * 3600;

/** Within this of a multiple of 90° of longitude, a polar-cap position is looked up on both sides. */
const FACE_EDGE_RAD = 1e-9;

/** Mean pixel width (square root of the pixel area) at `order`, in arcseconds. */
export function healpixResolutionArcsec(order: number): number {
  return healpix.nside2resol(healpix.order2nside(order)) / ARCSEC;
}

/**
 * The deepest order whose pixels are at least as wide as the radius (capped at MAX_HEALPIX_ORDER), so the disc
 * around a position fits in the 3x3 neighbourhood of the position's pixel: few pixels per query, each holding
 * few sources. Correctness does not rest on this choice: candidates come from the inclusive disc query.
 */
export function healpixOrderForRadius(radiusArcsec: number): number {
  for (let order = MAX_HEALPIX_ORDER; order > 0; order--) {
    if (healpixResolutionArcsec(order) >= radiusArcsec) return order;
  }
  return 0;
}

/**
 * The longitudes (radians) to look a position up at: one, or, for a polar-cap position on a face edge, one just
 * either side of it (see the header).
 */
export function lookupPhis(dec: number, ra: number): number[] {
  const phi = normalizeRa(ra) * DEG;
  if (Math.abs(Math.sin(dec * DEG)) <= 2 / 3) return [phi];
  const quarter = Math.PI / 2;
  const edge = Math.round(phi / quarter) * quarter;
  if (Math.abs(phi - edge) > FACE_EDGE_RAD) return [phi];
  const twoPi = 2 * Math.PI;
  return [(edge - 2 * FACE_EDGE_RAD + twoPi) % twoPi, (edge + 2 * FACE_EDGE_RAD) % twoPi];
}

/** The NESTED pixel of a position (degrees) at `order`. */
export function healpixPixel(order: number, ra: number, dec: number): number {
  return healpix.ang2pix_nest(healpix.order2nside(order), (90 - dec) * DEG, lookupPhis(dec, ra).at(-1)!);
}

/** The alert's `hpx` cell: its NESTED pixel at ALERT_HPX_ORDER. */
export function hpxOf(ra: number, dec: number): number {
  return healpixPixel(ALERT_HPX_ORDER, ra, dec);
}

/** Every NESTED pixel a disc of `radiusArcsec` around the position may touch (a superset, never missing one). */
export function healpixDisc(order: number, ra: number, dec: number, radiusArcsec: number): number[] {
  const pixels: number[] = [];
  healpix.query_disc_inclusive_nest(
    healpix.order2nside(order),
    healpix.ang2vec((90 - dec) * DEG, normalizeRa(ra) * DEG),
    radiusArcsec * ARCSEC,
    (pixel) => pixels.push(pixel),
  );
  return pixels;
}

/**
 * The sorted ALERT_HPX_ORDER key ranges [from, to) covering a disc: cells at the deepest order with at most
 * CONE_MAX_CELLS cells in the disc, each a contiguous range of order-15 cells in the NESTED scheme.
 */
export function coneCellRanges(ra: number, dec: number, radiusArcsec: number): [number, number][] {
  // Start at the deepest order whose cells are still at least an eighth of the radius (~200 cells in the disc,
  // more than CONE_MAX_CELLS), not at order 15: a 1-degree disc holds ~10^6 order-15 cells, a second of CPU.
  let order = ALERT_HPX_ORDER;
  while (order > 0 && CELL_SIZE_ARCSEC_ORDER_0 / 2 ** order < radiusArcsec / 8) order--;
  let cells = healpixDisc(order, ra, dec, radiusArcsec);
  while (cells.length > CONE_MAX_CELLS && order > 0) {
    order--;
    cells = healpixDisc(order, ra, dec, radiusArcsec);
  }
  const shift = 4 ** (ALERT_HPX_ORDER - order);
  const ranges = cells
    .sort((a, b) => a - b)
    .map((cell): [number, number] => [cell * shift, (cell + 1) * shift]);
  // Adjacent cells merge into one range.
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && last[1] === range[0]) last[1] = range[1];
    else merged.push(range);
  }
  return merged;
}

/** Nside of an order (for matchers that compute many pixels at one order). */
export function nsideOf(order: number): number {
  return healpix.order2nside(order);
}

/** The NESTED pixel at `nside` of colatitude theta and longitude phi (radians): the raw lookup matchers loop on. */
export function pixelAt(nside: number, theta: number, phi: number): number {
  return healpix.ang2pix_nest(nside, theta, phi);
}

/** Centre of a NESTED pixel at `order`, in degrees (ra in [0, 360)). */
export function healpixCenter(order: number, pixel: number): { ra: number; dec: number } {
  const { theta, phi } = healpix.pix2ang_nest(healpix.order2nside(order), pixel);
  return { ra: normalizeRa(phi / DEG), dec: 90 - theta / DEG };
}
