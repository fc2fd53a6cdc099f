// Where and when an alert is: its HEALPix cell (for cone searches) and its observing night.
import { ang2pix_nest, order2nside } from '@hscmap/healpix';
import type { Survey } from './alert.ts';

/**
 * HEALPix order of the `hpx` columns: nside 32,768, cells of about 6.4 arcsec, so a 10-arcsec cone search reads
 * a handful of cells. 15 is also the deepest order @hscmap/healpix computes correctly: from 16 on its 32-bit
 * bit operations overflow (measured: half of random positions get a wrong cell; test/unit/sky.test.ts guards it).
 */
export const ALERT_HPX_ORDER = 15;
const NSIDE = order2nside(ALERT_HPX_ORDER);
const DEG = Math.PI / 180;

/** NESTED HEALPix cell at ALERT_HPX_ORDER of a position in degrees. */
export function hpxOf(ra: number, dec: number): number {
  return ang2pix_nest(NSIDE, (90 - dec) * DEG, ra * DEG);
}

/**
 * The night an exposure belongs to, as the UTC date at which it began. ZTF (Palomar, UTC-8) observes from about
 * 03:00 to 13:00 UTC, inside one UTC day; Rubin (Cerro Pachón, UTC-4) from about 23:00 to 10:00 UTC, across
 * midnight, so its night is the UTC date twelve hours earlier.
 */
export function nightOf(survey: Survey, jd: number): Date {
  const ms = (jd - 2440587.5) * 86_400_000;
  const shifted = survey === 'lsst' ? ms - 12 * 3_600_000 : ms;
  const day = new Date(shifted);
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
}
