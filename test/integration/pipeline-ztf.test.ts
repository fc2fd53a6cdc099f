// The whole pipeline on the 611 real ZTF alerts: stream2raw + raw2science + distribution against the real broker
// and server, checked against what the alert files themselves contain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINK_ZTF_SCORES } from '../../src/pipeline/classifiers/fink/index.ts';
import { ztfToAlert } from '../../src/pipeline/decode/ztf-alert.ts';
import { createZtfDecoder, type ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { brokerPackageVersion } from '../../src/pipeline/encode/distribution.ts';
import { decodeScienceRecord } from '../../src/pipeline/encode/science-record.ts';
import { headerText } from '../../src/pipeline/sources/kafka-batch-source.ts';
import { distributionTopic } from '../../src/pipeline/filters/builtin.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import {
  FINK_DISTRIBUTION_FIELDS,
  finkClientPython,
  runReader,
  type ReaderLine,
} from '../helpers/fink-client.ts';
import { FINK_SCIENCE_VERSION, parityReference } from '../helpers/fink-models.ts';
import { consumeMessages, testKafka } from '../helpers/kafka.ts';
import { createPipelineSandbox, readAll, type PipelineSandbox } from '../helpers/pipeline.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

let sandbox: PipelineSandbox;
/** Distinct alerts by candid, as decoded from the files (three candids come twice upstream). */
const byCandid = new Map<string, ZtfAlert>();
/** The candids that pass Fink's quality cuts (rb >= 0.55, nbad == 0, not the i band). */
const passing = new Set<string>();
/** Messages whose alert passes the cuts: more than `passing`, as three candids were sent twice. */
let passingMessages = 0;

beforeAll(async () => {
  const payloads = readAll(ztfAlertFiles());
  const decoder = createZtfDecoder();
  for (const payload of payloads) {
    const alert = decoder.decode(payload);
    byCandid.set(alert.candid.toString(), alert);
    const { rb, nbad, fid } = alert.candidate;
    if (rb !== null && rb >= 0.55 && nbad === 0 && fid !== 3) {
      passing.add(alert.candid.toString());
      passingMessages++;
    }
  }
  sandbox = await createPipelineSandbox('ztf');
  // As the demo: the shared catalogs and the fink-science wheel's (VSX, 4LAC, Mangrove), Fink's models.
  await sandbox.loadDemoCatalogs();
  await sandbox.start('stream2raw');
  await sandbox.start('raw2science');
  await sandbox.start('distribution');
  await sandbox.publish(payloads);
  // stream2raw and raw2science read the upstream topic independently: wait for both tables.
  await waitFor(async () => {
    const [row] = await queryRows<{ stored: string; archived: string }>(
      sandbox.db.client,
      sql`SELECT (SELECT count() FROM alerts FINAL) AS stored, (SELECT count() FROM raw_alerts FINAL) AS archived`,
    );
    return Number(row?.stored) === passing.size && Number(row?.archived) === byCandid.size;
  }, 120_000);
}, 300_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe('the pipeline on the 611 real ZTF alerts', () => {
  it('archives every distinct alert and stores each one passing the cuts exactly once, ids exact', async () => {
    expect(byCandid.size).toBe(608);
    const raw = await queryRows<{ id: string }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id FROM raw_alerts FINAL`,
    );
    expect(new Set(raw.map((r) => r.id))).toEqual(new Set(byCandid.keys()));

    const stored = await queryRows<{ id: string; object_id: string; n: string }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, any(object_id) AS object_id, count() AS n
          FROM alerts FINAL GROUP BY alert_id`,
    );
    expect(stored.every((row) => row.n === '1')).toBe(true);
    expect(new Set(stored.map((row) => row.id))).toEqual(passing);
    for (const row of stored) expect(row.object_id).toBe(byCandid.get(row.id)!.objectId);
  });

  it('keeps every light-curve point the alerts carry, once per object, time and band', async () => {
    const expected = new Map<string, Set<string>>();
    for (const candid of passing) {
      const alert = byCandid.get(candid)!;
      const keys = expected.get(alert.objectId) ?? new Set<string>();
      for (const point of ztfToAlert(alert, '').points) keys.add(`${point.jd.toFixed(7)}|${point.band}`);
      expected.set(alert.objectId, keys);
    }
    const rows = await queryRows<{ object_id: string; jd: number; band: string }>(
      sandbox.db.client,
      sql`SELECT object_id, jd, band FROM lightcurve FINAL`,
    );
    const stored = new Map<string, Set<string>>();
    for (const row of rows) {
      const keys = stored.get(row.object_id) ?? new Set<string>();
      keys.add(`${row.jd.toFixed(7)}|${row.band}`);
      stored.set(row.object_id, keys);
    }
    expect(stored).toEqual(expected);
    expect(rows.length).toBe([...expected.values()].reduce((n, keys) => n + keys.size, 0));
  });

  it('serves the three cutouts byte for byte', async () => {
    const found = await sandbox.cutouts([...passing].map(BigInt));
    expect(found.size).toBe(passing.size);
    // Compared as hex: a deep equality of 50 KB Buffers walks them byte by byte (a minute for these).
    const hex = (buffer: Buffer | null | undefined) => (buffer == null ? '' : buffer.toString('hex'));
    for (const [id, cutouts] of found) {
      const alert = byCandid.get(id.toString())!;
      expect(hex(cutouts.science)).toBe(hex(alert.cutoutScience?.stampData));
      expect(hex(cutouts.template)).toBe(hex(alert.cutoutTemplate?.stampData));
      expect(hex(cutouts.difference)).toBe(hex(alert.cutoutDifference?.stampData));
    }
  });

  it("records the label and every one of Fink's scores with its model's provenance", async () => {
    const rows = await queryRows<{
      id: string;
      classifier: string;
      version: string;
      label: string;
      model_file: string;
      model_sha256: string;
      fink_science_version: string;
    }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, classifier, version, label, model_file, model_sha256,
                 fink_science_version
          FROM classifications FINAL ORDER BY id, classifier`,
    );
    const byAlert = new Map<string, typeof rows>();
    for (const row of rows) byAlert.set(row.id, [...(byAlert.get(row.id) ?? []), row]);
    expect(new Set(byAlert.keys())).toEqual(passing);
    for (const [id, alertRows] of byAlert) {
      expect(
        alertRows.filter((r) => r.classifier === 'fink'),
        id,
      ).toHaveLength(1);
      const scores = alertRows.filter((r) => r.classifier !== 'fink');
      expect(scores.map((r) => r.classifier).sort()).toEqual([...FINK_ZTF_SCORES].sort());
      for (const score of scores) {
        expect(score.version, JSON.stringify(score)).toBe(FINK_SCIENCE_VERSION);
        expect(score.fink_science_version).toBe(FINK_SCIENCE_VERSION);
        // The kilonova forest comes from kndetect (models.kndetectDir), which a fresh machine does not have.
        if (score.classifier === 'rf_kn_vs_nonkn' && score.model_file === '') continue;
        expect(score.model_file, JSON.stringify(score)).toMatch(/\S/);
        expect(score.model_sha256).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it('stores the scores and the label fink-science 7.4.0 computes (the parity fixture) for every stored alert', async () => {
    const reference = parityReference();
    const rows = await queryRows<{ id: string; classifier: string; label: string; score: number | null }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, classifier, label, score FROM classifications FINAL`,
    );
    expect(new Set(rows.map((r) => r.id))).toEqual(passing);
    const off: string[] = [];
    for (const row of rows) {
      const ref = reference.get(row.id);
      if (ref === undefined) throw new Error(`alert ${row.id} is not in the parity fixture`);
      if (row.classifier === 'fink') {
        // Without kndetect's forest the kilonova flag cannot rise: those alerts' labels are not comparable.
        if (row.label !== ref.finkclass && !(ref.rf_kn_vs_nonkn > 0.5)) {
          off.push(`${row.id} label: ${row.label} vs ${ref.finkclass}`);
        }
        continue;
      }
      const theirs = ref[row.classifier as (typeof FINK_ZTF_SCORES)[number]];
      if (row.classifier === 'rf_kn_vs_nonkn' && row.score === null) continue;
      if (row.score === null || Math.abs(row.score - theirs) > 1e-4) {
        off.push(`${row.id} ${row.classifier}: ${row.score} vs ${theirs}`);
      }
    }
    expect(off).toEqual([]);
  });

  it('flags known solar-system objects (roid 3) with their name', async () => {
    const rows = await queryRows<{ id: string; roid: number; ss_name: string }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, roid, ss_name FROM alerts FINAL WHERE roid = 3`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.ss_name).toBe(byCandid.get(row.id)!.candidate.ssnamenr);
    }
  });

  it('publishes the record of every stored alert to the science topic', async () => {
    const messages = await consumeMessages(
      testKafka(),
      sandbox.config.pipeline.scienceTopic,
      passingMessages,
    );
    const candids = new Set<string>();
    for (const message of messages) {
      // The alert's record alone: keyed by object, no cutouts and no schema (a few KB, not 50-100).
      const record = decodeScienceRecord(message.value!, headerText(message.headers));
      candids.add(record.alertId.toString());
      expect(message.key?.toString()).toBe(record.objectId);
      expect(message.value!.length).toBeLessThan(20_000);
      expect(message.headers?.['fink-survey']?.toString()).toBe('ztf');
    }
    expect(candids).toEqual(passing);
  });

  it('distributes known solar-system objects to a topic that the real fink-client reads', async () => {
    const expected = await queryRows<{ id: string; ss_name: string; class: string }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, ss_name, class FROM alerts FINAL WHERE roid = 3 ORDER BY id`,
    );
    const topic = distributionTopic(sandbox.config.pipeline.distributionPrefix, 'sso_known', 'ztf');
    const python = await finkClientPython();
    const result = await runReader(python, [
      '--bootstrap',
      sandbox.config.kafka.brokers.join(','),
      '--topic',
      topic,
      '--group',
      `${topic}_reader`,
      '--count',
      String(expected.length),
      '--timeout',
      '90',
      '--require-fields',
      FINK_DISTRIBUTION_FIELDS.join(','),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const alerts = result.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => (JSON.parse(line) as ReaderLine).alert);
    const got = alerts
      .map((alert) => ({
        id: String(alert.candid),
        ss_name: alert.ssname,
        class: alert.finkclass,
        roid: alert.roid,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    expect(got).toEqual(expected.map((row) => ({ ...row, roid: 3 })));

    // Fink's fields, by Fink's names and values (fink-client's distribution schema 2.7): what a consumer written
    // for Fink reads. Scores as stored; catalog types as cross-matched; nalerthist from the alert's photometry.
    const scores = await queryRows<{ id: string; classifier: string; score: number | null }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, classifier, score FROM classifications FINAL
          WHERE classifier != 'fink' AND alert_id IN (SELECT alert_id FROM alerts FINAL WHERE roid = 3)`,
    );
    const matches = await queryRows<{ id: string; catalog: string; type: string }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, catalog, type FROM crossmatches FINAL
          WHERE alert_id IN (SELECT alert_id FROM alerts FINAL WHERE roid = 3)`,
    );
    const stored = (id: string, classifier: string) =>
      scores.find((row) => row.id === id && row.classifier === classifier)?.score ?? null;
    const catalogType = (id: string, catalog: string) =>
      matches.find((row) => row.id === id && row.catalog === catalog)?.type || 'Unknown';
    for (const alert of alerts) {
      const id = String(alert.candid);
      const source = byCandid.get(id)!;
      const detections = [source.candidate, ...(source.prv_candidates ?? [])].filter(
        (c) => c.magpsf !== null,
      ).length;
      expect(alert, id).toMatchObject({
        cdsxmatch: 'Unknown',
        DR3Name: null,
        Plx: null,
        e_Plx: null,
        gcvs: catalogType(id, 'gcvs'),
        vsx: catalogType(id, 'vsx'),
        roid: 3,
        rf_snia_vs_nonia: stored(id, 'rf_snia_vs_nonia'),
        snn_snia_vs_nonia: stored(id, 'snn_snia_vs_nonia'),
        snn_sn_vs_all: stored(id, 'snn_sn_vs_all'),
        mulens: stored(id, 'mulens'),
        nalerthist: detections,
        rf_kn_vs_nonkn: stored(id, 'rf_kn_vs_nonkn'),
        fink_broker_version: brokerPackageVersion(),
        fink_science_version: FINK_SCIENCE_VERSION,
      });
      // Fink's scores are numbers on the wire for every alert it classifies.
      expect(typeof alert.snn_snia_vs_nonia).toBe('number');
      expect(alert.nalerthist).toBeGreaterThan(0);
    }
  }, 600_000);
});
