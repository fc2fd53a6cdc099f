// The Mollweide projection of the whole sky, as astronomers draw it: RA 180° at the centre, RA growing to the left
// (east left, as seen from inside the sphere), Dec up. Plane coordinates are Mollweide's own: x in [-2√2, 2√2],
// y in [-√2, √2]; `toCanvas` / `fromCanvas` map them onto a canvas twice as wide as high. Pure, for the unit tests
// and for the browser tests that click a known position.

const SQRT2 = Math.SQRT2;
const DEG = Math.PI / 180;
export const X_MAX = 2 * SQRT2;
export const Y_MAX = SQRT2;

/** The auxiliary angle θ of Mollweide: 2θ + sin 2θ = π sin φ (Newton's method, exact at the poles). */
function auxiliaryAngle(latitude: number): number {
  if (Math.abs(Math.abs(latitude) - Math.PI / 2) < 1e-12) return latitude;
  const target = Math.PI * Math.sin(latitude);
  let theta = latitude;
  for (let i = 0; i < 50; i++) {
    const f = 2 * theta + Math.sin(2 * theta) - target;
    const step = f / (2 + 2 * Math.cos(2 * theta));
    theta -= step;
    if (Math.abs(step) < 1e-12) break;
  }
  return theta;
}

/** Sky (degrees) to the Mollweide plane. */
export function project(ra: number, dec: number): { x: number; y: number } {
  const wrapped = ((ra % 360) + 360) % 360;
  // RA 180° at the centre, growing to the left.
  const longitude = (180 - wrapped) * DEG;
  const theta = auxiliaryAngle(dec * DEG);
  return { x: ((2 * SQRT2) / Math.PI) * longitude * Math.cos(theta), y: SQRT2 * Math.sin(theta) };
}

/** The Mollweide plane to the sky (degrees); null outside the ellipse. */
export function unproject(x: number, y: number): { ra: number; dec: number } | null {
  if ((x / X_MAX) ** 2 + (y / Y_MAX) ** 2 > 1) return null;
  const theta = Math.asin(Math.max(-1, Math.min(1, y / SQRT2)));
  const latitude = Math.asin(Math.max(-1, Math.min(1, (2 * theta + Math.sin(2 * theta)) / Math.PI)));
  const cos = Math.cos(theta);
  const longitude = cos < 1e-12 ? 0 : (Math.PI * x) / (2 * SQRT2 * cos);
  if (Math.abs(longitude) > Math.PI + 1e-9) return null;
  const ra = (((180 - longitude / DEG) % 360) + 360) % 360;
  return { ra, dec: latitude / DEG };
}

/** Plane to canvas pixels (the ellipse fills a width × width/2 canvas). */
export function toCanvas(point: { x: number; y: number }, width: number): { px: number; py: number } {
  const height = width / 2;
  return { px: ((point.x + X_MAX) / (2 * X_MAX)) * width, py: ((Y_MAX - point.y) / (2 * Y_MAX)) * height };
}

export function fromCanvas(px: number, py: number, width: number): { x: number; y: number } {
  const height = width / 2;
  return { x: (px / width) * 2 * X_MAX - X_MAX, y: Y_MAX - (py / height) * 2 * Y_MAX };
}
