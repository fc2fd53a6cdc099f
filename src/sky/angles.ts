// Angles on the sky: units, wrapping, and the great-circle distance every matcher and the cone search use.
export const DEG = Math.PI / 180;
export const ARCSEC = DEG / 3600;

/** ra wrapped into [0, 360). */
export function normalizeRa(ra: number): number {
  const wrapped = ra % 360;
  return wrapped < 0 ? wrapped + 360 : wrapped;
}

/** A finite position with |dec| <= 90 (degrees). */
export function isValidPosition(ra: number, dec: number): boolean {
  return Number.isFinite(ra) && Number.isFinite(dec) && Math.abs(dec) <= 90;
}

/** Great-circle distance in arcseconds (haversine: exact at small angles, stable across RA 0/360 and the poles). */
export function angularDistanceArcsec(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const sinDec = Math.sin(((dec2 - dec1) * DEG) / 2);
  const sinRa = Math.sin(((ra2 - ra1) * DEG) / 2);
  const h = sinDec * sinDec + Math.cos(dec1 * DEG) * Math.cos(dec2 * DEG) * sinRa * sinRa;
  return (2 * Math.asin(Math.min(1, Math.sqrt(h)))) / ARCSEC;
}
