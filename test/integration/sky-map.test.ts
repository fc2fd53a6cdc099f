// skyMap over the real ZTF alerts the pipeline stored: every alert counted once, in the cell its position falls in
// (computed here from the stored ra/dec, independently of the hpx column), for the whole archive, one night and
// one class; bad arguments are BAD_USER_INPUT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { angularDistanceArcsec } from '../../src/sky/angles.ts';
import { healpixPixel } from '../../src/sky/healpix.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';

let api: ApiSandbox;

beforeAll(async () => {
  api = await createApiSandbox('skymap', { withAlerts: true });
}, 300_000);

afterAll(async () => {
  await api?.stop();
});

interface SkyMap {
  order: number;
  nside: number;
  cellArcsec: number;
  alerts: number;
  cells: { pixel: number; ra: number; dec: number; alerts: number }[];
}

interface StoredAlert {
  ra: number;
  dec: number;
  night: string;
  class: string;
}

const SKY_MAP = `query($order: Int, $night: String, $label: String) {
  skyMap(order: $order, night: $night, label: $label) { order nside cellArcsec alerts cells { pixel ra dec alerts } }
}`;

async function skyMap(variables: Record<string, unknown>): Promise<SkyMap> {
  const response = await api.query(SKY_MAP, variables);
  expect(response.errors).toBeUndefined();
  return response.data!.skyMap as SkyMap;
}

/** Alerts per cell as computed here from the stored positions. */
function expectedCells(alerts: readonly StoredAlert[], order: number): Map<number, number> {
  const cells = new Map<number, number>();
  for (const alert of alerts) {
    const pixel = healpixPixel(order, alert.ra, alert.dec);
    cells.set(pixel, (cells.get(pixel) ?? 0) + 1);
  }
  return cells;
}

const asMap = (map: SkyMap) => new Map(map.cells.map((cell) => [cell.pixel, cell.alerts]));

describe('skyMap', () => {
  let stored: StoredAlert[];

  beforeAll(async () => {
    stored = await queryRows<StoredAlert>(
      api.pipeline.db.client,
      sql`SELECT ra, dec, toString(night) AS night, class FROM alerts FINAL`,
    );
  });

  it.each([3, 5, 6])(
    'counts every stored alert once, in the cell of its position, at order %i',
    async (order) => {
      const map = await skyMap({ order });
      expect(map.order).toBe(order);
      expect(map.nside).toBe(2 ** order);
      expect(map.alerts).toBe(stored.length);
      expect(asMap(map)).toEqual(expectedCells(stored, order));
      // The centre given for a cell is within a cell width of every alert counted in it.
      for (const alert of stored) {
        const cell = map.cells.find((c) => c.pixel === healpixPixel(order, alert.ra, alert.dec))!;
        expect(angularDistanceArcsec(alert.ra, alert.dec, cell.ra, cell.dec)).toBeLessThan(map.cellArcsec);
      }
    },
  );

  it('counts one night, one class, and both', async () => {
    const nights = [...new Set(stored.map((a) => a.night))];
    const classes = [...new Set(stored.map((a) => a.class))];
    expect(nights.length).toBeGreaterThan(1);
    expect(classes.length).toBeGreaterThan(1);
    const night = nights[0]!;
    const label = stored.filter((a) => a.night === night)[0]!.class;
    const cases: [Record<string, string>, StoredAlert[]][] = [
      [{ night }, stored.filter((a) => a.night === night)],
      [{ label }, stored.filter((a) => a.class === label)],
      [{ night, label }, stored.filter((a) => a.night === night && a.class === label)],
      [{ night: '2001-01-01' }, []],
    ];
    for (const [variables, alerts] of cases) {
      const map = await skyMap({ order: 4, ...variables });
      expect(map.alerts, JSON.stringify(variables)).toBe(alerts.length);
      expect(asMap(map)).toEqual(expectedCells(alerts, 4));
    }
  });

  it.each([
    [{ order: 7 }, 'order'],
    [{ order: -1 }, 'order'],
    [{ night: '2023-13-45' }, 'night'],
    [{ label: '' }, 'label'],
  ])('refuses %j as BAD_USER_INPUT', async (variables, argument) => {
    const response = await api.query(SKY_MAP, variables);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  });
});
