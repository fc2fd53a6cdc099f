// The light curve: magnitude (or flux) against MJD with uPlot, the date in UTC shown on hover, one colour per band,
// brighter up (the magnitude scale runs downwards), detections as filled markers with their error bars, negative
// detections (the source fainter than in the reference image) as larger open markers with their error bars, upper
// limits as open down-pointing triangles at the limiting magnitude (the source is fainter than that), forced
// photometry (Rubin) as small filled markers.
// Three scales: the difference magnitude (ZTF magpsf, of |difference flux| for a negative detection), the apparent
// (DC) magnitude Fink computes for ZTF detections with a reference source, and the difference flux in nJy that Rubin
// sends (negative fluxes drawn as they are, below zero). Upper limits are limits on the difference image, so they
// are drawn on the difference magnitude scale only. uPlot has no error bars of its own: they are drawn on its canvas
// from its `draw` hook, with its own value-to-pixel transforms, so that they follow zoom and resize.
import uPlot from 'uplot';
import { formatJd, jdToMjd, MJD_OFFSET } from '../format.ts';

export interface LightCurvePoint {
  jd: number;
  band: string;
  /** detection, upper-limit or forced */
  kind: string;
  mag: number | null;
  magErr: number | null;
  limitMag: number | null;
  /** A negative difference: a detection, fainter than in the reference image. */
  negative: boolean;
  /** Apparent (DC) magnitude and error; null without a reference source and for Rubin. */
  dcMag: number | null;
  dcMagErr: number | null;
  /** Difference flux and error, nJy; Rubin only. */
  flux: number | null;
  fluxErr: number | null;
}

/** What the chart draws: difference or apparent magnitude, or difference flux (nJy). */
export type MagnitudeScale = 'difference' | 'apparent' | 'flux';

export const SCALE_LABELS: Readonly<Record<MagnitudeScale, string>> = {
  difference: 'difference magnitude',
  apparent: 'apparent (DC) magnitude',
  flux: 'difference flux (nJy)',
};

export const BAND_COLORS: Readonly<Record<string, string>> = {
  u: '#6a3d9a',
  g: '#2ca02c',
  r: '#d62728',
  i: '#ff7f0e',
  z: '#8c564b',
  y: '#17becf',
};
const OTHER_BAND = '#555555';
const BAND_ORDER = ['u', 'g', 'r', 'i', 'z', 'y'];
const KINDS = [
  { kind: 'detection', suffix: '', size: 7, open: false, errors: true, triangle: false },
  { kind: 'negative', suffix: ' negative', size: 9, open: true, errors: true, triangle: false },
  { kind: 'upper-limit', suffix: ' upper limit', size: 9, open: true, errors: false, triangle: true },
  { kind: 'forced', suffix: ' forced', size: 4, open: false, errors: true, triangle: false },
] as const;

export interface LightCurveCounts {
  /** Points drawn, all bands and kinds. */
  plotted: number;
  /** Detections drawn, negative ones included. */
  detections: number;
  /** Of which negative. */
  negative: number;
  upperLimits: number;
  forced: number;
  /**
   * Points without a value to draw on this scale (a non-positive forced flux; in apparent magnitude, a
   * detection without a DC magnitude and every upper limit; in flux, every point without one: ZTF's).
   */
  unplottable: number;
}

interface SeriesPlan {
  band: string;
  kind: (typeof KINDS)[number];
  /** Index in the x array -> magnitude, error. */
  values: Map<number, { mag: number; err: number | null }>;
}

/** The magnitude and error a point is drawn at on `scale`; null when it has none there. */
function plotted(point: LightCurvePoint, scale: MagnitudeScale): { mag: number; err: number | null } | null {
  if (point.kind === 'upper-limit') {
    return scale === 'difference' && point.limitMag !== null ? { mag: point.limitMag, err: null } : null;
  }
  if (scale === 'flux') return point.flux === null ? null : { mag: point.flux, err: point.fluxErr };
  if (scale === 'apparent') {
    if (point.kind === 'forced') return null;
    return point.dcMag === null ? null : { mag: point.dcMag, err: point.dcMagErr };
  }
  return point.mag === null ? null : { mag: point.mag, err: point.magErr };
}

function kindOf(point: LightCurvePoint): (typeof KINDS)[number] {
  const name = point.kind === 'detection' && point.negative ? 'negative' : point.kind;
  return KINDS.find((k) => k.kind === name) ?? KINDS[0];
}

/** True when the apparent scale has something to draw: some detection has a DC magnitude. */
export function hasApparent(points: readonly LightCurvePoint[]): boolean {
  return points.some((p) => p.kind === 'detection' && p.dcMag !== null);
}

/** The scales with something to draw, difference magnitude first. */
export function availableScales(points: readonly LightCurvePoint[]): MagnitudeScale[] {
  return [
    'difference',
    ...(hasApparent(points) ? (['apparent'] as const) : []),
    ...(points.some((p) => p.kind !== 'upper-limit' && p.flux !== null) ? (['flux'] as const) : []),
  ];
}

/** The x value and the hover text of a time: MJD, and the date in UTC. */
export function describeMjd(mjd: number): string {
  return `MJD ${mjd.toFixed(5)} · ${formatJd(mjd + MJD_OFFSET)} UTC`;
}

/**
 * Open down-pointing triangles (an upper limit: the source is at most this bright), one per non-null value
 * between idx0 and idx1, centred on the value; in canvas pixels, as uPlot strokes a points path.
 */
function downTriangles(size: number): uPlot.Series.Points.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const path = new Path2D();
    const half = (size * devicePixelRatio) / 2;
    const xs = u.data[0];
    const ys = u.data[seriesIdx]!;
    const scale = u.series[seriesIdx]!.scale ?? 'y';
    for (let i = idx0; i <= idx1; i++) {
      const y = ys[i];
      if (y === null || y === undefined) continue;
      const cx = u.valToPos(xs[i]!, 'x', true);
      const cy = u.valToPos(y, scale, true);
      path.moveTo(cx - half, cy - half * 0.8);
      path.lineTo(cx + half, cy - half * 0.8);
      path.lineTo(cx, cy + half);
      path.closePath();
    }
    return { stroke: path, fill: path };
  };
}

export function countPoints(
  points: readonly LightCurvePoint[],
  scale: MagnitudeScale = 'difference',
): LightCurveCounts {
  const counts = { plotted: 0, detections: 0, negative: 0, upperLimits: 0, forced: 0, unplottable: 0 };
  for (const point of points) {
    if (plotted(point, scale) === null) {
      counts.unplottable += 1;
      continue;
    }
    counts.plotted += 1;
    if (point.kind === 'upper-limit') counts.upperLimits += 1;
    else if (point.kind === 'forced') counts.forced += 1;
    else {
      counts.detections += 1;
      if (point.negative) counts.negative += 1;
    }
  }
  return counts;
}

/** Draws the light curve into `container` (its width); returns the chart, to resize or destroy. */
export function drawLightCurve(
  container: HTMLElement,
  points: readonly LightCurvePoint[],
  scale: MagnitudeScale = 'difference',
  height = 320,
): uPlot {
  const drawable = points.flatMap((point) => {
    const at = plotted(point, scale);
    return at === null ? [] : [{ point, at }];
  });
  const xs = [...new Set(drawable.map(({ point }) => jdToMjd(point.jd)))].sort((a, b) => a - b);
  const xIndex = new Map(xs.map((x, i) => [x, i]));
  const plans = new Map<string, SeriesPlan>();
  for (const { point, at } of drawable) {
    const kind = kindOf(point);
    const key = `${point.band}/${kind.kind}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      plan = { band: point.band, kind, values: new Map() };
      plans.set(key, plan);
    }
    plan.values.set(xIndex.get(jdToMjd(point.jd))!, at);
  }
  const bandRank = (band: string) =>
    BAND_ORDER.includes(band) ? BAND_ORDER.indexOf(band) : BAND_ORDER.length;
  const ordered = [...plans.values()].sort(
    (a, b) => bandRank(a.band) - bandRank(b.band) || KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind),
  );

  const data: uPlot.AlignedData = [
    xs,
    ...ordered.map((plan) => xs.map((_, i) => plan.values.get(i)?.mag ?? null)),
  ];
  const series: uPlot.Series[] = [
    { label: 'time', value: (_u, v) => (v === null ? '–' : describeMjd(v)) },
    ...ordered.map((plan): uPlot.Series => {
      const color = BAND_COLORS[plan.band] ?? OTHER_BAND;
      return {
        label: `${plan.band}${plan.kind.suffix}`,
        scale: 'y',
        stroke: color,
        // Points only: a light curve is sampled, not continuous.
        paths: () => null,
        points: {
          show: true,
          size: plan.kind.size,
          width: plan.kind.kind === 'negative' ? 2.5 : 1.5,
          stroke: color,
          fill: plan.kind.open ? '#ffffff' : color,
          ...(plan.kind.triangle ? { paths: downTriangles(plan.kind.size) } : {}),
        },
        value: (_u, v) => (v === null ? '–' : v.toFixed(scale === 'flux' ? 0 : 2)),
      };
    }),
  ];

  const drawErrorBars = (u: uPlot) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ordered.forEach((plan, s) => {
      if (!plan.kind.errors || u.series[s + 1]?.show === false) return;
      ctx.strokeStyle = BAND_COLORS[plan.band] ?? OTHER_BAND;
      ctx.beginPath();
      for (const [i, { mag, err }] of plan.values) {
        if (err === null || !(err > 0)) continue;
        const x = u.valToPos(xs[i]!, 'x', true);
        ctx.moveTo(x, u.valToPos(mag - err, 'y', true));
        ctx.lineTo(x, u.valToPos(mag + err, 'y', true));
      }
      ctx.stroke();
    });
    ctx.restore();
  };

  const errors = ordered.flatMap((plan) =>
    [...plan.values.values()].map((v) => [v.mag - (v.err ?? 0), v.mag + (v.err ?? 0)]),
  );
  const lo = Math.min(...errors.flat());
  const hi = Math.max(...errors.flat());
  const pad = scale === 'flux' ? Math.max(1, (hi - lo) * 0.1) : Math.max(0.3, (hi - lo) * 0.1);

  return new uPlot(
    {
      width: Math.max(320, container.clientWidth),
      height,
      scales: {
        x: {
          time: false,
          // A margin either side so that the first and last markers are drawn whole (a day for a single epoch).
          range: (_u, min, max) => {
            const margin = Math.max(0.5, (max - min) * 0.03);
            return [min - margin, max + margin];
          },
        },
        // Magnitudes: brighter (smaller) up; fluxes: brighter (larger) up. The range includes the error bars.
        y: {
          dir: scale === 'flux' ? 1 : -1,
          range: () => (errors.length === 0 ? [15, 21] : [lo - pad, hi + pad]),
        },
      },
      axes: [
        { label: 'MJD', values: (_u, splits) => splits.map((v) => String(Math.round(v * 1000) / 1000)) },
        { scale: 'y', label: SCALE_LABELS[scale], size: scale === 'flux' ? 72 : 56 },
      ],
      series,
      legend: { live: true },
      cursor: { points: { show: false } },
      hooks: { draw: [drawErrorBars] },
    },
    data,
    container,
  );
}
