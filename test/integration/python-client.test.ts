// The Python client (clients/python, module fink_gql) against the real server over the real ZTF alerts: every
// call from a script (tables, pages, cutouts, collaboration, errors with their GraphQL codes, live alerts received
// while the alerts are replayed), the example notebook executed by nbclient so that it cannot rot, and a pip
// install of the package from the repository path.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/project.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { list, sql } from '../../src/storage/sql.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { finkClientPython } from '../helpers/fink-client.ts';
import { waitFor } from '../helpers/wait.ts';

const CLIENT_DIR = path.join(PROJECT_ROOT, 'clients', 'python');
const CHECK_SCRIPT = path.join(CLIENT_DIR, 'tests', 'check_client.py');
const OFFLINE_CHECKS = path.join(CLIENT_DIR, 'tests', 'check_offline.py');
const NOTEBOOK_RUNNER = path.join(CLIENT_DIR, 'tests', 'run_notebook.py');
const NOTEBOOK = path.join(CLIENT_DIR, 'examples', 'quickstart.ipynb');

let api: ApiSandbox;
let python: string;

beforeAll(async () => {
  [api, python] = await Promise.all([createApiSandbox('pyclient', { withAlerts: true }), finkClientPython()]);
}, 600_000);

afterAll(async () => {
  await api?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Python script to completion with the client importable from the repository (PYTHONPATH: no install
 * needed); `onLine` sees each stdout line as it arrives. A hard stop bounds it.
 */
function runPython(
  args: string[],
  env: Record<string, string>,
  onLine: (line: string) => void = () => undefined,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONPATH: path.join(CLIENT_DIR, 'src'), PYTHONUNBUFFERED: '1', ...env },
    });
    let stdout = '';
    let pending = '';
    const stderr: Buffer[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 400_000);
    child.once('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await queryRows<{ n: string }>(api.pipeline.db.client, query);
  return Number(row?.n);
}

interface ErrorSeen {
  code: string;
  argument: string | null;
  status?: number | null;
}

interface CheckResult {
  search: {
    count: number;
    limitedPages: number[];
    limitedIds: string[];
    firstIds: string[];
    gBright: number;
  };
  object: {
    objectId: string;
    label: string;
    ndet: number;
    lightCurvePoints: number;
    detections: number;
    alerts: number;
    objectsRows: string[];
    scores: number;
  };
  cone: {
    hasObject: boolean;
    nearest: number;
    objects: number;
    rows: number;
    wideRows: number;
    wholeRows: number;
    pagedSame: boolean;
    emptyColumns: string[];
    emptyRows: number;
  };
  latest: { hasObject: boolean; labels: string[] };
  table: { rows: number; columns: string[] };
  cutouts: { alertId: string; shapes: Record<string, number[]>; finite: boolean; png: boolean };
  annotations: {
    versions: number[];
    citation: string;
    visible: number;
    all: number;
    retracted: boolean;
    staleEdit: ErrorSeen;
  };
  votes: { rows: number; confidence: number; consensus: string; share: number; readerVote: ErrorSeen };
  savedFilters: {
    listed: boolean;
    name: string;
    definition: unknown;
    deleted: boolean;
    afterDelete: ErrorSeen;
  };
  errors: Record<string, ErrorSeen>;
  liveErrors: Record<string, ErrorSeen>;
  live: { count: number; bands: string[]; ids: string[]; timestamps: boolean };
  watchlists: {
    listed: boolean;
    name: string;
    public: boolean;
    targets: { ra: number; dec: number; radiusArcsec: number; label: string }[];
    hits: number;
    expectedHits: number;
    uniqueHits: number;
    hitsHaveObject: boolean;
    hitsLimited: number;
    deleted: boolean;
    afterDelete: ErrorSeen;
  };
}

describe('the Python client (fink_gql)', () => {
  it('reads, searches, annotates, subscribes and fails with the GraphQL codes, against the real server', async () => {
    const token = await api.token('py_annotator', 'annotator');
    const readerToken = await api.token('py_reader', 'reader');
    const executions = api.launched.server.shared.activeExecutions;
    const replays: Promise<void>[] = [];
    const run = await runPython(
      [CHECK_SCRIPT],
      { FINK_URL: api.url, FINK_TOKEN: token, FINK_READER_TOKEN: readerToken },
      (line) => {
        // LIVE: the client has subscribed; replay the alerts once the server runs its subscription.
        if (line === 'LIVE') {
          replays.push(
            waitFor(() => api.launched.server.shared.activeExecutions > executions, 60_000).then(() =>
              api.pipeline.publish(api.payloads),
            ),
          );
        } else if (line === 'REPLAY') {
          replays.push(api.pipeline.publish(api.payloads));
        }
      },
    );
    await Promise.all(replays);
    expect(run.code, run.stderr).toBe(0);
    const resultLine = run.stdout.split('\n').find((line) => line.startsWith('RESULT '));
    expect(resultLine, run.stdout + run.stderr).toBeDefined();
    const result = JSON.parse(resultLine!.slice('RESULT '.length)) as CheckResult;

    // Every alert, read in pages of 100, once each; a limit stops mid-page, in the same order.
    const alerts = await count(sql`SELECT count() AS n FROM alerts FINAL`);
    expect(result.search.count).toBe(alerts);
    expect(result.search.limitedPages).toEqual([50, 50, 30]);
    expect(result.search.limitedIds).toEqual(result.search.firstIds);
    expect(result.search.gBright).toBe(
      await count(sql`SELECT count() AS n FROM alerts FINAL WHERE band = 'g' AND mag <= 19`),
    );

    const { objectId } = result.object;
    expect(result.object.lightCurvePoints).toBe(
      await count(sql`SELECT count() AS n FROM lightcurve FINAL WHERE object_id = ${objectId}`),
    );
    expect(result.object.alerts).toBe(
      await count(sql`SELECT count() AS n FROM alerts FINAL WHERE object_id = ${objectId}`),
    );
    expect(result.object.alerts).toBeGreaterThan(1);
    expect(result.object.detections).toBeGreaterThan(0);
    expect(result.object.objectsRows).toEqual([objectId]);
    expect(result.object.scores).toBeGreaterThan(0);

    // The simulator puts many objects at the same positions: the object is among those at distance 0.
    expect(result.cone).toMatchObject({ hasObject: true, nearest: 0, wideRows: 3 });
    expect(result.cone.rows).toBe(result.cone.objects);
    // The 1-degree cone holds at least `wideRows` objects: read by pages of 2, it is the same list.
    expect(result.cone.wholeRows).toBeGreaterThanOrEqual(3);
    expect(result.cone.pagedSame).toBe(true);
    expect(result.cone.emptyRows).toBe(0);
    expect(result.cone.emptyColumns).toEqual(['distanceArcsec', 'objectId']);
    // latestObjects selects by the class of an alert in the window; the objects' labels are their latest ones.
    expect(result.latest.hasObject).toBe(true);
    expect(result.table.rows).toBe(result.object.lightCurvePoints);
    expect(result.table.columns).toContain('mag');

    expect(result.cutouts.shapes.science).toHaveLength(2);
    for (const shape of Object.values(result.cutouts.shapes)) expect(shape[0]).toBeGreaterThan(10);
    expect(result.cutouts.finite).toBe(true);
    expect(result.cutouts.png).toBe(true);

    expect(result.annotations).toMatchObject({
      versions: [1, 2, 3],
      citation: '15000',
      visible: 0,
      all: 1,
      retracted: true,
      staleEdit: { code: 'CONFLICT' },
    });
    expect(result.votes).toMatchObject({
      rows: 1,
      confidence: 0.8,
      consensus: 'SN Ia',
      share: 1,
      readerVote: { code: 'FORBIDDEN' },
    });
    expect(result.savedFilters).toEqual({
      listed: true,
      name: 'bright g (renamed)',
      definition: { band: ['g'] },
      deleted: true,
      afterDelete: { code: 'NOT_FOUND', argument: null, status: 200 },
    });

    expect(result.errors).toMatchObject({
      badRadius: { code: 'BAD_USER_INPUT', argument: 'radiusArcsec' },
      badFilter: { code: 'BAD_USER_INPUT', argument: 'filter.cone.radiusArcsec' },
      anonymousAnnotation: { code: 'UNAUTHENTICATED' },
      readerAnnotation: { code: 'FORBIDDEN' },
      wrongToken: { code: 'UNAUTHENTICATED', status: 401 },
      unknownCutout: { code: 'NOT_FOUND', status: 404 },
      unknownLightCurve: { code: 'NOT_FOUND' },
      badQuery: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(result.liveErrors).toMatchObject({
      badFilter: { code: 'BAD_USER_INPUT', argument: 'filter.cone.radiusArcsec' },
      wrongToken: { code: 'FORBIDDEN' },
    });

    // Live alerts arrived while the alerts were replayed, of the filter's band, and are stored ones.
    expect(result.live).toMatchObject({ count: 10, bands: ['g'], timestamps: true });
    const ids = result.live.ids.map((id) => BigInt(id));
    expect(await count(sql`SELECT count() AS n FROM alerts FINAL WHERE alert_id IN (${list(ids)})`)).toBe(10);

    // The watchlist around the object recorded every alert within its radius as a hit (read in pages of 10).
    expect(result.watchlists).toMatchObject({
      listed: true,
      name: 'pyclient renamed',
      public: true,
      hitsHaveObject: true,
      hitsLimited: 15,
      deleted: true,
      afterDelete: { code: 'NOT_FOUND' },
    });
    expect(result.watchlists.targets).toHaveLength(1);
    expect(result.watchlists.expectedHits).toBeGreaterThan(15);
    expect(result.watchlists.hits).toBe(result.watchlists.expectedHits);
    expect(result.watchlists.uniqueHits).toBe(result.watchlists.hits);
  }, 600_000);

  it('runs the example notebook (nbclient) against the server', async () => {
    const run = await runPython([NOTEBOOK_RUNNER, NOTEBOOK], { FINK_URL: api.url });
    expect(run.code, run.stderr).toBe(0);
    const cells = /EXECUTED (\d+)/.exec(run.stdout);
    expect(Number(cells?.[1])).toBeGreaterThanOrEqual(8);
    // The error cell printed the code and the argument the server named.
    expect(run.stdout).toContain('BAD_USER_INPUT radiusArcsec');
    expect(run.stdout).toMatch(/\d+ alerts/);
  }, 300_000);

  it('reads FITS as astropy does, follows pages and builds tables (no server)', async () => {
    const run = await runPython([OFFLINE_CHECKS], {});
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('OK 16');
  }, 120_000);

  it('installs with pip from the repository path, typed (py.typed), offline', async () => {
    // A copy: pip builds in the source tree, and the repository must not get build/ or egg-info directories.
    const work = await mkdtemp(path.join(tmpdir(), 'fink-pyclient-'));
    try {
      const source = path.join(work, 'src');
      await cp(CLIENT_DIR, source, {
        recursive: true,
        filter: (file) => !file.includes('__pycache__') && !file.includes('.egg-info'),
      });
      const target = path.join(work, 'site');
      // No index and no build isolation: the venv's pinned setuptools builds it, nothing is downloaded.
      const install = await runPython(
        [
          '-m',
          'pip',
          'install',
          '--no-index',
          '--no-deps',
          '--no-build-isolation',
          '--disable-pip-version-check',
          '--target',
          target,
          source,
        ],
        { PYTHONPATH: '' },
      );
      expect(install.code, install.stdout + install.stderr).toBe(0);
      const probe = await runPython(
        [
          '-c',
          'import importlib.metadata as m, importlib.resources as r, fink_gql; ' +
            'print(fink_gql.__file__); print(m.version("fink-graphql-client")); ' +
            'print(r.files("fink_gql").joinpath("py.typed").is_file())',
        ],
        { PYTHONPATH: target },
      );
      expect(probe.code, probe.stderr).toBe(0);
      const [file, version, typed] = probe.stdout.trim().split('\n');
      expect(file?.startsWith(target)).toBe(true);
      expect(version).toBe('0.1.0');
      expect(typed).toBe('True');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});
