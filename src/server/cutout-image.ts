// Cutouts as 8-bit grey PNG images, scaled the way astronomers look at them: IRAF's zscale (as astropy's
// ZScaleInterval and ds9's "zscale" compute it), which ignores the few bright stars and shows the sky's
// structure. Pure functions: FITS image in, PNG bytes out.
import { encode } from 'fast-png';
import type { FitsImage } from '../pipeline/decode/fits.ts';

export interface ZScaleOptions {
  /** How many pixels to sample (evenly spaced through the image). */
  samples: number;
  /** The slope of the fitted line is divided by this: lower shows a wider range. */
  contrast: number;
  /** The fit gives up (falls back to min/max) when more than this fraction of samples was rejected. */
  maxReject: number;
  /** ... or when fewer samples than this are left. */
  minPixels: number;
  /** Samples further than this many standard deviations from the line are rejected. */
  rejectSigma: number;
  maxIterations: number;
}

/** astropy.visualization.ZScaleInterval's defaults, which are IRAF's. */
export const ZSCALE_DEFAULTS: ZScaleOptions = {
  samples: 1000,
  contrast: 0.25,
  maxReject: 0.5,
  minPixels: 5,
  rejectSigma: 2.5,
  maxIterations: 5,
};

export interface DisplayLimits {
  /** Values at or below show black. */
  min: number;
  /** Values at or above show white. */
  max: number;
}

/**
 * The zscale display limits of `values` (non-finite values are ignored), following astropy's ZScaleInterval
 * step for step: sort a regular sample, fit a line to it with iterative sigma rejection (growing each rejected
 * sample to its neighbours), and centre on the median a range set by the slope divided by the contrast, clipped
 * to the sample's extremes. An image with no finite value gets { min: 0, max: 0 }.
 */
export function zscaleLimits(values: ArrayLike<number>, options: Partial<ZScaleOptions> = {}): DisplayLimits {
  const o = { ...ZSCALE_DEFAULTS, ...options };
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isFinite(value)) finite.push(value);
  }
  if (finite.length === 0) return { min: 0, max: 0 };

  const stride = Math.max(1, Math.floor(finite.length / o.samples));
  const samples: number[] = [];
  for (let i = 0; i < finite.length && samples.length < o.samples; i += stride) samples.push(finite[i]!);
  samples.sort((a, b) => a - b);

  const n = samples.length;
  let min = samples[0]!;
  let max = samples[n - 1]!;
  const minGood = Math.max(o.minPixels, Math.floor(n * o.maxReject));
  const grow = Math.max(1, Math.floor(n * 0.01));

  let bad: Uint8Array = new Uint8Array(n);
  let good = n;
  let lastGood = n + 1;
  let slope: number | null = null;
  for (let iteration = 0; iteration < o.maxIterations; iteration++) {
    if (good >= lastGood || good < minGood) break;
    const line = fitLine(samples, bad);
    slope = line.slope;
    // Residuals from the line, and their (population) standard deviation over the samples still kept, in two
    // passes as numpy computes it.
    const flat = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      flat[i] = samples[i]! - (line.intercept + line.slope * i);
      if (bad[i] === 0) sum += flat[i]!;
    }
    const mean = sum / good;
    let squares = 0;
    for (let i = 0; i < n; i++) if (bad[i] === 0) squares += (flat[i]! - mean) ** 2;
    const threshold = o.rejectSigma * Math.sqrt(squares / good);
    for (let i = 0; i < n; i++) if (flat[i]! < -threshold || flat[i]! > threshold) bad[i] = 1;
    bad = dilate(bad, grow);
    lastGood = good;
    good = bad.reduce((count, flag) => count + (flag === 0 ? 1 : 0), 0);
  }

  if (good >= minGood && slope !== null) {
    const scaledSlope = o.contrast > 0 ? slope / o.contrast : slope;
    const centre = Math.floor((n - 1) / 2);
    const median = n % 2 === 1 ? samples[centre]! : (samples[centre]! + samples[centre + 1]!) / 2;
    min = Math.max(min, median - (centre - 1) * scaledSlope);
    max = Math.min(max, median + (n - centre) * scaledSlope);
  }
  return { min, max };
}

/** Least-squares line through (i, y[i]) over the samples not flagged bad. */
function fitLine(y: readonly number[], bad: Uint8Array): { slope: number; intercept: number } {
  let count = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < y.length; i++) {
    if (bad[i] !== 0) continue;
    count++;
    sumX += i;
    sumY += y[i]!;
  }
  const meanX = sumX / count;
  const meanY = sumY / count;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < y.length; i++) {
    if (bad[i] !== 0) continue;
    sxx += (i - meanX) * (i - meanX);
    sxy += (i - meanX) * (y[i]! - meanY);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: meanY - slope * meanX };
}

/**
 * numpy.convolve(bad, ones(width), mode='same') != 0, as astropy's rejection grows its mask: output j is set
 * when any of bad[j - floor(width/2) .. j + ceil(width/2) - 1] is, so a flagged sample i sets outputs
 * i - (ceil(width/2) - 1) .. i + floor(width/2).
 */
function dilate(bad: Uint8Array, width: number): Uint8Array {
  const reachAfter = Math.floor(width / 2);
  const reachBefore = width - 1 - reachAfter;
  const out = new Uint8Array(bad.length);
  for (let i = 0; i < bad.length; i++) {
    if (bad[i] === 0) continue;
    out.fill(1, Math.max(0, i - reachBefore), Math.min(bad.length, i + reachAfter + 1));
  }
  return out;
}

/**
 * 8-bit grey pixels, top row first, with FITS row 1 at the bottom (north up, as ds9 shows a cutout): values
 * scaled linearly from `limits.min` (0) to `limits.max` (255), clipped; NaN and infinities black. When the
 * limits are equal (a flat image) every finite pixel is mid-grey, so it stays distinct from blank ones.
 */
export function toGrey8(image: FitsImage, limits: DisplayLimits): Uint8Array {
  const { width, height, pixels } = image;
  const out = new Uint8Array(width * height);
  const range = limits.max - limits.min;
  for (let row = 0; row < height; row++) {
    const source = row * width;
    const target = (height - 1 - row) * width;
    for (let x = 0; x < width; x++) {
      const value = pixels[source + x]!;
      if (!Number.isFinite(value)) continue;
      const level = range > 0 ? ((value - limits.min) / range) * 255 : 128;
      out[target + x] = Math.round(Math.min(255, Math.max(0, level)));
    }
  }
  return out;
}

/** The cutout as an 8-bit grey PNG, zscaled, north up. */
export function renderCutoutPng(image: FitsImage): Uint8Array {
  const grey = toGrey8(image, zscaleLimits(image.pixels));
  return encode({ width: image.width, height: image.height, data: grey, channels: 1, depth: 8 });
}
