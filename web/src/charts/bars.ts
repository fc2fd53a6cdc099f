// Grouped bar charts (uPlot's own bars path builder) over categories: nights, classes. The x scale is the
// category index and the axis shows the category names; each series' bars sit side by side within a category.
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
  options: { height?: number; xLabel?: string; yLabel?: string } = {},
): uPlot {
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
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [
        {
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? (categories[v] ?? '') : '')),
          splits: () => xs,
          rotate: categories.length > 8 ? -40 : 0,
          size: categories.length > 8 ? 90 : 40,
          gap: 4,
        },
        { label: options.yLabel, size: 56 },
      ],
      series,
      cursor: { points: { show: false } },
    },
    [xs, ...bars.map((bar) => bar.values)],
    container,
  );
}
