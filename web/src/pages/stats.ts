// Statistics: alerts and objects per observing night (nightStats over a range of nights) and per class
// (classes), as bar charts (linear or log scale) with their numbers in a table underneath. Each chart states the totals of the data it
// draws, computed from the chart's own series.
import type uPlot from 'uplot';
import { describeError, gql } from '../api.ts';
import { drawBars, type BarSeries } from '../charts/bars.ts';
import { fieldValue, h, replace, type Cleanup } from '../dom.ts';
import { todayUtc } from '../format.ts';

/** Before the first survey the broker serves (ZTF started in 2018). */
const FIRST_NIGHT = '2017-01-01';
const ALERTS_COLOR = '#1f77b4';
const OBJECTS_COLOR = '#ff7f0e';

interface ClassCount {
  label: string;
  alerts: number;
  objects: number;
}

interface NightStats {
  night: string;
  alerts: number;
  objects: number;
  byClass: ClassCount[];
}

const STATS_QUERY = `query Stats($from: String!, $to: String!) {
  nightStats(fromNight: $from, toNight: $to) { night alerts objects byClass { label alerts objects } }
  classes { label alerts objects }
}`;

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

export function renderStats(main: HTMLElement): Cleanup {
  let closed = false;
  let charts: uPlot[] = [];
  const content = h('div', { id: 'stats-content' });
  const form = h(
    'form',
    { id: 'stats-form', class: 'row' },
    h('label', {}, 'From night ', h('input', { name: 'from', type: 'date', value: FIRST_NIGHT })),
    h('label', {}, 'to ', h('input', { name: 'to', type: 'date', value: todayUtc() })),
    h(
      'label',
      {},
      h('input', { type: 'checkbox', name: 'log', id: 'stats-log', onchange: () => load() }),
      ' log scale',
    ),
    h('button', { type: 'submit' }, 'Show'),
  );
  const destroyCharts = () => {
    for (const chart of charts) chart.destroy();
    charts = [];
  };

  const load = () => {
    const from = fieldValue(form, 'from') ?? FIRST_NIGHT;
    const to = fieldValue(form, 'to') ?? todayUtc();
    const log = (form.elements.namedItem('log') as HTMLInputElement | null)?.checked === true;
    replace(content, h('p', { class: 'muted' }, 'Loading…'));
    gql<{ nightStats: NightStats[]; classes: ClassCount[] }>(STATS_QUERY, { from, to }).then(
      ({ nightStats, classes }) => {
        if (closed) return;
        destroyCharts();
        const byAlerts = [...classes].sort((a, b) => b.alerts - a.alerts);
        const nightsBox = h('div', { class: 'chart', id: 'chart-nights' });
        const classesBox = h('div', { class: 'chart', id: 'chart-classes' });
        replace(
          content,
          h(
            'section',
            {},
            h('h2', {}, `Per night, ${from} to ${to}`),
            nightStats.length === 0 ? h('p', { class: 'muted' }, 'No alert in these nights.') : nightsBox,
            totals('nights-totals', nightStats.length, 'nights', nightStats),
            numbersTable(
              'nights-table',
              'night',
              nightStats.map((n) => ({ label: n.night, alerts: n.alerts, objects: n.objects })),
            ),
          ),
          h(
            'section',
            {},
            h('h2', {}, 'Per class (whole archive)'),
            byAlerts.length === 0 ? h('p', { class: 'muted' }, 'No class yet.') : classesBox,
            totals('classes-totals', byAlerts.length, 'classes', byAlerts),
            numbersTable('classes-table', 'class', byAlerts),
          ),
        );
        const series = (rows: readonly { alerts: number; objects: number }[]): BarSeries[] => [
          { label: 'alerts', color: ALERTS_COLOR, values: rows.map((r) => r.alerts) },
          { label: 'objects', color: OBJECTS_COLOR, values: rows.map((r) => r.objects) },
        ];
        if (nightStats.length > 0) {
          charts.push(
            drawBars(
              nightsBox,
              nightStats.map((n) => n.night),
              series(nightStats),
              { xLabel: 'night', yLabel: 'count', log },
            ),
          );
          markTotals(nightsBox, charts.at(-1)!);
          nightsBox.dataset.scale = log ? 'log' : 'linear';
        }
        if (byAlerts.length > 0) {
          charts.push(
            drawBars(
              classesBox,
              byAlerts.map((c) => c.label),
              series(byAlerts),
              { xLabel: 'class', yLabel: 'count', height: 340, log },
            ),
          );
          markTotals(classesBox, charts.at(-1)!);
          classesBox.dataset.scale = log ? 'log' : 'linear';
        }
      },
      (error: unknown) => {
        if (!closed) replace(content, h('p', { class: 'error' }, describeError(error)));
      },
    );
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });

  const resize = new ResizeObserver(() => {
    for (const chart of charts)
      chart.setSize({ width: chart.root.parentElement?.clientWidth ?? 600, height: chart.height });
  });
  resize.observe(main);

  replace(main, h('h1', {}, 'Statistics'), form, content);
  load();
  return () => {
    closed = true;
    resize.disconnect();
    destroyCharts();
  };
}

/** The sums of what a chart draws, on its element: what the page states is what was plotted. */
function markTotals(box: HTMLElement, chart: uPlot): void {
  const [, alerts, objects] = chart.data;
  box.dataset.alerts = String(sum(Array.from(alerts ?? [], (v) => v ?? 0)));
  box.dataset.objects = String(sum(Array.from(objects ?? [], (v) => v ?? 0)));
}

function totals(
  id: string,
  count: number,
  what: string,
  rows: readonly { alerts: number; objects: number }[],
): HTMLElement {
  return h(
    'p',
    { class: 'totals', id },
    `${count} ${what} · alerts: `,
    h('strong', { class: 'total-alerts' }, String(sum(rows.map((r) => r.alerts)))),
    ' · objects (summed over the bars; an object seen in several counts in each): ',
    h('strong', { class: 'total-objects' }, String(sum(rows.map((r) => r.objects)))),
  );
}

function numbersTable(id: string, first: string, rows: readonly ClassCount[]): HTMLElement {
  return h(
    'details',
    {},
    h('summary', {}, 'Numbers'),
    h(
      'table',
      { class: 'compact', id },
      h('thead', {}, h('tr', {}, h('th', {}, first), h('th', {}, 'alerts'), h('th', {}, 'objects'))),
      h(
        'tbody',
        {},
        ...rows.map((r) =>
          h(
            'tr',
            {},
            h('td', {}, r.label),
            h('td', { class: 'num' }, String(r.alerts)),
            h('td', { class: 'num' }, String(r.objects)),
          ),
        ),
      ),
    ),
  );
}
