// The light curve: magnitude against time with uPlot, one colour per band, brighter up (the magnitude scale runs
// downwards), detections as filled markers with their error bars, upper limits as open markers at the limiting
// magnitude, forced photometry (Rubin) as small filled markers. uPlot has no error bars of its own: they are drawn
// on its canvas from its `draw` hook, with its own value-to-pixel transforms, so that they follow zoom and resize.
import uPlot from 'uplot';
import { jdToUnixSeconds } from '../format.ts';

export interface LightCurvePoint {
  jd: number;
  band: string;
  /** detection, upper-limit or forced */
  kind: string;
  mag: number | null;
  magErr: number | null;
  limitMag: number | null;
}

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
  { kind: 'detection', suffix: '', size: 7, open: false },
  { kind: 'upper-limit', suffix: ' upper limit', size: 7, open: true },
  { kind: 'forced', suffix: ' forced', size: 4, open: false },
] as const;

export interface LightCurveCounts {
  /** Points drawn, all bands and kinds. */
  plotted: number;
  detections: number;
  upperLimits: number;
  forced: number;
  /** Points without a magnitude to draw (e.g. a non-positive forced flux). */
  unplottable: number;
}

interface SeriesPlan {
  band: string;
  kind: (typeof KINDS)[number];
  /** Index in the x array -> magnitude, error. */
  values: Map<number, { mag: number; err: number | null }>;
}

/** The magnitude a point is drawn at: its own, or its limit for an upper limit. */
function plottedMag(point: LightCurvePoint): number | null {
  return point.kind === 'upper-limit' ? point.limitMag : point.mag;
}

export function countPoints(points: readonly LightCurvePoint[]): LightCurveCounts {
  const counts = { plotted: 0, detections: 0, upperLimits: 0, forced: 0, unplottable: 0 };
  for (const point of points) {
    if (plottedMag(point) === null) {
      counts.unplottable += 1;
      continue;
    }
    counts.plotted += 1;
    if (point.kind === 'upper-limit') counts.upperLimits += 1;
    else if (point.kind === 'forced') counts.forced += 1;
    else counts.detections += 1;
  }
  return counts;
}

/** Draws the light curve into `container` (its width); returns the chart, to resize or destroy. */
export function drawLightCurve(
  container: HTMLElement,
  points: readonly LightCurvePoint[],
  height = 320,
): uPlot {
  const drawable = points.filter((p) => plottedMag(p) !== null);
  const xs = [...new Set(drawable.map((p) => jdToUnixSeconds(p.jd)))].sort((a, b) => a - b);
  const xIndex = new Map(xs.map((x, i) => [x, i]));
  const plans = new Map<string, SeriesPlan>();
  for (const point of drawable) {
    const kind = KINDS.find((k) => k.kind === point.kind) ?? KINDS[0];
    const key = `${point.band}/${kind.kind}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      plan = { band: point.band, kind, values: new Map() };
      plans.set(key, plan);
    }
    plan.values.set(xIndex.get(jdToUnixSeconds(point.jd))!, {
      mag: plottedMag(point)!,
      err: point.kind === 'upper-limit' ? null : point.magErr,
    });
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
    { label: 'time (UTC)' },
    ...ordered.map((plan): uPlot.Series => {
      const color = BAND_COLORS[plan.band] ?? OTHER_BAND;
      return {
        label: `${plan.band}${plan.kind.suffix}`,
        scale: 'mag',
        stroke: color,
        // Points only: a light curve is sampled, not continuous.
        paths: () => null,
        points: {
          show: true,
          size: plan.kind.size,
          width: 1.5,
          stroke: color,
          fill: plan.kind.open ? '#ffffff' : color,
        },
        value: (_u, v) => (v === null ? '–' : v.toFixed(2)),
      };
    }),
  ];

  const drawErrorBars = (u: uPlot) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ordered.forEach((plan, s) => {
      if (plan.kind.open || u.series[s + 1]?.show === false) return;
      ctx.strokeStyle = BAND_COLORS[plan.band] ?? OTHER_BAND;
      ctx.beginPath();
      for (const [i, { mag, err }] of plan.values) {
        if (err === null || !(err > 0)) continue;
        const x = u.valToPos(xs[i]!, 'x', true);
        ctx.moveTo(x, u.valToPos(mag - err, 'mag', true));
        ctx.lineTo(x, u.valToPos(mag + err, 'mag', true));
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
  const pad = Math.max(0.3, (hi - lo) * 0.1);

  return new uPlot(
    {
      width: Math.max(320, container.clientWidth),
      height,
      scales: {
        x: {
          time: true,
          // A single epoch: a day either side, instead of a zero-width axis.
          range: (_u, min, max) => (min === max ? [min - 86400, max + 86400] : [min, max]),
        },
        // Magnitudes: brighter (smaller) up; the range includes the error bars.
        mag: { dir: -1, range: () => (errors.length === 0 ? [15, 21] : [lo - pad, hi + pad]) },
      },
      axes: [{}, { scale: 'mag', label: 'magnitude', size: 56 }],
      series,
      // Dates in UTC, as observers log them, whatever the browser's time zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { live: true },
      cursor: { points: { show: false } },
      hooks: { draw: [drawErrorBars] },
    },
    data,
    container,
  );
}
