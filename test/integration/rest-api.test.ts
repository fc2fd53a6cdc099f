// Fink's REST API (/api/v1/*) on a database the real pipeline filled from the real ZTF alerts, called the way
// Fink's notebooks call Fink's: test/interop/rest_client.py with the real requests, pandas, pyarrow and astropy
// (the interop venv), printing what it read; this file asserts on that against what ClickHouse holds. Plus the
// admission: REST requests draw on the same per-address bucket as GraphQL.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createConfiguredDecoder } from '../../src/pipeline/decode/configured-decoder.ts';
import { PROJECT_ROOT } from '../../src/project.ts';
import { buildFinkSchema } from '../../src/resolvers/index.ts';
import { createClickHouseStores } from '../../src/resolvers/stores.ts';
import { createRestApi } from '../../src/server/rest/rest-api.ts';
import { startServer } from '../../src/server/server.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { finkClientPython } from '../helpers/fink-client.ts';

const CLIENT = path.join(PROJECT_ROOT, 'test', 'interop', 'rest_client.py');
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

let api: ApiSandbox;
let python: string;

const rows = <T>(statement: ReturnType<typeof sql>) => queryRows<T>(api.pipeline.db.client, statement);

beforeAll(async () => {
  [api, python] = await Promise.all([createApiSandbox('rest', { withAlerts: true }), finkClientPython()]);
}, 900_000);

afterAll(async () => {
  await api?.stop();
});

function runClient(url: string, cases: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [CLIENT, url, JSON.stringify(cases)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.once('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

interface Table {
  status: number;
  columns: string[];
  candid_dtype: string;
  candids: string[];
}
type Resolved = { status: number; body: Record<string, unknown>[] };
interface ClientOutput {
  objects_json: Table & {
    content_type: string;
    jd_descending: boolean;
    object_ids: string[];
    magpsf: number[];
    classification: string[];
  };
  objects_dataframe: { candid_dtype: string; candids: string[] };
  objects_csv: Table;
  objects_parquet: Table & { candid_arrow_type: string; jd_arrow_type: string };
  objects_votable: {
    status: number;
    candid_datatype: string;
    ra_unit: string;
    ra_ucd: string;
    jd_ucd: string;
    magpsf_unit: string;
    magpsf_ucd: string;
    candid_dtype: string;
    candids: string[];
    nrows: number;
  };
  upperlim: {
    status: number;
    columns: string[];
    tags: Record<string, number>;
    candid_dtype: string;
    valid_candids: string[];
  };
  withcutouts: { status: number; shape: number[] | null };
  conesearch: { status: number; object_ids: string[]; max_separation_deg: number; candid_dtype: string };
  conesearch_votable: { status: number; nrows: number; sep_unit: string };
  conesearch_future: { status: number; rows: number };
  latests: { status: number; rows: number; classes: string[]; object_ids: string[] };
  latests_parquet: { status: number; rows: number; candid_dtype: string };
  sso: { status: number; rows: number; ssnamenr: string[] };
  search_csv: {
    status: number;
    rows: number;
    classes: string[];
    fids: number[];
    candid_dtype: string;
    candids: string[];
  };
  resolver_ssodnet: Resolved;
  resolver_ssodnet_reverse: Resolved;
  resolver_simbad: Resolved;
  resolver_simbad_reverse: Resolved;
  classes: { status: number; body: Record<string, string[]> };
  schema: { status: number; sections: string[]; candid: { type: string; ucd?: string } };
  statistics: { status: number; dates: string[]; sci: number[]; raw: number[]; columns: string[] };
  cutout_png: { status: number; content_type: string; magic: string };
  cutout_fits: { status: number; shape: number[] };
  cutout_array: { status: number; keys: string[]; shape: number[] };
  errors: Record<string, { status: number; text: string }>;
}

describe("Fink's REST API with requests, pandas, pyarrow and astropy", () => {
  let out: ClientOutput;
  let objectId: string;
  let candids: string[];
  let ssnamenr: string;
  let ssObjectId: string;
  let label: string;
  let catalogSource: string;
  let catalogObjectId: string;
  let upperObjectId: string;
  let upperCandids: string[];

  beforeAll(async () => {
    // The object with the most alerts, the busiest solar-system name, the commonest label.
    const [busiest] = await rows<{ object_id: string }>(
      sql`SELECT object_id, count() AS n FROM alerts FINAL GROUP BY object_id ORDER BY n DESC, object_id LIMIT 1`,
    );
    objectId = busiest!.object_id;
    candids = (
      await rows<{ id: string }>(
        sql`SELECT toString(alert_id) AS id FROM alerts FINAL WHERE object_id = ${objectId} ORDER BY jd DESC, alert_id DESC`,
      )
    ).map((row) => row.id);
    const [sso] = await rows<{ ss_name: string; object_id: string }>(
      sql`SELECT ss_name, any(object_id) AS object_id, count() AS n FROM alerts FINAL WHERE ss_name != ''
          GROUP BY ss_name ORDER BY n DESC, ss_name LIMIT 1`,
    );
    ssnamenr = sso!.ss_name;
    ssObjectId = sso!.object_id;
    const [common] = await rows<{ class: string }>(
      sql`SELECT class, count() AS n FROM alerts FINAL GROUP BY class ORDER BY n DESC, class LIMIT 1`,
    );
    label = common!.class;
    const [source] = await rows<{ source_id: string; object_id: string }>(
      sql`SELECT source_id, object_id FROM crossmatches FINAL ORDER BY source_id, object_id LIMIT 1`,
    );
    catalogSource = source!.source_id;
    catalogObjectId = source!.object_id;
    // The object with the most upper limits that has an alert stored.
    const [upper] = await rows<{ object_id: string }>(
      sql`SELECT object_id, countIf(kind = 'upper-limit') AS n FROM lightcurve FINAL
          WHERE object_id IN (SELECT object_id FROM alerts) GROUP BY object_id ORDER BY n DESC, object_id LIMIT 1`,
    );
    upperObjectId = upper!.object_id;
    upperCandids = (
      await rows<{ id: string }>(
        sql`SELECT toString(alert_id) AS id FROM alerts FINAL WHERE object_id = ${upperObjectId} ORDER BY jd DESC, alert_id DESC`,
      )
    ).map((row) => row.id);
    const [position] = await rows<{ ra: number; dec: number }>(
      sql`SELECT ra, dec FROM objects FINAL WHERE object_id = ${objectId}`,
    );
    const result = await runClient(api.url, {
      objectId,
      candid: candids[0],
      cone: { ra: position!.ra, dec: position!.dec, radius: 5 },
      class: label,
      ssnamenr,
      ssObjectId,
      catalogSource,
      catalogObjectId,
      upperObjectId,
    });
    expect(result.stderr.split('\n').filter((line) => /Traceback|Error/.test(line))).toEqual([]);
    expect(result.code).toBe(0);
    out = JSON.parse(result.stdout) as ClientOutput;
  }, 300_000);

  it('objects as json: one row per alert, newest first, ids exact in read_json and DataFrame(r.json())', () => {
    expect(candids.length).toBeGreaterThan(1);
    expect(candids.every((id) => BigInt(id) > MAX_SAFE)).toBe(true);
    const json = out.objects_json;
    expect(json.status).toBe(200);
    expect(json.content_type).toBe('application/json');
    expect(json.candid_dtype).toBe('int64');
    expect(json.candids).toEqual(candids);
    expect(json.jd_descending).toBe(true);
    expect(json.object_ids).toEqual([objectId]);
    for (const column of [
      'i:objectId',
      'i:jd',
      'i:magpsf',
      'i:fid',
      'i:ra',
      'd:cdsxmatch',
      'd:roid',
      'v:classification',
    ]) {
      expect(json.columns).toContain(column);
    }
    expect(json.magpsf.every((mag) => mag > 10 && mag < 25)).toBe(true);
    expect(out.objects_dataframe).toEqual({ candid_dtype: 'int64', candids });
  });

  it('objects as csv (GET, columns) and parquet (form POST): int64 ids exact', () => {
    expect(out.objects_csv.status).toBe(200);
    expect(out.objects_csv.columns).toEqual(['i:candid', 'i:jd', 'i:magpsf']);
    expect(out.objects_csv.candid_dtype).toBe('int64');
    expect(out.objects_csv.candids).toEqual(candids);
    const parquet = out.objects_parquet;
    expect(parquet.status).toBe(200);
    expect(parquet.candid_arrow_type).toBe('int64');
    expect(parquet.jd_arrow_type).toBe('double');
    expect(parquet.candid_dtype).toBe('int64');
    expect(parquet.candids).toEqual(candids);
    expect(parquet.columns).toEqual(out.objects_json.columns);
  });

  it('objects as VOTable: astropy reads long ids exactly, with units and UCDs', () => {
    const vot = out.objects_votable;
    expect(vot.status).toBe(200);
    expect(vot.candid_datatype).toBe('long');
    expect(vot.candid_dtype).toBe('int64');
    expect(vot.candids).toEqual(candids);
    expect(vot.ra_unit).toBe('deg');
    expect(vot.ra_ucd).toBe('pos.eq.ra;meta.main');
    expect(vot.jd_ucd).toBe('time.epoch');
    expect(vot.magpsf_unit).toBe('mag');
    expect(vot.magpsf_ucd).toBe('phot.mag');
    expect(vot.nrows).toBe(candids.length);
  });

  it('withupperlim tags valid, upperlim and badquality rows; candid stays int64', async () => {
    const [counts] = await rows<{ limits: string; detections: string }>(
      sql`SELECT countIf(kind = 'upper-limit') AS limits, countIf(kind = 'detection') AS detections
          FROM lightcurve FINAL WHERE object_id = ${upperObjectId}`,
    );
    const up = out.upperlim;
    expect(up.status).toBe(200);
    expect(up.columns).toEqual(['i:jd', 'i:candid', 'i:magpsf', 'i:diffmaglim', 'd:tag']);
    expect(Number(counts!.limits)).toBeGreaterThan(0);
    expect(up.tags.valid).toBe(upperCandids.length);
    expect(up.tags.upperlim).toBe(Number(counts!.limits));
    expect((up.tags.badquality ?? 0) + (up.tags.valid ?? 0)).toBe(Number(counts!.detections));
    expect(up.candid_dtype).toBe('int64');
    expect(up.valid_candids).toEqual(upperCandids);
  });

  it('withcutouts adds the 63x63 science cutout as a 2D array', () => {
    expect(out.withcutouts).toEqual({ status: 200, shape: [63, 63] });
  });

  it('conesearch finds the object within the radius, in json and VOTable; startdate filters by first detection', () => {
    expect(out.conesearch.status).toBe(200);
    expect(out.conesearch.object_ids).toContain(objectId);
    expect(out.conesearch.max_separation_deg).toBeLessThanOrEqual(5 / 3600);
    expect(out.conesearch.candid_dtype).toBe('int64');
    expect(out.conesearch_votable.status).toBe(200);
    expect(out.conesearch_votable.nrows).toBe(out.conesearch.object_ids.length);
    expect(out.conesearch_votable.sep_unit).toBe('deg');
    expect(out.conesearch_future).toEqual({ status: 200, rows: 0 });
  });

  it('latests returns objects of the class, at most n, in json and parquet', () => {
    expect(out.latests.status).toBe(200);
    expect(out.latests.rows).toBeGreaterThan(0);
    expect(out.latests.rows).toBeLessThanOrEqual(5);
    expect(out.latests.classes).toEqual([label]);
    expect(new Set(out.latests.object_ids).size).toBe(out.latests.rows);
    expect(out.latests_parquet).toEqual({ status: 200, rows: out.latests.rows, candid_dtype: 'int64' });
  });

  it('search returns the newest alerts the filter selects, as csv', async () => {
    const expected = await rows<{ id: string }>(
      sql`SELECT toString(alert_id) AS id FROM alerts FINAL WHERE class = ${label} AND band = 'g'
          ORDER BY jd DESC, alert_id DESC LIMIT 7`,
    );
    expect(out.search_csv).toEqual({
      status: 200,
      rows: expected.length,
      classes: [label],
      fids: [1],
      candid_dtype: 'int64',
      candids: expected.map((row) => row.id),
    });
  });

  it('sso returns the alerts of the solar-system object; the offline resolver finds its name both ways', async () => {
    const [count] = await rows<{ n: string }>(
      sql`SELECT count() AS n FROM alerts FINAL WHERE ss_name = ${ssnamenr}`,
    );
    expect(out.sso.status).toBe(200);
    expect(out.sso.rows).toBe(Number(count!.n));
    expect(out.sso.ssnamenr).toEqual([ssnamenr]);
    expect(out.resolver_ssodnet.status).toBe(200);
    expect(out.resolver_ssodnet.body.map((row) => row['i:ssnamenr'])).toEqual([ssnamenr]);
    expect(out.resolver_ssodnet_reverse.body).toEqual([{ 'i:objectId': ssObjectId, 'i:ssnamenr': ssnamenr }]);
  });

  it('resolves catalogue names to stored objects and back', async () => {
    const matched = await rows<{ object_id: string }>(
      sql`SELECT DISTINCT object_id FROM crossmatches FINAL WHERE source_id = ${catalogSource} ORDER BY object_id`,
    );
    expect(out.resolver_simbad.status).toBe(200);
    const found = out.resolver_simbad.body.map((row) => String(row['i:objectId']));
    expect(found.sort()).toEqual(matched.map((row) => row.object_id).slice(0, 10));
    expect(out.resolver_simbad.body.every((row) => row['d:fullname'] === catalogSource)).toBe(true);
    const names = await rows<{ source_id: string }>(
      sql`SELECT DISTINCT source_id FROM crossmatches FINAL WHERE object_id = ${catalogObjectId} ORDER BY source_id`,
    );
    expect(out.resolver_simbad_reverse.status).toBe(200);
    const reverse = out.resolver_simbad_reverse.body;
    expect(reverse.every((row) => row['i:objectId'] === catalogObjectId)).toBe(true);
    expect(reverse.map((row) => String(row['d:fullname'])).sort()).toEqual(names.map((row) => row.source_id));
  });

  it('classes, schema and statistics', async () => {
    expect(out.classes.status).toBe(200);
    expect(out.classes.body['Fink classifiers']).toContain('Early SN Ia candidate');
    const all = Object.values(out.classes.body).flat();
    expect(all.some((name) => name === label || name === `(SIMBAD) ${label}`)).toBe(true);
    expect(out.schema.status).toBe(200);
    expect(out.schema.sections).toContain('ZTF original fields (i:)');
    expect(out.schema.candid).toMatchObject({ type: 'long', ucd: 'meta.id' });
    const [total] = await rows<{ n: string }>(sql`SELECT count() AS n FROM alerts FINAL`);
    expect(out.statistics.status).toBe(200);
    expect(out.statistics.sci.reduce((a, b) => a + b, 0)).toBe(Number(total!.n));
    // basic:raw: every alert received, before the cuts (the raw archive), so at least the stored ones each night.
    const [received] = await rows<{ n: string }>(sql`SELECT uniqExact(alert_id) AS n FROM raw_alerts`);
    expect(out.statistics.raw.reduce((a, b) => a + b, 0)).toBe(Number(received!.n));
    expect(Number(received!.n)).toBeGreaterThan(Number(total!.n));
    out.statistics.raw.forEach((raw, i) => expect(raw).toBeGreaterThanOrEqual(out.statistics.sci[i]!));
    expect(out.statistics.dates.every((d) => /^\d{8}$/.test(d))).toBe(true);
    expect(out.statistics.columns).toContain(`class:${label}`);
  });

  it('cutouts as PNG, FITS and arrays', () => {
    expect(out.cutout_png).toEqual({ status: 200, content_type: 'image/png', magic: '89504e470d0a1a0a' });
    expect(out.cutout_fits).toEqual({ status: 200, shape: [63, 63] });
    expect(out.cutout_array).toEqual({
      status: 200,
      keys: ['b:cutoutDifference_stampData', 'b:cutoutScience_stampData', 'b:cutoutTemplate_stampData'],
      shape: [63, 63],
    });
  });

  it.each([
    ['missing_objectId', 'objectId'],
    ['bad_format', 'output-format'],
    ['bad_radius', 'radius'],
    ['bad_ra', 'ra'],
    ['unknown_argument', 'colums'],
    ['unknown_column', 'i:nosuch'],
    ['bad_boolean', 'withupperlim'],
    ['bad_date', 'startdate'],
    ['bad_kind', 'kind'],
    ['bad_resolver', 'resolver'],
    ['bad_filter', 'filter.mag.min'],
  ])('%s: 400 naming %s', (name, argument) => {
    const error = out.errors[name]!;
    expect(error.status).toBe(400);
    const body = JSON.parse(error.text) as { status: string; text: string };
    expect(body.status).toBe('error');
    expect(body.text).toContain(`${argument}`);
  });
});

describe('admission', () => {
  it('REST requests draw on the same per-address bucket as GraphQL', async () => {
    const stores = createClickHouseStores(api.pipeline.db.client, createConfiguredDecoder(api.config));
    const logger = createLogger({ level: 'silent' });
    const server = await startServer({
      config: { ...api.config.server, port: 0, addressBurst: 3, addressRatePerSecond: 0.01 },
      distributionPrefix: 'fink',
      schema: await buildFinkSchema(),
      stores,
      services: {
        followups: { publish: () => Promise.resolve() },
        webhooks: { dispatch: () => Promise.resolve([]), idle: () => Promise.resolve() },
      },
      authenticate: () => Promise.resolve(null),
      events: { publish: () => Promise.resolve() },
      live: null,
      routes: [],
      apiRoutes: [createRestApi({ stores, config: api.config.server, logger })],
      logger,
    });
    try {
      const rest = () => fetch(`${server.url}/api/v1/classes`);
      const graphql = () =>
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
      const statuses = [];
      for (const call of [rest, graphql, rest, rest, graphql]) statuses.push((await call()).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await server.close();
    }
  });
});
