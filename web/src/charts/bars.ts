// Grouped bar charts (uPlot's own bars path builder) over categories: nights, classes. The x scale is the
// category index and the axis shows the category names; each series' bars sit side by side within a category.
// On a log scale (counts spanning decades) an empty bar is left out (log 0) and bars rise from below 1. Category
// names are turned and thinned out when they would overlap, and the axis is as tall as the longest name.
import uPlot from 'uplot';

/** Width of a category's group of bars, in categories. */
const GROUP_WIDTH = 0.7;

export interface BarSeries {
  label: string;
  color: string;
  values: number[];
}

export function drawBars(
  container: HTMLElement,
  categories: readonly string[],
  bars: readonly BarSeries[],
  options: { height?: number; xLabel?: string; yLabel?: string; log?: boolean } = {},
): uPlot {
  const log = options.log === true;
  const longest = Math.max(1, ...categories.map((c) => c.length));
  // About 6.5 px per character of the axis font; a category is as wide as the plot over their number.
  const plotWidth = Math.max(320, container.clientWidth) - 80;
  const perCategory = plotWidth / Math.max(1, categories.length);
  const rotate = longest * 6.5 + 8 > perCategory;
  // Turned labels need a line's height (about 14 px) each: keep every `step`-th.
  const step = rotate ? Math.max(1, Math.ceil(15 / perCategory)) : 1;
  const axisSize = rotate
    ? Math.min(200, Math.round(20 + longest * 6.5 * Math.sin((50 * Math.PI) / 180)))
    : 32;
  const xs = categories.map((_, i) => i);
  const width = GROUP_WIDTH / Math.max(1, bars.length);
  const series: uPlot.Series[] = [
    { label: options.xLabel ?? 'category', value: (_u, v) => (v === null ? '–' : (categories[v] ?? '')) },
    ...bars.map((bar, b): uPlot.Series => ({
      label: bar.label,
      stroke: bar.color,
      fill: `${bar.color}cc`,
      width: 1,
      // Side by side within a category: each series' bar starts `b` bar widths right of the group's left
      // edge; positions and width are in x-scale units (category indexes), so they follow resizing.
      paths: uPlot.paths.bars!({
        disp: {
          x0: { unit: 1, values: () => xs.map((x) => x - GROUP_WIDTH / 2 + width * b) },
          size: { unit: 1, values: () => [width * 0.9] },
        },
      }),
      points: { show: false },
    })),
  ];
  return new uPlot(
    {
      width: Math.max(320, container.clientWidth),
      height: options.height ?? 260,
      scales: {
        x: { time: false, range: () => [-0.6, categories.length - 0.4] },
        y: log
          ? {
              distr: 3,
              log: 10,
              range: (_u, _min, max) => [0.8, 10 ** Math.ceil(Math.log10(Math.max(10, max) * 1.5))],
            }
          : { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [
        {
          values: (_u, splits) =>
            splits.map((v) => (Number.isInteger(v) && v % step === 0 ? (categories[v] ?? '') : '')),
          splits: () => xs,
          rotate: rotate ? -50 : 0,
          size: axisSize,
          gap: 4,
          font: '12px system-ui, sans-serif',
        },
        {
          label: options.yLabel === undefined ? undefined : `${options.yLabel}${log ? ' (log scale)' : ''}`,
          size: 60,
          font: '12px system-ui, sans-serif',
          ...(log
            ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => (v >= 1 ? String(v) : '')) }
            : {}),
        },
      ],
      series,
      cursor: { points: { show: false } },
    },
    [xs, ...bars.map((bar) => (log ? bar.values.map((v) => (v > 0 ? v : null)) : bar.values))],
    container,
  );
}
