// The dashboard in Debian's Chromium, against the server in this process over a database the real pipeline
// filled from the 611 real ZTF alerts (raw2science keeps running: alerts published upstream arrive live). Each
// test checks what a user sees against what ClickHouse holds, and saves a screenshot of the page.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql, type Sql } from '../../src/storage/sql.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { launchChromium, openPage, screenshot, type BrowserErrors } from '../helpers/browser.ts';

let api: ApiSandbox;
let browser: Browser;

beforeAll(async () => {
  [api, browser] = await Promise.all([createApiSandbox('dash', { withAlerts: true }), launchChromium()]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

const rows = <T>(query: Sql) => queryRows<T>(api.pipeline.db.client, query);
const count = async (query: Sql) => Number((await rows<{ n: string }>(query))[0]?.n);
const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? '';

/** Waits until the server runs `executions` distinct live operations, i.e. the page's subscription is active. */
async function waitForSubscriptions(executions: number, startedBefore: number): Promise<void> {
  await expect
    .poll(
      () =>
        api.launched.server.shared.activeExecutions === executions &&
        api.launched.server.shared.executionsStarted > startedBefore,
      { timeout: 30_000 },
    )
    .toBe(true);
}

/** Alert messages raw2science publishes for the payloads: those passing the quality cuts, repeats included. */
function passingMessages(payloads: readonly Buffer[]): number {
  const decoder = createZtfDecoder();
  return payloads.filter((payload) => {
    const { candidate } = decoder.decode(payload);
    return candidate.rb !== null && candidate.rb >= 0.55 && candidate.nbad === 0;
  }).length;
}

/** Closes the page and waits until the server ran down its subscriptions. */
async function closeLivePage(page: Page): Promise<void> {
  await page.context().close();
  await expect.poll(() => api.launched.server.shared.activeExecutions, { timeout: 30_000 }).toBe(0);
}

/** Waits until the object page's three cutout images are loaded and decoded. */
async function waitForCutouts(page: Page): Promise<void> {
  await page.waitForFunction(
    "[...document.querySelectorAll('#cutouts img')].filter((img) => img.complete && img.naturalWidth > 0).length === 3",
    undefined,
    { timeout: 30_000 },
  );
}

async function open(hash: string): Promise<{ page: Page; errors: BrowserErrors }> {
  const opened = await openPage(browser);
  await opened.page.goto(`${api.url}/${hash}`);
  return opened;
}

describe('dashboard in a browser', () => {
  it('lists live alerts as the pipeline publishes them; pausing buffers them and loses none', async () => {
    const stored = await rows<{ id: string }>(sql`SELECT toString(alert_id) AS id FROM alerts FINAL`);
    // The sample repeats a few alerts: each repeat is published (and pushed) again.
    const messages = passingMessages(api.payloads);
    expect(messages).toBeGreaterThanOrEqual(stored.length);
    const started = api.launched.server.shared.executionsStarted;
    const { page, errors } = await open('#/live');
    await page.waitForFunction("document.querySelector('#live-status')?.textContent === 'live'");
    await waitForSubscriptions(1, started);

    await page.click('#live-pause');
    await api.pipeline.publish(api.payloads);
    await expect.poll(() => text(page, '#live-buffered'), { timeout: 100_000 }).toBe(String(messages));
    expect(await page.locator('#live-rows tr').count()).toBe(0);
    expect(Number(await text(page, '#live-rate'))).toBeGreaterThan(0);
    await screenshot(page, 'live-paused');

    await page.click('#live-pause');
    await expect.poll(() => page.locator('#live-rows tr').count(), { timeout: 10_000 }).toBe(messages);
    expect(await text(page, '#live-buffered')).toBe('0');
    expect(await text(page, '#live-received')).toBe(String(messages));
    const shown = await page.locator('#live-rows tr').evaluateAll(
      // Runs in the page: rows carry their alert id.
      (trs) => trs.map((tr) => (tr as unknown as { dataset: { alertId: string } }).dataset.alertId),
    );
    expect(new Set(shown)).toEqual(new Set(stored.map((r) => r.id)));
    await screenshot(page, 'live');
    expect(errors.messages).toEqual([]);
    await closeLivePage(page);
  });

  it('applies the live filter: only bright g-band alerts are listed after it', async () => {
    const expected = await rows<{ id: string }>(
      sql`SELECT toString(alert_id) AS id FROM alerts FINAL WHERE band = 'g' AND mag <= 19`,
    );
    expect(expected.length).toBeGreaterThan(0);
    let started = api.launched.server.shared.executionsStarted;
    const { page, errors } = await open('#/live');
    await waitForSubscriptions(1, started);
    started = api.launched.server.shared.executionsStarted;
    await page.check('#live-filter input[name="band"][value="g"]');
    await page.fill('#live-filter input[name="magMax"]', '19');
    await page.click('#live-filter button[type="submit"]');
    await waitForSubscriptions(1, started);

    await api.pipeline.publish(api.payloads);
    const shownIds = () =>
      page
        .locator('#live-rows tr')
        .evaluateAll((trs) =>
          trs.map((tr) => (tr as unknown as { dataset: { alertId: string } }).dataset.alertId),
        );
    await expect
      .poll(async () => new Set(await shownIds()), { timeout: 100_000 })
      .toEqual(new Set(expected.map((r) => r.id)));
    const bands = await page.locator('#live-rows td.band').allTextContents();
    expect(new Set(bands)).toEqual(new Set(['g']));
    const mags = await page.locator('#live-rows td:nth-child(7)').allTextContents();
    expect(mags.every((mag) => Number(mag) <= 19)).toBe(true);
    await screenshot(page, 'live-filtered');
    expect(errors.messages).toEqual([]);
    await closeLivePage(page);
  });

  it('shows an object: every light-curve point, the three cutouts loaded, classification and history', async () => {
    const [busiest] = await rows<{ object_id: string; n: string }>(
      sql`SELECT object_id, count() AS n FROM lightcurve FINAL
          WHERE (kind = 'upper-limit' AND limit_mag IS NOT NULL) OR (kind != 'upper-limit' AND mag IS NOT NULL)
          GROUP BY object_id ORDER BY n DESC, object_id LIMIT 1`,
    );
    const objectId = busiest!.object_id;
    const alerts = await count(sql`SELECT count() AS n FROM alerts FINAL WHERE object_id = ${objectId}`);
    const { page, errors } = await open(`#/object/${objectId}`);

    await page.waitForSelector('#light-curve[data-points] canvas');
    expect(await page.getAttribute('#light-curve', 'data-points')).toBe(busiest!.n);
    expect(await text(page, '#light-curve-counts')).toMatch(new RegExp(`^${busiest!.n} points`));
    await waitForCutouts(page);
    expect(await page.locator('#cutouts img').count()).toBe(3);
    const label = await rows<{ class: string }>(
      sql`SELECT class FROM alerts FINAL WHERE object_id = ${objectId} ORDER BY jd DESC LIMIT 1`,
    );
    expect(await text(page, '#object-label')).toBe(label[0]!.class);
    expect(await page.locator('#classification-history tbody tr').count()).toBe(alerts);
    await screenshot(page, 'object');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it('shows negative detections as detections, in difference and in apparent (DC) magnitude', async () => {
    const [object] = await rows<{ object_id: string; det: string; neg: string; dc: string; ul: string }>(
      sql`SELECT object_id, countIf(kind = 'detection' AND mag IS NOT NULL) AS det,
            countIf(kind = 'detection' AND mag IS NOT NULL AND negative = 1) AS neg,
            countIf(kind = 'detection' AND dc_mag IS NOT NULL) AS dc,
            countIf(kind = 'upper-limit' AND limit_mag IS NOT NULL) AS ul
          FROM lightcurve FINAL GROUP BY object_id HAVING neg > 0 AND dc > 0
          ORDER BY toUInt64(neg) DESC, object_id LIMIT 1`,
    );
    expect(object).toBeDefined();
    const { object_id: objectId, det, neg, dc, ul } = object!;
    const { page, errors } = await open(`#/object/${objectId}`);

    await page.waitForSelector('#light-curve[data-points] canvas');
    const points = Number(det) + Number(ul);
    expect(await page.getAttribute('#light-curve', 'data-points')).toBe(String(points));
    expect(await text(page, '#light-curve-counts')).toMatch(
      new RegExp(`^${points} points: ${det} detections? \\(${neg} negative\\), ${ul} upper limits?`),
    );
    // The header counts what the chart draws.
    expect(await text(page, '#object-detections')).toMatch(
      new RegExp(`^${det} \\(${neg} negative\\) / ${ul}`),
    );
    // Negative detections are their own series (open markers), one per band that has them.
    const legend = await page.locator('.u-legend .u-series .u-label').allTextContents();
    expect(legend.some((label) => label.endsWith(' negative'))).toBe(true);
    expect(await page.locator('#light-curve-table td', { hasText: 'detection (negative)' }).count()).toBe(
      Number(neg),
    );

    await page.check('#magnitude-scale input[value="apparent"]');
    await expect
      .poll(() => page.getAttribute('#light-curve', 'data-scale'), { timeout: 10_000 })
      .toBe('apparent');
    await page.waitForSelector('#light-curve canvas');
    expect(await page.getAttribute('#light-curve', 'data-points')).toBe(dc);
    expect(await text(page, '#light-curve-counts')).toMatch(new RegExp(`^${dc} points: ${dc} detections?`));
    await screenshot(page, 'object-apparent');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it('refuses an annotation without a token; with an annotator token shows it, a vote and a follow-up request', async () => {
    const [object] = await rows<{ object_id: string }>(
      sql`SELECT object_id FROM objects FINAL ORDER BY object_id LIMIT 1`,
    );
    const objectId = object!.object_id;
    const { page, errors } = await open(`#/object/${objectId}`);
    await page.waitForSelector('#annotation-form');

    const refused = `refused note ${Date.now()}`;
    await page.fill('#annotation-form textarea[name="text"]', refused);
    await page.click('#annotation-form button[type="submit"]');
    await expect
      .poll(() => text(page, '#annotation-status'), { timeout: 10_000 })
      .toContain('UNAUTHENTICATED');
    expect(await page.locator('#annotations li').count()).toBe(0);

    await page.fill('#token-form input[name="token"]', await api.token('dash-annotator', 'annotator'));
    await page.click('#token-form button[type="submit"]');
    await expect.poll(() => text(page, '#token-state')).toBe('token set');
    const note = `Rising fast, looks like a young SN Ia ${Date.now()}`;
    await page.fill('#annotation-form textarea[name="text"]', note);
    await page.fill('#annotation-form input[name="tags"]', 'sn, young');
    await page.click('#annotation-form button[type="submit"]');
    await expect.poll(() => text(page, '#annotation-status'), { timeout: 10_000 }).toBe('Annotation added.');
    await expect
      .poll(() => page.locator('#annotations li').allTextContents(), { timeout: 10_000 })
      .toEqual([expect.stringContaining(note)]);
    expect(await text(page, '#annotations li')).toContain('dash-annotator');
    const stored = await api.query(
      'query($id: String!) { object(objectId: $id) { annotations { text author } } }',
      { id: objectId },
    );
    expect(stored.data).toEqual({ object: { annotations: [{ text: note, author: 'dash-annotator' }] } });

    // The same token votes and asks for a follow-up, from the same page.
    await page.fill('#vote-form input[name="label"]', 'SN Ia');
    await page.fill('#vote-form input[name="confidence"]', '0.8');
    await page.click('#vote-form button[type="submit"]');
    await expect.poll(() => text(page, '#vote-status'), { timeout: 10_000 }).toBe('Vote recorded.');
    await expect.poll(() => text(page, '#vote-list'), { timeout: 10_000 }).toContain('Consensus: SN Ia');
    await page.fill('#followup-form input[name="facility"]', 'dash-telescope');
    await page.click('#followup-form button[type="submit"]');
    await expect.poll(() => text(page, '#followup-status'), { timeout: 10_000 }).toBe('Follow-up requested.');
    await expect.poll(() => text(page, '#followups'), { timeout: 10_000 }).toContain('dash-telescope');

    await waitForCutouts(page);
    await screenshot(page, 'object-annotated');
    expect(errors.messages.filter((m) => !m.includes('401'))).toEqual([]);
    await page.context().close();
  });

  it('draws the statistics charts with the archive totals per night and per class', async () => {
    const alerts = await count(sql`SELECT count() AS n FROM alerts FINAL`);
    const nightObjects = await count(
      sql`SELECT sum(n) AS n FROM (SELECT night, uniqExact(object_id) AS n FROM alerts FINAL GROUP BY night)`,
    );
    const classObjects = await count(
      sql`SELECT sum(n) AS n FROM (SELECT class, uniqExact(object_id) AS n FROM alerts FINAL GROUP BY class)`,
    );
    const { page, errors } = await open('#/stats');
    await page.waitForSelector('#chart-nights[data-alerts] canvas');
    await page.waitForSelector('#chart-classes[data-alerts] canvas');
    expect(await page.getAttribute('#chart-nights', 'data-alerts')).toBe(String(alerts));
    expect(await page.getAttribute('#chart-nights', 'data-objects')).toBe(String(nightObjects));
    expect(await page.getAttribute('#chart-classes', 'data-alerts')).toBe(String(alerts));
    expect(await page.getAttribute('#chart-classes', 'data-objects')).toBe(String(classObjects));
    expect(await text(page, '#nights-totals .total-alerts')).toBe(String(alerts));
    expect(await text(page, '#classes-totals .total-alerts')).toBe(String(alerts));
    await screenshot(page, 'stats');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it('searches by cone and by filter, with pages, linking to object pages', async () => {
    const [target] = await rows<{ object_id: string; ra: number; dec: number }>(
      sql`SELECT object_id, ra, dec FROM objects FINAL ORDER BY object_id LIMIT 1`,
    );
    const gAlerts = await count(sql`SELECT count() AS n FROM alerts FINAL WHERE band = 'g'`);
    const { page, errors } = await open('#/search');
    await page.fill('#cone-form input[name="ra"]', String(target!.ra));
    await page.fill('#cone-form input[name="dec"]', String(target!.dec));
    await page.fill('#cone-form input[name="radius"]', '2');
    await page.click('#cone-form button[type="submit"]');
    const link = page.locator('#cone-results a', { hasText: target!.object_id });
    await link.waitFor();

    await page.check('#filter-form input[name="band"][value="g"]');
    await page.click('#filter-form button[type="submit"]');
    await expect.poll(() => page.locator('#search-table tbody tr').count()).toBe(Math.min(25, gAlerts));
    const first = await page
      .locator('#search-table tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => (tr as unknown as { dataset: { alertId: string } }).dataset.alertId),
      );
    expect(new Set(await page.locator('#search-table td.band').allTextContents())).toEqual(new Set(['g']));
    await screenshot(page, 'search');
    expect(gAlerts).toBeGreaterThan(25);
    await page.click('#page-next');
    await expect.poll(() => text(page, '#page-number')).toBe('page 2');
    const second = await page
      .locator('#search-table tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => (tr as unknown as { dataset: { alertId: string } }).dataset.alertId),
      );
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((id) => first.includes(id))).toEqual([]);

    await page.locator('#cone-results a', { hasText: target!.object_id }).click();
    await page.waitForSelector('#light-curve[data-points]');
    expect(page.url()).toContain(`#/object/${target!.object_id}`);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it('links to GraphiQL, which loads from the same server', async () => {
    const { page } = await open('#/live');
    const href = await page.getAttribute('header nav a[href="/graphiql"]', 'href');
    expect(href).toBe('/graphiql');
    const response = await fetch(`${api.url}/graphiql`);
    expect(response.status).toBe(200);
    await page.context().close();
  });
});
