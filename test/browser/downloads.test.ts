// The dashboard's download buttons and its name box against the server's REST API (/api/v1, Fink's routes), in
// Debian's Chromium over a database the pipeline filled from the real ZTF alerts: each button saves a file in its
// format (CSV, Parquet, VOTable) holding the objects the page shows, and a name resolves through /api/v1/resolver.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql, type Sql } from '../../src/storage/sql.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { launchChromium, openPage, screenshot } from '../helpers/browser.ts';

let api: ApiSandbox;
let browser: Browser;

beforeAll(async () => {
  [api, browser] = await Promise.all([createApiSandbox('dl', { withAlerts: true }), launchChromium()]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

const rows = <T>(query: Sql) => queryRows<T>(api.pipeline.db.client, query);

/** Clicks a download link and answers the saved file's name and bytes. */
async function download(page: Page, selector: string): Promise<{ name: string; body: Buffer }> {
  // The server's Content-Disposition, if any, names the file; the link's `download` attribute otherwise.
  const [saved] = await Promise.all([
    page.waitForEvent('download', { timeout: 30_000 }),
    page.click(selector),
  ]);
  expect(await saved.failure()).toBeNull();
  return { name: saved.suggestedFilename(), body: await readFile(await saved.path()) };
}

/** What a file of each format starts with or holds, and the object id in it. */
function expectFormat(format: string, body: Buffer, objectId: string): void {
  if (format === 'parquet') {
    expect(body.subarray(0, 4).toString('latin1')).toBe('PAR1');
    expect(body.subarray(-4).toString('latin1')).toBe('PAR1');
    expect(body.includes(Buffer.from(objectId))).toBe(true);
  } else if (format === 'votable') {
    const text = body.toString('utf8');
    expect(text).toContain('<VOTABLE');
    expect(text).toContain(objectId);
  } else {
    const [head, ...lines] = body.toString('utf8').trim().split('\n');
    expect(head).toContain('objectId');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes(objectId))).toBe(true);
  }
}

describe('downloads from the dashboard', () => {
  it.each(['csv', 'parquet', 'votable'])("saves an object's light curve as %s", async (format) => {
    const [object] = await rows<{ object_id: string }>(
      sql`SELECT object_id FROM alerts FINAL GROUP BY object_id ORDER BY count() DESC, object_id LIMIT 1`,
    );
    const { page, errors } = await openPage(browser);
    await page.goto(`${api.url}/#/object/${object!.object_id}`);
    await page.waitForSelector('#light-curve-download');
    expectFormat(format, (await download(page, `#light-curve-download-${format}`)).body, object!.object_id);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it.each(['csv', 'parquet', 'votable'])('saves a cone search and latest objects as %s', async (format) => {
    const [target] = await rows<{ object_id: string; ra: number; dec: number; class: string }>(
      sql`SELECT object_id, ra, dec, class FROM alerts FINAL ORDER BY jd DESC, object_id LIMIT 1`,
    );
    const { page, errors } = await openPage(browser);
    await page.goto(`${api.url}/#/search?ra=${target!.ra}&dec=${target!.dec}&radius=2`);
    await page.locator('#cone-results a', { hasText: target!.object_id }).waitFor();
    expectFormat(format, (await download(page, `#cone-download-${format}`)).body, target!.object_id);

    await page.waitForSelector(`#latest-form select option[value="${target!.class}"]`, { state: 'attached' });
    await page.selectOption('#latest-form select[name="label"]', target!.class);
    await page.fill('#latest-form input[name="n"]', '100');
    await page.click('#latest-form button[type="submit"]');
    await page.locator('#latest-table a', { hasText: target!.object_id }).waitFor();
    expectFormat(format, (await download(page, `#latest-download-${format}`)).body, target!.object_id);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it.each(['csv', 'parquet', 'votable'])('saves the alerts a filter search selects as %s', async (format) => {
    const [newest] = await rows<{ object_id: string }>(
      sql`SELECT object_id FROM alerts FINAL WHERE band = 'g' ORDER BY jd DESC, alert_id DESC LIMIT 1`,
    );
    const { page, errors } = await openPage(browser);
    await page.goto(`${api.url}/#/search`);
    await page.check('#filter-form input[name="band"][value="g"]');
    await page.click('#filter-form button[type="submit"]');
    await page.waitForSelector('#search-download');
    expectFormat(format, (await download(page, `#search-download-${format}`)).body, newest!.object_id);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});

describe('the name box through the REST resolver', () => {
  it("resolves an asteroid's number with ssodnet to the objects matched to it", async () => {
    const [sso] = await rows<{ ss_name: string }>(
      sql`SELECT ss_name FROM alerts FINAL WHERE match(ss_name, '^[0-9]+$') ORDER BY ss_name LIMIT 1`,
    );
    const expected = await rows<{ object_id: string }>(
      sql`SELECT DISTINCT object_id FROM alerts FINAL WHERE ss_name = ${sso!.ss_name}`,
    );
    const { page, errors } = await openPage(browser);
    await page.goto(`${api.url}/#/search?name=${sso!.ss_name}`);
    await expect
      .poll(() => page.locator('#name-source').textContent(), { timeout: 30_000 })
      .toMatch(/^ssodnet: /);
    const found = await page.locator('#name-results li a').allTextContents();
    expect(new Set(found)).toEqual(new Set(expected.map((r) => r.object_id)));
    await screenshot(page, 'resolver-ssodnet');
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});
