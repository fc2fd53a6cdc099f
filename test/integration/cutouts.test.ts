// The cutout endpoints against a real ClickHouse: real ZTF and Rubin alerts archived the way stream2raw archives
// them (their cutouts are stored once, inside the alert's bytes), served over HTTP on port 0, and compared byte
// for byte with the alerts they came from.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decode } from 'fast-png';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rubinMessages } from '../../datasim/rubin.ts';
import { createArchiveCutoutStore } from '../../src/pipeline/archive-cutouts.ts';
import type { Alert } from '../../src/pipeline/alert.ts';
import { createConfiguredDecoder } from '../../src/pipeline/decode/configured-decoder.ts';
import { encodeZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { cutoutPath } from '../../src/resolvers/cutout-path.ts';
import { createCutoutHandler } from '../../src/server/cutout-routes.ts';
import { StorageError } from '../../src/storage/clickhouse.ts';
import type { CutoutStore, StoredCutouts } from '../../src/storage/cutout-store.ts';
import { ClickHouseRawAlertStore, type RawAlertRow } from '../../src/storage/raw-store.ts';
import { testConfig } from '../helpers/context.ts';
import { cloneRecord, rubinSeeds, ztfSeeds } from '../helpers/poison.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** An id no row has. */
const UNKNOWN_ID = 18446744073709551615n;
/** A row whose science cutout is a broken gzip stream, whose template is absent and difference not FITS. */
const BROKEN_ID = 2_999_999_999_999_999_999n;
const BROKEN_SCIENCE = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(40, 0xee)]);

let db: TestDatabase;
let server: Server;
let baseUrl: string;
let store: CutoutStore;
const logLines: string[] = [];
/** The rows written, by alert id: what every answer is checked against. */
const written = new Map<bigint, CutoutRow>();

/** An alert's images as it carried them (an absent one as empty). */
type CutoutRow = Omit<StoredCutouts, 'science' | 'template' | 'difference'> & {
  science: Buffer;
  template: Buffer;
  difference: Buffer;
};
let ztfIds: bigint[] = [];
let rubinIds: bigint[] = [];

function serve(handler: ReturnType<typeof createCutoutHandler>): Promise<{ server: Server; url: string }> {
  const http = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      // Not a cutout path: the real server would try its next route.
      if (!handled) res.writeHead(418).end('next route');
    });
  });
  return new Promise((resolve) => {
    http.listen(0, '127.0.0.1', () => {
      resolve({ server: http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
    });
  });
}

beforeAll(async () => {
  db = await createMigratedDatabase('cutouts');
  const decoder = createConfiguredDecoder(testConfig());
  const ztf = ztfSeeds(60);
  const ztfPayloads = [
    ...ztf.filter(({ record }) => record.candidate.jd < 2459000).slice(0, 3),
    ...ztf.filter(({ record }) => record.candidate.jd > 2460000).slice(0, 3),
  ].map((seed) => encodeZtfAlert(seed.record, seed.schemaJson));
  const rubin = await rubinSeeds();
  const rubinPayloads = rubinMessages(rubin.alerts.slice(0, 2), rubin.schemaId, rubin.schema);
  // A ZTF alert whose science cutout is a broken gzip stream, whose template is absent and difference not FITS.
  const brokenRecord = cloneRecord(ztf[0]!.record);
  brokenRecord.candid = BROKEN_ID;
  brokenRecord.candidate.candid = BROKEN_ID;
  brokenRecord.objectId = 'ZTFbroken';
  brokenRecord.cutoutScience = { fileName: 'broken.fits.gz', stampData: BROKEN_SCIENCE };
  brokenRecord.cutoutTemplate = null;
  brokenRecord.cutoutDifference = { fileName: 'difference.fits', stampData: Buffer.from('not a FITS file') };
  const brokenPayload = encodeZtfAlert(brokenRecord, ztf[0]!.schemaJson);

  const rows: CutoutRow[] = [];
  const archived: RawAlertRow[] = [];
  const empty = Buffer.alloc(0);
  for (const payload of [...ztfPayloads, ...rubinPayloads, brokenPayload]) {
    const alert: Alert = await decoder.decode(payload);
    rows.push({
      survey: alert.survey,
      alertId: alert.alertId,
      objectId: alert.objectId,
      science: alert.cutouts.science ?? empty,
      template: alert.cutouts.template ?? empty,
      difference: alert.cutouts.difference ?? empty,
    });
    archived.push({
      survey: alert.survey,
      alertId: alert.alertId,
      objectId: alert.objectId,
      ra: alert.ra,
      dec: alert.dec,
      jd: alert.jd,
      topic: 't',
      partition: 0,
      offset: BigInt(archived.length),
      receivedAt: new Date(),
      payload,
      problem: '',
    });
  }
  ztfIds = rows.slice(0, ztfPayloads.length).map((row) => row.alertId);
  rubinIds = rows
    .slice(ztfPayloads.length, ztfPayloads.length + rubinPayloads.length)
    .map((row) => row.alertId);
  for (const row of rows) written.set(row.alertId, row);

  // As stream2raw archives them; twice, as a replay would: each alert must still be answered once.
  const raw = new ClickHouseRawAlertStore(db.client);
  await raw.write(archived);
  await raw.write(archived);

  store = createArchiveCutoutStore(raw, decoder);
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  ({ server, url: baseUrl } = await serve(createCutoutHandler({ store, logger })));
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await db?.drop();
});

describe('the cutout store over the raw archive', () => {
  it('returns every stored cutout byte for byte, absent ones as null, unknown ids not at all', async () => {
    const found = await store.byAlertIds([...written.keys(), UNKNOWN_ID, ztfIds[0]!]);
    expect(new Set(found.keys())).toEqual(new Set(written.keys()));
    for (const [id, row] of written) {
      const cutouts = found.get(id)!;
      expect(cutouts.alertId).toBe(id);
      expect(cutouts.survey).toBe(row.survey);
      expect(cutouts.objectId).toBe(row.objectId);
      for (const kind of ['science', 'template', 'difference'] as const) {
        if (row[kind].length === 0) expect(cutouts[kind]).toBeNull();
        else expect(cutouts[kind]?.equals(row[kind]), `${id} ${kind}`).toBe(true);
      }
    }
  });

  it('answers an empty list without a query', async () => {
    expect((await store.byAlertIds([])).size).toBe(0);
  });
});

describe('GET /cutouts/<alertId>/<kind>.<format>', () => {
  it('serves the ZTF stored bytes unchanged as .fits.gz and the FITS inside as .fits', async () => {
    for (const id of ztfIds) {
      const row = written.get(id)!;
      for (const kind of ['science', 'template', 'difference'] as const) {
        const gz = await fetch(baseUrl + cutoutPath(id, kind, 'fits.gz'));
        expect(gz.status).toBe(200);
        expect(gz.headers.get('content-type')).toBe('application/gzip');
        expect(Buffer.from(await gz.arrayBuffer()).equals(row[kind])).toBe(true);

        const fits = await fetch(baseUrl + cutoutPath(id, kind, 'fits'));
        expect(fits.status).toBe(200);
        expect(fits.headers.get('content-type')).toBe('application/fits');
        expect(fits.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(fits.headers.get('content-disposition')).toBe(`inline; filename="${id}-${kind}.fits"`);
        const body = Buffer.from(await fits.arrayBuffer());
        expect(body.equals(gunzipSync(row[kind]))).toBe(true);
        expect(body.subarray(0, 9).toString('latin1')).toBe('SIMPLE  =');
      }
    }
  });

  it('serves Rubin cutouts (stored as plain FITS) unchanged as .fits, gzipped as .fits.gz', async () => {
    for (const id of rubinIds) {
      const row = written.get(id)!;
      const fits = await fetch(baseUrl + cutoutPath(id, 'science', 'fits'));
      expect(fits.status).toBe(200);
      expect(Buffer.from(await fits.arrayBuffer()).equals(row.science)).toBe(true);
      const gz = await fetch(baseUrl + cutoutPath(id, 'difference', 'fits.gz'));
      expect(gz.status).toBe(200);
      expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).equals(row.difference)).toBe(true);
    }
  });

  it('renders PNGs that decode to the cutout size with real structure', async () => {
    for (const id of [...ztfIds, ...rubinIds]) {
      const response = await fetch(baseUrl + cutoutPath(id, 'science', 'png'));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      const png = Buffer.from(await response.arrayBuffer());
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      const image = decode(png);
      expect(image.channels).toBe(1);
      if (ztfIds.includes(id)) expect([image.width, image.height]).toEqual([63, 63]);
      expect(new Set(image.data).size).toBeGreaterThan(50);
    }
  });

  it('answers a matching If-None-Match with 304 and no body, and HEAD with headers only', async () => {
    const url = baseUrl + cutoutPath(ztfIds[0]!, 'template', 'png');
    const first = await fetch(url);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+-png-.+"$/);
    const again = await fetch(url, { headers: { 'If-None-Match': `"other", ${etag}` } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    expect(again.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // Each format is its own entity.
    const fitsEtag = (await fetch(baseUrl + cutoutPath(ztfIds[0]!, 'template', 'fits'))).headers.get('etag');
    expect(fitsEtag).not.toBe(etag);

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe((await first.arrayBuffer()).byteLength);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it.each([
    ['a non-numeric id', '/cutouts/ZTF18abc/science.png', 'alertId'],
    ['a negative id', '/cutouts/-1/science.png', 'alertId'],
    ['an id beyond UInt64', '/cutouts/18446744073709551616/science.png', 'alertId'],
    ['a leading zero', '/cutouts/0123/science.png', 'alertId'],
    ['an unknown kind', '/cutouts/123/sky.png', 'kind'],
    ['no format', '/cutouts/123/science', 'format'],
    ['an unknown format', '/cutouts/123/science.jpg', 'format'],
  ])('answers %s with 400', async (_name, url, argument) => {
    const response = await fetch(baseUrl + url);
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_USER_INPUT');
    expect(body.error.message.startsWith(`${argument}:`)).toBe(true);
  });

  it.each([
    ['an unknown alert', cutoutPath(UNKNOWN_ID, 'science', 'png')],
    ['an absent cutout (empty in the table)', cutoutPath(BROKEN_ID, 'template', 'fits')],
    ['a path of the wrong shape', '/cutouts/1/2/science.png'],
  ])('answers %s with 404', async (_name, url) => {
    const response = await fetch(baseUrl + url);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it.each([
    ['a PNG of a broken gzip stream', cutoutPath(BROKEN_ID, 'science', 'png'), 'science', /cannot gunzip/],
    [
      'the FITS of a broken gzip stream',
      cutoutPath(BROKEN_ID, 'science', 'fits'),
      'science',
      /cannot gunzip/,
    ],
    [
      'a PNG of bytes that are not FITS',
      cutoutPath(BROKEN_ID, 'difference', 'png'),
      'difference',
      /END record/,
    ],
    [
      'the FITS of bytes that are not FITS',
      cutoutPath(BROKEN_ID, 'difference', 'fits'),
      'difference',
      /END record/,
    ],
  ])('answers %s with 422 and the reason, and logs it', async (_name, url, kind, reason) => {
    const before = logLines.length;
    const response = await fetch(baseUrl + url);
    expect(response.status).toBe(422);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('etag')).toBeNull();
    const text = await response.text();
    const { error } = JSON.parse(text) as { error: { code: string; message: string } };
    expect(error.code).toBe('UNREADABLE_CUTOUT');
    expect(error.message).toMatch(new RegExp(`^cutout ${kind} of alert ${BROKEN_ID} cannot be read: `));
    expect(error.message).toMatch(reason);
    expect(text).not.toMatch(/at .*\.ts/);
    const logged = logLines.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      logged.some((entry) => entry.msg === 'cutout cannot be read' && entry.alertId === String(BROKEN_ID)),
    ).toBe(true);
  });

  it('still serves the stored bytes of an unreadable cutout as .fits.gz', async () => {
    const response = await fetch(baseUrl + cutoutPath(BROKEN_ID, 'science', 'fits.gz'));
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(BROKEN_SCIENCE)).toBe(true);
  });

  it('refuses other methods with 405 and leaves other paths to the next route', async () => {
    const post = await fetch(baseUrl + cutoutPath(ztfIds[0]!, 'science', 'png'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    for (const other of ['/graphql', '/cutouts', '/cutoutsX/1/science.png']) {
      const response = await fetch(baseUrl + other);
      expect(response.status, other).toBe(418);
    }
  });
});

describe('storage failures', () => {
  it.each([
    ['unavailable', 503, 'SERVICE_UNAVAILABLE'],
    ['query-failed', 500, 'INTERNAL_SERVER_ERROR'],
  ] as const)('a %s store answers %i, masked', async (code, status, errorCode) => {
    const failing: CutoutStore = {
      byAlertIds: () => Promise.reject(new StorageError('Code: 999. secret table detail', code)),
    };
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const { server: http, url } = await serve(createCutoutHandler({ store: failing, logger }));
    try {
      const response = await fetch(url + cutoutPath(1n, 'science', 'png'));
      expect(response.status).toBe(status);
      const text = await response.text();
      expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe(errorCode);
      expect(text).not.toContain('secret');
      expect(lines.some((line) => line.includes('cutout read failed'))).toBe(true);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
