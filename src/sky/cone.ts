// A cone condition as numbers both compilers use verbatim, so the live predicate and the SQL agree to the bit
// on everything but the last ulp of sin/cos: a bounding box on dec (and ra away from the poles) that lets a scan
// use ranges, then the haversine test hav(d) <= hav(r), which is d <= r without asin/sqrt.
import { DEG } from './angles.ts';

export const DEG_TO_RAD = DEG;

/** A disc on the sky: centre in degrees, radius in arcseconds. */
export interface Cone {
  ra: number;
  dec: number;
  radiusArcsec: number;
}

/**
 * Added to the box so that rounding in its computation can never exclude a point the haversine accepts: the box
 * only prunes, the haversine decides. 1e-7 degree is 0.36 milliarcsecond, ~10^8 times any rounding here.
 */
const BOX_MARGIN_DEG = 1e-7;

export interface ConePlan {
  decMin: number;
  decMax: number;
  /** Inclusive ra intervals in [0, 360] (two when the box wraps through ra = 0); null: no ra bound (pole). */
  raRanges: [number, number][] | null;
  /** Centre in radians, its cosine, and hav(radius) = sin^2(radius / 2). */
  decRad: number;
  raRad: number;
  cosDec: number;
  havRadius: number;
}

export function conePlan({ ra, dec, radiusArcsec }: Cone): ConePlan {
  const radius = radiusArcsec / 3600;
  const decMin = dec - radius - BOX_MARGIN_DEG;
  const decMax = dec + radius + BOX_MARGIN_DEG;
  let raRanges: [number, number][] | null = null;
  if (decMin > -90 && decMax < 90) {
    // Widest ra offset of a small circle: sin(dra) = sin(r) / cos(dec), for a cap that excludes both poles.
    const sinRatio = Math.sin(radius * DEG_TO_RAD) / Math.cos(dec * DEG_TO_RAD);
    if (sinRatio < 1) {
      const halfWidth = Math.asin(sinRatio) / DEG_TO_RAD + BOX_MARGIN_DEG;
      const lo = ra - halfWidth;
      const hi = ra + halfWidth;
      if (hi - lo < 360) {
        if (lo < 0)
          raRanges = [
            [lo + 360, 360],
            [0, hi],
          ];
        else if (hi >= 360)
          raRanges = [
            [lo, 360],
            [0, hi - 360],
          ];
        else raRanges = [[lo, hi]];
      }
    }
  }
  const half = Math.sin((radius * DEG_TO_RAD) / 2);
  return {
    decMin,
    decMax,
    raRanges,
    decRad: dec * DEG_TO_RAD,
    raRad: ra * DEG_TO_RAD,
    cosDec: Math.cos(dec * DEG_TO_RAD),
    havRadius: half * half,
  };
}

/** The predicate side; alert-filter-sql.ts writes the same expression, operation for operation. */
export function inCone(plan: ConePlan, ra: number, dec: number): boolean {
  if (!(dec >= plan.decMin && dec <= plan.decMax)) return false;
  if (plan.raRanges !== null && !plan.raRanges.some(([lo, hi]) => ra >= lo && ra <= hi)) return false;
  const sinDdec = Math.sin((dec * DEG_TO_RAD - plan.decRad) / 2);
  const sinDra = Math.sin((ra * DEG_TO_RAD - plan.raRad) / 2);
  const hav = sinDdec * sinDdec + plan.cosDec * Math.cos(dec * DEG_TO_RAD) * (sinDra * sinDra);
  return hav <= plan.havRadius;
}
