// The fink-science wheel's catalogs (VSX, 4LAC DR3, Mangrove) loaded with Fink's radii into the real ClickHouse,
// matched against the positions fink-science's own doctests use (ztf/xmatch/processor.py).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalogs/reader.ts';
import { finkWheelCatalogs, loadCatalogFile, wheelCatalogDir } from '../../src/cli/catalog-command.ts';
import { ClickHouseCatalogStore } from '../../src/storage/catalog-store.ts';
import type { CatalogMatch } from '../../src/storage/catalog-store.ts';
import { createMigratedDatabase } from '../helpers/clickhouse.ts';
import type { TestDatabase } from '../helpers/clickhouse.ts';
import { testConfig } from '../helpers/context.ts';
import { finkModels } from '../helpers/fink-models.ts';

let db: TestDatabase;
let store: ClickHouseCatalogStore;
const loaded: Record<string, number> = {};

beforeAll(async () => {
  await finkModels();
  db = await createMigratedDatabase('fink_catalogs');
  const config = { ...testConfig(), clickhouse: db.config };
  for (const request of finkWheelCatalogs(wheelCatalogDir(config))) {
    loaded[request.name] = (await loadCatalogFile(config, request)).rows;
  }
  store = new ClickHouseCatalogStore(db.client);
}, 600_000);

afterAll(async () => {
  await db?.drop();
});

function byCatalog(matches: CatalogMatch[]): Record<string, CatalogMatch> {
  return Object.fromEntries(matches.map((m) => [m.catalog, m]));
}

describe("the fink-science wheel's catalogs", () => {
  it('load whole, with the radii Fink uses', async () => {
    expect(loaded).toEqual({ vsx: 1_933_544, x4lac: 3814, mangrove: 295_341 });
    const radii = Object.fromEntries((await store.list()).map((c) => [c.name, c.radiusArcsec]));
    expect(radii).toEqual({ vsx: 1.5, x4lac: 60, mangrove: 60 });
  });

  it("4LAC: fink-science's doctest source matches, its neighbours at 1' do not", async () => {
    const [exact, near, far, other] = await store.match([
      { ra: 0.3126, dec: 47.6859 },
      { ra: 0.3126, dec: 47.6859 + 50 / 3600 },
      { ra: 0.3126, dec: 47.6859 + 70 / 3600 },
      { ra: 0.31820833, dec: 29.59277778 },
    ]);
    expect(byCatalog(exact!).x4lac).toMatchObject({ sourceId: '4FGL J0001.2+4741', type: null });
    expect(byCatalog(exact!).x4lac!.distanceArcsec).toBeLessThan(0.1);
    expect(byCatalog(near!).x4lac?.sourceId).toBe('4FGL J0001.2+4741');
    expect(byCatalog(far!).x4lac).toBeUndefined();
    expect(byCatalog(other!).x4lac).toBeUndefined();
  });

  it("Mangrove: the doctest's NGC 5055 position matches the NGC5055 row", async () => {
    const [match] = await store.match([{ ra: 198.955536, dec: 42.029289 }]);
    const mangrove = byCatalog(match!).mangrove;
    expect(mangrove).toBeDefined();
    const file = await openCatalog(finkWheelCatalogs(wheelCatalogDir(testConfig()))[2]!.file as string, {
      ra: 'ra',
      dec: 'dec',
      extra: ['HyperLEDA_name'],
    });
    let name: unknown;
    let row = 0;
    for await (const source of file.sources()) {
      row++;
      if (String(row) === mangrove!.sourceId) {
        name = source.extra?.HyperLEDA_name;
        break;
      }
    }
    expect(name).toBe('NGC5055');
  });

  it('VSX: a source matches within 1.5" with its type, trimmed; 2" away does not', async () => {
    const [at, beyond] = await store.match([
      { ra: 256.31725, dec: -89.86217 },
      { ra: 256.31725, dec: -89.86217 + 2 / 3600 },
    ]);
    expect(byCatalog(at!).vsx).toMatchObject({ type: 'VAR' });
    expect(byCatalog(beyond!).vsx).toBeUndefined();
  });
});
