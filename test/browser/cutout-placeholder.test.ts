// An alert whose science cutout is corrupt (a broken gzip stream from upstream) goes through the real pipeline:
// it is stored, raw2science counts the unreadable cutout, and the object page shows a placeholder with the
// server's reason where the image would be, the other two cutouts as images.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { launchChromium, openPage, screenshot } from '../helpers/browser.ts';
import { cloneRecord, ztfSeeds } from '../helpers/poison.ts';
import { waitFor } from '../helpers/wait.ts';

const OBJECT_ID = 'ZTF26corrupt';
const CANDID = 2_999_999_999_999_999_001n;

let api: ApiSandbox;
let browser: Browser;

beforeAll(async () => {
  [api, browser] = await Promise.all([createApiSandbox('cutph', { withAlerts: false }), launchChromium()]);
  await api.pipeline.start('stream2raw');
  await api.pipeline.start('raw2science');
  const seed = ztfSeeds(60).find(
    ({ record }) => (record.candidate.rb ?? 0) >= 0.55 && record.candidate.nbad === 0,
  );
  if (seed === undefined) throw new Error('no seed alert passes the quality cuts');
  const record = cloneRecord(seed.record);
  record.objectId = OBJECT_ID;
  record.candid = CANDID;
  record.candidate.candid = CANDID;
  record.cutoutScience = {
    fileName: 'science.fits.gz',
    stampData: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(40, 0xee)]),
  };
  await api.pipeline.publish([encodeZtfAlert(record, seed.schemaJson)]);
  // Stored (objects) and archived (raw_alerts: the cutouts are served from there).
  await waitFor(async () => {
    const [row] = await queryRows<{ n: string }>(
      api.pipeline.db.client,
      sql`SELECT (SELECT count() FROM objects WHERE object_id = ${OBJECT_ID}) +
                 (SELECT count() FROM raw_alerts WHERE alert_id = ${CANDID}) AS n`,
    );
    return Number(row?.n) === 2;
  }, 60_000);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

describe('an unreadable cutout on the object page', () => {
  it('is a placeholder with the reason; the readable cutouts are images', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${api.url}/#/object/${OBJECT_ID}`);
    const placeholder = page.locator('#cutouts .cutout-placeholder');
    await placeholder.waitFor({ timeout: 30_000 });
    expect(await placeholder.getAttribute('data-kind')).toBe('science');
    expect(await placeholder.textContent()).toMatch(
      new RegExp(`^cutout science of alert ${CANDID} cannot be read: cannot gunzip`),
    );
    await page.waitForFunction(
      "[...document.querySelectorAll('#cutouts img')].filter((img) => img.complete && img.naturalWidth > 0).length === 2",
      undefined,
      { timeout: 30_000 },
    );
    const images = page.locator('#cutouts img');
    const kinds: (string | null)[] = [];
    for (let i = 0; i < (await images.count()); i++)
      kinds.push(await images.nth(i).getAttribute('data-kind'));
    expect(kinds).toEqual(['template', 'difference']);
    await screenshot(page, 'object-cutout-placeholder');
    // The browser reports the refused image load (422) itself; nothing else went wrong.
    expect(errors.messages.filter((message) => !message.includes('422'))).toEqual([]);
    await page.context().close();
  });
});
