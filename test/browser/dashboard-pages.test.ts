// The dashboard's object page, search, sky map and statistics in Debian's Chromium, against the server in this
// process over a database the real pipeline filled from the real ZTF alerts and the real Rubin alerts. Each test
// checks what the page shows against what ClickHouse holds, and saves a screenshot (test-output/screenshots).
// The parts that need the REST API (/api/v1: downloads, the resolver) are tested in downloads.test.ts.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRubinParquet, rubinMessages } from '../../datasim/rubin.ts';
import { loadRubinSchema, rubinSchemaId } from '../../src/pipeline/decode/rubin-avro.ts';
import { rubinQualityFailure } from '../../src/pipeline/steps/quality.step.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql, type Sql } from '../../src/storage/sql.ts';
import { formatSexagesimal, parseDec, parseRa } from '../../web/src/coords.ts';
import { project, toCanvas } from '../../web/src/sky-projection.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { launchChromium, openPage, screenshot, type BrowserErrors } from '../helpers/browser.ts';
import { sharedPath } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

let api: ApiSandbox;
let browser: Browser;

const rows = <T>(query: Sql) => queryRows<T>(api.pipeline.db.client, query);
const count = async (query: Sql) => Number((await rows<{ n: string }>(query))[0]?.n);
const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? '';

beforeAll(async () => {
  [api, browser] = await Promise.all([createApiSandbox('pages', { withAlerts: true }), launchChromium()]);
  // The real Rubin alerts too, on the same upstream topic (the decoder tells the surveys apart).
  const schema = loadRubinSchema(sharedPath('datasim', 'lsst', 'schema', '10', '0'));
  const alerts = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'), {
    schema,
  });
  const passing = alerts.filter((a) => rubinQualityFailure(a.diaSource) === null).length;
  await api.pipeline.publish(rubinMessages(alerts, rubinSchemaId(schema.version), schema));
  await waitFor(
    async () => (await count(sql`SELECT count() AS n FROM alerts FINAL WHERE survey = 'lsst'`)) === passing,
    120_000,
  );
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

async function open(hash: string): Promise<{ page: Page; errors: BrowserErrors }> {
  const opened = await openPage(browser);
  await opened.page.goto(`${api.url}/${hash}`);
  return opened;
}

describe('object page', () => {
  it('draws the light curve on MJD with the UTC date on hover, upper limits apart, links out and a history that fits', async () => {
    const [object] = await rows<{ object_id: string; n: string; ul: string }>(
      sql`SELECT object_id, count() AS n, countIf(kind = 'upper-limit') AS ul FROM lightcurve FINAL
          WHERE survey = 'ztf' AND ((kind = 'upper-limit' AND limit_mag IS NOT NULL) OR (kind != 'upper-limit' AND mag IS NOT NULL))
          GROUP BY object_id HAVING ul > 0 ORDER BY n DESC, object_id LIMIT 1`,
    );
    const objectId = object!.object_id;
    const [stored] = await rows<{ ra: number; dec: number }>(
      sql`SELECT ra, dec FROM objects FINAL WHERE object_id = ${objectId}`,
    );
    const history = await count(sql`SELECT count() AS n FROM alerts FINAL WHERE object_id = ${objectId}`);
    const { page, errors } = await open(`#/object/${objectId}`);
    await page.waitForSelector('#light-curve[data-points] canvas');
    expect(await page.getAttribute('#light-curve', 'data-points')).toBe(object!.n);

    // Upper limits are their own series (drawn as down-pointing triangles), one per band that has them.
    const legend = await page.locator('#light-curve .u-legend .u-series .u-label').allTextContents();
    expect(legend[0]).toBe('time');
    expect(legend.some((label) => label.endsWith(' upper limit'))).toBe(true);
    // Hovering the plot shows the MJD and the UTC date of the cursor.
    const box = (await page.locator('#light-curve .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect
      .poll(() => page.locator('#light-curve .u-legend .u-series').first().locator('.u-value').textContent())
      .toMatch(/^MJD \d{5}\.\d{5} · \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);

    // The position in sexagesimal too, and links out at the object's position and to its pages elsewhere.
    expect(await text(page, '.facts')).toContain(formatSexagesimal(stored!.ra, stored!.dec));
    const links = await page.locator('#links-out a').evaluateAll((as) =>
      // Runs in the page: each link carries its key and its address.
      as.map((a) => {
        const link = a as unknown as { dataset: { link: string }; getAttribute(name: string): string | null };
        return [link.dataset.link, link.getAttribute('href')] as const;
      }),
    );
    expect(links.map(([key]) => key)).toEqual([
      'tns',
      'simbad',
      'aladin',
      'legacy',
      'ps1',
      'fink',
      'alerce',
      'lasair',
    ]);
    expect(links.find(([key]) => key === 'fink')![1]).toBe(`https://fink-portal.org/${objectId}`);
    expect(links.find(([key]) => key === 'legacy')![1]).toContain(`ra=${stored!.ra.toFixed(6)}`);
    expect(await page.locator('#light-curve-download a').count()).toBe(3);

    // The classification history, opened, fits in its panel: no horizontal scrolling.
    await page.locator('#classification details summary').click();
    expect(await page.locator('#classification-history tbody tr').count()).toBe(history);
    const overflow = await page.locator('#classification-history-wrap').evaluate((el) => {
      const box = el as unknown as { scrollWidth: number; clientWidth: number };
      return box.scrollWidth - box.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    // Nor does the page scroll sideways at laptop width (the classifiers' model paths used to widen it).
    expect(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    ).toBeLessThanOrEqual(0);
    await screenshot(page, 'object-mjd');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it('links a solar-system object to MPC and SkyBoT', async () => {
    const [sso] = await rows<{ object_id: string; ss_name: string }>(
      sql`SELECT object_id, ss_name FROM objects FINAL WHERE ss_name != '' ORDER BY object_id LIMIT 1`,
    );
    const { page, errors } = await open(`#/object/${sso!.object_id}`);
    await page.waitForSelector('#links-out');
    const mpc = await page.getAttribute('#links-out a[data-link="mpc"]', 'href');
    expect(mpc).toBe(
      `https://minorplanetcenter.net/db_search/show_object?object_id=${encodeURIComponent(sso!.ss_name)}`,
    );
    expect(await page.getAttribute('#links-out a[data-link="skybot"]', 'href')).toContain('-loc=I41');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it('draws a Rubin light curve in flux (nJy), negative fluxes included', async () => {
    const [object] = await rows<{ object_id: string; flux: string }>(
      sql`SELECT object_id, countIf(flux IS NOT NULL AND kind != 'upper-limit') AS flux FROM lightcurve FINAL
          WHERE survey = 'lsst' GROUP BY object_id ORDER BY toUInt64(flux) DESC, object_id LIMIT 1`,
    );
    expect(Number(object!.flux)).toBeGreaterThan(0);
    const { page, errors } = await open(`#/object/${object!.object_id}`);
    await page.waitForSelector('#light-curve[data-points] canvas');
    await page.check('#magnitude-scale input[value="flux"]');
    await expect.poll(() => page.getAttribute('#light-curve', 'data-scale')).toBe('flux');
    await page.waitForSelector('#light-curve canvas');
    expect(await page.getAttribute('#light-curve', 'data-points')).toBe(object!.flux);
    expect(await text(page, '#light-curve-counts')).toMatch(new RegExp(`^${object!.flux} points`));
    expect(await text(page, '#links-out a[data-link="lasair"]')).toBe('Lasair');
    expect(await page.getAttribute('#links-out a[data-link="lasair"]', 'href')).toContain(
      'lasair.lsst.ac.uk',
    );
    expect(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    ).toBeLessThanOrEqual(0);
    await screenshot(page, 'object-rubin-flux');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});

describe('search', () => {
  it('runs a cone search from sexagesimal positions, typed in two boxes or pasted whole', async () => {
    const [target] = await rows<{ object_id: string; ra: number; dec: number }>(
      sql`SELECT object_id, ra, dec FROM objects FINAL WHERE survey = 'ztf' ORDER BY object_id LIMIT 1`,
    );
    const [ra, dec] = formatSexagesimal(target!.ra, target!.dec).split(' ') as [string, string];
    const { page, errors } = await open('#/search');
    await page.fill('#cone-form input[name="ra"]', ra);
    await page.fill('#cone-form input[name="dec"]', dec);
    await page.fill('#cone-form input[name="radius"]', '2');
    await page.click('#cone-form button[type="submit"]');
    await page.locator('#cone-results a', { hasText: target!.object_id }).waitFor();
    expect(await page.getAttribute('#cone-download-csv', 'href')).toMatch(
      /^\/api\/v1\/conesearch\?ra=.*&radius=2&output-format=csv$/,
    );

    await page.fill('#cone-form input[name="ra"]', `${ra} ${dec}`);
    await page.fill('#cone-form input[name="dec"]', '');
    await page.fill('#cone-form input[name="radius"]', '3');
    await page.click('#cone-form button[type="submit"]');
    // The position read from the one box is the one read from the two (to the sexagesimal text's precision).
    await expect
      .poll(() => text(page, '#cone-summary'))
      .toContain(`within 3″ of RA ${parseRa(ra).toFixed(6)}°, Dec ${parseDec(dec).toFixed(6)}°`);
    await page.locator('#cone-results a', { hasText: target!.object_id }).waitFor();

    await page.fill('#cone-form input[name="ra"]', '25:00:00');
    await page.fill('#cone-form input[name="dec"]', '+10:00:00');
    await page.click('#cone-form button[type="submit"]');
    await expect.poll(() => text(page, '#cone-results')).toContain('hours must be below 24');
    await screenshot(page, 'search-sexagesimal');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it("resolves an asteroid's name from the header box to the objects matched to it", async () => {
    const [sso] = await rows<{ ss_name: string }>(
      sql`SELECT ss_name FROM alerts FINAL WHERE ss_name != '' AND match(ss_name, '^[0-9]+$') ORDER BY ss_name LIMIT 1`,
    );
    const expected = await rows<{ object_id: string }>(
      sql`SELECT DISTINCT object_id FROM alerts FINAL WHERE ss_name = ${sso!.ss_name}`,
    );
    const { page, errors } = await open('#/live');
    await page.fill('header form.lookup input', sso!.ss_name);
    await page.press('header form.lookup input', 'Enter');
    await expect.poll(() => page.url()).toContain(`#/search?name=${sso!.ss_name}`);
    // Without the REST API here (404), the name is looked up among stored objects through GraphQL.
    await page.locator('#name-results li a').first().waitFor();
    const found = await page.locator('#name-results li a').allTextContents();
    expect(new Set(found)).toEqual(new Set(expected.map((r) => r.object_id)));
    // An object id goes straight to its page.
    await page.fill('header form.lookup input', expected[0]!.object_id);
    await page.press('header form.lookup input', 'Enter');
    await page.waitForSelector('#light-curve[data-points]');
    expect(errors.messages.filter((m) => !m.includes('404'))).toEqual([]);
    await page.context().close();
  });

  it('lists the latest objects of a class', async () => {
    const [top] = await rows<{ class: string; n: string }>(
      sql`SELECT class, uniqExact(object_id) AS n FROM alerts FINAL GROUP BY class ORDER BY toUInt64(n) DESC, class LIMIT 1`,
    );
    const { page, errors } = await open('#/search');
    await page.waitForSelector(`#latest-form select option[value="${top!.class}"]`, { state: 'attached' });
    await page.selectOption('#latest-form select[name="label"]', top!.class);
    await page.fill('#latest-form input[name="n"]', '5');
    await page.click('#latest-form button[type="submit"]');
    await expect.poll(() => page.locator('#latest-table tbody tr').count()).toBe(Math.min(5, Number(top!.n)));
    expect(new Set(await page.locator('#latest-table tbody td:nth-child(3)').allTextContents())).toEqual(
      new Set([top!.class]),
    );
    expect(await page.getAttribute('#latest-download-votable', 'href')).toBe(
      `/api/v1/latests?${new URLSearchParams({ class: top!.class, n: '5', 'output-format': 'votable' }).toString()}`,
    );
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});

describe('sky map', () => {
  it('draws every stored alert, per night, and a click on a cell runs a cone search there', async () => {
    const alerts = await count(sql`SELECT count() AS n FROM alerts FINAL`);
    const [night] = await rows<{ night: string; n: string }>(
      sql`SELECT toString(night) AS night, count() AS n FROM alerts FINAL GROUP BY night ORDER BY night LIMIT 1`,
    );
    const [target] = await rows<{ object_id: string; ra: number; dec: number }>(
      sql`SELECT object_id, ra, dec FROM alerts FINAL WHERE object_id = 'ZTF18acvqmmq' ORDER BY jd LIMIT 1`,
    );
    expect(target).toBeDefined();
    const { page, errors } = await open('#/sky');
    await page.waitForSelector('#sky-map[data-alerts]');
    expect(await page.getAttribute('#sky-map', 'data-alerts')).toBe(String(alerts));
    await screenshot(page, 'sky-map');

    await page.fill('#sky-form input[name="night"]', night!.night);
    await page.click('#sky-form button[type="submit"]');
    await expect.poll(() => page.getAttribute('#sky-map', 'data-alerts')).toBe(night!.n);
    await page.fill('#sky-form input[name="night"]', '');
    await page.click('#sky-form button[type="submit"]');
    await expect.poll(() => page.getAttribute('#sky-map', 'data-alerts')).toBe(String(alerts));

    // The canvas is as wide as its CSS box: the projection of the object's position is where to click.
    const box = (await page.locator('#sky-map').boundingBox())!;
    const { px, py } = toCanvas(project(target!.ra, target!.dec), box.width);
    await page.mouse.move(box.x + px, box.y + py);
    await expect.poll(() => text(page, '#sky-hover')).toContain('alerts in this cell');
    await page.mouse.click(box.x + px, box.y + py);
    await expect.poll(() => page.url()).toContain('#/search?ra=');
    await page.locator('#cone-results a', { hasText: target!.object_id }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'sky-map-cone');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});

describe('statistics', () => {
  it('switches the charts to a log scale, drawing the same totals', async () => {
    const alerts = await count(sql`SELECT count() AS n FROM alerts FINAL`);
    const { page, errors } = await open('#/stats');
    await page.waitForSelector('#chart-classes[data-alerts] canvas');
    expect(await page.getAttribute('#chart-classes', 'data-scale')).toBe('linear');
    await page.check('#stats-log');
    await expect.poll(() => page.getAttribute('#chart-classes', 'data-scale')).toBe('log');
    await page.waitForSelector('#chart-nights[data-scale="log"] canvas');
    expect(await page.getAttribute('#chart-nights', 'data-alerts')).toBe(String(alerts));
    expect(await page.getAttribute('#chart-classes', 'data-alerts')).toBe(String(alerts));
    await screenshot(page, 'stats-log');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});
