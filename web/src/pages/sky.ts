// Sky map: the stored alerts counted per HEALPix cell (skyMap), of one night and/or one class, drawn offline on a
// canvas in the Mollweide projection (no map tiles: the broker's machines may have no network). Each canvas pixel
// is projected back to the sky and coloured by the count of the cell it falls in, so cells keep their true shapes.
// A click on a cell opens the search page with a cone search at the cell's centre, wide enough to cover it (up to
// the server's 1-degree cone limit).
import * as healpix from '@hscmap/healpix';
import { describeError, gql } from '../api.ts';
import { fieldValue, h, replace, type Cleanup } from '../dom.ts';
import { loadClassLabels } from '../filter-form.ts';
import { fromCanvas, project, toCanvas, unproject } from '../sky-projection.ts';

const SKY_QUERY = `query SkyMap($order: Int, $night: String, $label: String) {
  skyMap(order: $order, night: $night, label: $label) { order nside cellArcsec alerts cells { pixel ra dec alerts } }
}`;

/** The server's default server.maxConeRadiusArcsec: a click's cone is at most this wide. */
const MAX_CONE_ARCSEC = 3600;
const ORDERS = [4, 5, 6];
const DEFAULT_ORDER = 6;
const MAX_WIDTH = 1200;
const DEG = Math.PI / 180;

interface SkyCell {
  pixel: number;
  ra: number;
  dec: number;
  alerts: number;
}

interface SkyMap {
  order: number;
  nside: number;
  cellArcsec: number;
  alerts: number;
  cells: SkyCell[];
}

/** A cell's colour: blue (one alert) through purple and red to dark red (the busiest cell), on a log scale. */
function colour(count: number, max: number): [number, number, number] {
  const t = max <= 1 ? 1 : Math.log(count) / Math.log(max);
  const stops: [number, number, number][] = [
    [33, 113, 181],
    [106, 81, 163],
    [203, 24, 29],
    [103, 0, 13],
  ];
  const scaled = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(scaled);
  const f = scaled - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** The cell under a canvas point, or null outside the sky's ellipse. */
function cellAt(
  map: SkyMap,
  px: number,
  py: number,
  width: number,
): { pixel: number; ra: number; dec: number } | null {
  const sky = unproject(fromCanvas(px, py, width).x, fromCanvas(px, py, width).y);
  if (sky === null) return null;
  const pixel = healpix.ang2pix_nest(map.nside, (90 - sky.dec) * DEG, sky.ra * DEG);
  return { pixel, ...sky };
}

function draw(canvas: HTMLCanvasElement, map: SkyMap): void {
  const width = canvas.width;
  const height = canvas.height;
  const ctx = canvas.getContext('2d')!;
  const counts = new Map(map.cells.map((cell) => [cell.pixel, cell.alerts]));
  const max = Math.max(1, ...map.cells.map((cell) => cell.alerts));
  const image = ctx.createImageData(width, height);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const at = cellAt(map, px + 0.5, py + 0.5, width);
      if (at === null) continue;
      const count = counts.get(at.pixel);
      const [r, g, b] = count === undefined ? [232, 236, 240] : colour(count, max);
      const offset = (py * width + px) * 4;
      image.data[offset] = r;
      image.data[offset + 1] = g;
      image.data[offset + 2] = b;
      image.data[offset + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);

  // Graticule: meridians every 2 h of RA, parallels every 30° of Dec, with labels.
  ctx.strokeStyle = 'rgba(60, 70, 80, 0.35)';
  ctx.lineWidth = 1;
  const line = (points: { ra: number; dec: number }[]) => {
    ctx.beginPath();
    points.forEach((point, i) => {
      const { px, py } = toCanvas(project(point.ra, point.dec), width);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
  };
  const steps = Array.from({ length: 181 }, (_, i) => i - 90);
  for (let ra = 30; ra < 360; ra += 30) line(steps.map((dec) => ({ ra, dec })));
  // RA 0° is both edges of the ellipse: its meridian drawn just inside each.
  line(steps.map((dec) => ({ ra: 0.0001, dec })));
  line(steps.map((dec) => ({ ra: 359.9999, dec })));
  const ras = Array.from({ length: 361 }, (_, i) => Math.min(359.9999, Math.max(0.0001, 360 - i)));
  for (const dec of [-60, -30, 0, 30, 60]) line(ras.map((ra) => ({ ra, dec })));
  ctx.fillStyle = '#33404d';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (let hours = 2; hours < 24; hours += 2) {
    const { px, py } = toCanvas(project(hours * 15, 0), width);
    ctx.fillText(`${hours}h`, px, py - 3);
  }
  ctx.textAlign = 'left';
  for (const dec of [-60, -30, 30, 60]) {
    const { px, py } = toCanvas(project(359.9999, dec), width);
    ctx.fillText(`${dec > 0 ? '+' : ''}${dec}°`, px + 4, py + 4);
  }
}

/** The cone a click on a cell opens: the cell's centre, a radius of one cell width (capped at the server's). */
export function coneForCell(map: SkyMap, cell: SkyCell): { ra: number; dec: number; radius: number } {
  return {
    ra: Number(cell.ra.toFixed(6)),
    dec: Number(cell.dec.toFixed(6)),
    radius: Math.round(Math.min(MAX_CONE_ARCSEC, map.cellArcsec)),
  };
}

export function renderSky(main: HTMLElement): Cleanup {
  let closed = false;
  const form = h(
    'form',
    { id: 'sky-form', class: 'row' },
    h('label', {}, 'Night ', h('input', { name: 'night', type: 'date' })),
    h('label', {}, 'Class ', h('select', { name: 'label' }, h('option', { value: '' }, 'any'))),
    h(
      'label',
      {},
      'HEALPix order ',
      h(
        'select',
        { name: 'order' },
        ...ORDERS.map((order) =>
          h('option', { value: order, selected: order === DEFAULT_ORDER }, String(order)),
        ),
      ),
    ),
    h('button', { type: 'submit' }, 'Draw'),
  );
  void loadClassLabels(gql).then((labels) => {
    const select = form.elements.namedItem('label');
    if (select instanceof HTMLSelectElement)
      for (const label of labels) select.appendChild(h('option', { value: label }, label));
  });
  const status = h('p', { class: 'muted small', id: 'sky-status' }, 'Loading…');
  const hover = h('p', { class: 'small', id: 'sky-hover' }, '\u00a0');
  const canvas = h('canvas', { id: 'sky-map', class: 'sky-map' });
  const box = h('div', { class: 'sky-box' }, canvas);
  let current: SkyMap | null = null;

  const cellUnder = (event: MouseEvent) => {
    if (current === null) return null;
    const rect = canvas.getBoundingClientRect();
    const at = cellAt(current, event.clientX - rect.left, event.clientY - rect.top, rect.width);
    if (at === null) return null;
    return { at, cell: current.cells.find((c) => c.pixel === at.pixel) ?? null };
  };
  canvas.addEventListener('mousemove', (event) => {
    const found = cellUnder(event);
    canvas.style.cursor = found?.cell ? 'pointer' : 'default';
    hover.textContent =
      found === null
        ? '\u00a0'
        : `RA ${found.at.ra.toFixed(2)}°, Dec ${found.at.dec.toFixed(2)}° · ` +
          (found.cell === null
            ? 'no alert in this cell'
            : `${found.cell.alerts} alerts in this cell: click for a cone search`);
  });
  canvas.addEventListener('click', (event) => {
    const found = cellUnder(event);
    if (current === null || found === null || found.cell === null) return;
    const cone = coneForCell(current, found.cell);
    location.hash = `#/search?ra=${cone.ra}&dec=${cone.dec}&radius=${cone.radius}`;
  });

  const load = () => {
    const night = fieldValue(form, 'night');
    const label = fieldValue(form, 'label');
    const order = Number(fieldValue(form, 'order') ?? DEFAULT_ORDER);
    status.textContent = 'Loading…';
    delete canvas.dataset.alerts;
    gql<{ skyMap: SkyMap }>(SKY_QUERY, { order, night: night ?? null, label: label ?? null }).then(
      ({ skyMap }) => {
        if (closed) return;
        current = skyMap;
        const width = Math.min(MAX_WIDTH, Math.max(360, Math.floor(box.clientWidth)));
        canvas.width = width;
        canvas.height = width / 2;
        canvas.style.width = `${width}px`;
        canvas.style.height = `${width / 2}px`;
        draw(canvas, skyMap);
        const radius = Math.round(Math.min(MAX_CONE_ARCSEC, skyMap.cellArcsec));
        replace(
          status,
          `${skyMap.alerts} alerts in ${skyMap.cells.length} cells of ${(skyMap.cellArcsec / 3600).toFixed(2)}° ` +
            `(order ${skyMap.order})${night === undefined ? ', every night' : `, night ${night}`}` +
            `${label === undefined ? '' : `, class ${label}`}. Colour: alerts per cell, log scale, blue for one ` +
            `to dark red for ${Math.max(0, ...skyMap.cells.map((cell) => cell.alerts))}. ` +
            `A click opens a cone search of ${radius}″ at the cell's centre` +
            (skyMap.cellArcsec > MAX_CONE_ARCSEC ? ' (the server’s widest cone: part of the cell).' : '.'),
        );
        // What was drawn, for whoever checks it (the browser tests do).
        canvas.dataset.alerts = String(skyMap.cells.reduce((sum, cell) => sum + cell.alerts, 0));
        canvas.dataset.cells = String(skyMap.cells.length);
      },
      (error: unknown) => {
        if (!closed) replace(status, h('span', { class: 'error' }, describeError(error)));
      },
    );
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });

  replace(main, h('h1', {}, 'Sky map of the stored alerts'), form, h('section', {}, status, box, hover));
  load();
  return () => {
    closed = true;
  };
}
