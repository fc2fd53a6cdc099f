// The distribution format against the real consumer: alerts we encode and publish to `fink_<filter>_ztf` topics
// are read by fink-client's AlertConsumer (PyPI package, pinned in test/interop/requirements.txt) and must come
// back field for field.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PhotometryPoint } from '../../src/pipeline/alert.ts';
import { readAvroContainerHeader } from '../../src/pipeline/decode/avro-container.ts';
import { ztfToAlert } from '../../src/pipeline/decode/ztf-alert.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { createDistributionEncoder } from '../../src/pipeline/encode/distribution.ts';
import type {
  DistributionEnrichment,
  FinkFields,
  DistributionLightCurveFeatures,
} from '../../src/pipeline/encode/distribution.ts';
import { ensureTopics } from '../../src/pipeline/kafka.ts';
import { testConfig, uniqueName } from '../helpers/context.ts';
import { connectedProducer, testKafka } from '../helpers/kafka.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';
import { finkClientPython, REQUIREMENTS, runReader, type ReaderLine } from '../helpers/fink-client.ts';

const BROKER_VERSION = 'interop-test';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

interface Picked {
  writerSchemaJson: string;
  alert: ZtfAlert;
}

describe('fink-client AlertConsumer on our distribution topics', () => {
  let python: string;

  beforeAll(async () => {
    // First run: creates the venv and installs fink-client and its dependencies from PyPI.
    python = await finkClientPython();
  }, 15 * 60_000);

  it('reads every alert back, field for field', async () => {
    const picked = pickAlerts();
    const ssoIndex = picked.findIndex(({ alert }) => hasSolarSystemName(alert));
    expect(ssoIndex).toBeGreaterThanOrEqual(0);
    expect(new Set(picked.map(({ alert }) => alert.schemavsn))).toEqual(new Set(['3.3', '4.02']));

    const kafka = testKafka();
    const topics = { sn: `fink_${uniqueName('early_sn')}_ztf`, sso: `fink_${uniqueName('sso')}_ztf` };
    await ensureTopics(kafka, [topics.sn, topics.sso], 2);

    const encoder = createDistributionEncoder({ brokerVersion: BROKER_VERSION });
    const sent = picked.map(({ writerSchemaJson, alert }, i) => {
      const enrichment = enrichmentFor(alert, i);
      const message = encoder.encode({ writerSchemaJson, record: alert, enrichment });
      return { alert, enrichment, message, topic: enrichment.ssname === null ? topics.sn : topics.sso };
    });
    const producer = await connectedProducer(kafka);
    try {
      // A few per request: each message is ~60 KB of alert plus ~10-20 KB of schema key, and a batch must stay
      // under the broker's 1 MB message.max.bytes.
      for (let start = 0; start < sent.length; start += 4) {
        for (const { topic, message } of sent.slice(start, start + 4)) {
          await producer.send({ topic, acks: -1, messages: [{ key: message.key, value: message.value }] });
        }
      }
    } finally {
      await producer.disconnect();
    }

    const result = await runReader(python, [
      '--bootstrap',
      testConfig().kafka.brokers.join(','),
      '--topic',
      topics.sn,
      '--topic',
      topics.sso,
      '--group',
      uniqueName('fink_client_group'),
      '--count',
      String(sent.length),
      '--timeout',
      '90',
    ]);
    expect(result.code, result.stderr).toBe(0);
    // The pinned package did the reading, not something else on the path.
    const pinned = /^fink-client==(\S+)$/m.exec(readFileSync(REQUIREMENTS, 'utf8'))?.[1];
    expect(result.stderr).toContain(`fink_client ${pinned}`);

    const lines = result.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ReaderLine);
    expect(lines).toHaveLength(sent.length);
    const byCandid = new Map(lines.map((line) => [line.alert.candid as string, line]));
    expect(byCandid.size).toBe(sent.length);

    for (const { alert, enrichment, message, topic } of sent) {
      const line = byCandid.get(alert.candid.toString());
      expect(line, `candid ${alert.candid}`).toBeDefined();
      const got = line!.alert as Record<string, unknown> & {
        candidate: Record<string, unknown>;
        prv_candidates: unknown[] | null;
        cutoutScience: { stampData: string } | null;
        cutoutDifference: { stampData: string } | null;
      };
      expect(line!.topic).toBe(topic);
      expect(line!.key_sha256).toBe(createHash('sha256').update(message.key).digest('hex'));

      // The fields users look at first, spelled out.
      expect(got.candid).toBe(alert.candid.toString());
      expect(alert.candid > MAX_SAFE).toBe(true);
      expect(got.objectId).toBe(alert.objectId);
      expect(got.candidate.magpsf).toBe(alert.candidate.magpsf);
      expect(got.candidate.ra).toBe(alert.candidate.ra);
      expect(got.candidate.dec).toBe(alert.candidate.dec);
      expect(got.candidate.ssnamenr).toBe(alert.candidate.ssnamenr);
      expect(got.prv_candidates?.length ?? null).toBe(alert.prv_candidates?.length ?? null);
      expect(got.cutoutScience?.stampData).toBe(alert.cutoutScience?.stampData.toString('base64'));
      expect(got.cutoutDifference?.stampData).toBe(alert.cutoutDifference?.stampData.toString('base64'));
      const broker = expectedBrokerFields(enrichment);
      expect(got.finkclass).toBe(broker.finkclass);
      expect(got.roid).toBe(broker.roid);
      expect(got.ssname).toBe(broker.ssname);
      expect(got.crossmatches).toEqual(broker.crossmatches);
      expect(got.classifier_scores).toEqual(broker.classifier_scores);
      expect(got.lc_features).toEqual(broker.lc_features);
      expect(got.processed_at).toBe(enrichment.processedAt);
      expect(got.fink_broker_version).toBe(BROKER_VERSION);

      // And everything else: the whole record, in the reader's JSON conventions.
      expect(got).toEqual(toReaderJson({ ...alert, ...broker }));
    }
  }, 240_000);
});

/** ~20 real alerts: 8 of schema 3.3, 11 of 4.02, and one 4.02 alert near a known solar-system object. */
function pickAlerts(): Picked[] {
  const decoder = createZtfDecoder();
  const load = (file: string): Picked => {
    const bytes = readFileSync(file);
    return {
      writerSchemaJson: readAvroContainerHeader(bytes).schemaBytes.toString('utf8'),
      alert: decoder.decode(bytes),
    };
  };
  const files = ztfAlertFiles();
  const v33 = files.filter((file) => file.includes(`${path.sep}2020-01${path.sep}`));
  const v402 = files.filter((file) => file.includes(`${path.sep}2023-10${path.sep}`));
  const picked = [...v33.slice(0, 8).map(load), ...v402.slice(0, 11).map(load)];
  for (const file of v402.slice(11)) {
    const candidate = load(file);
    if (hasSolarSystemName(candidate.alert)) {
      picked.push(candidate);
      break;
    }
  }
  return picked;
}

/** ZTF writes the string 'null' when no solar-system object is near. */
function hasSolarSystemName(alert: ZtfAlert): boolean {
  const name = alert.candidate.ssnamenr;
  return name !== null && name !== 'null' && name !== '';
}

const FINK_CLASSES = ['SN candidate', 'Early SN Ia candidate', 'Variable star', 'YSO candidate', 'Unknown'];

const MODEL = { modelFile: 'snn_models/snn_snia_vs_nonia/model.pt', modelSha256: 'a1'.repeat(32) };
const score = (
  classifier: string,
  value: number | null,
): DistributionEnrichment['classifierScores'][number] => ({
  classifier,
  version: '7.4.0',
  score: value,
  ...MODEL,
  finkScienceVersion: '7.4.0',
});

/** Fink's fields of a made-up enrichment: every one set, except what needs Gaia DR3. */
function finkFields(i: number, snn: number | null): FinkFields {
  return {
    cdsxmatch: i % 4 === 0 ? 'RRLyr' : 'Unknown',
    DR3Name: null,
    Plx: null,
    e_Plx: null,
    gcvs: i % 5 === 0 ? 'EA' : 'Unknown',
    vsx: 'Unknown',
    rf_snia_vs_nonia: 0,
    snn_snia_vs_nonia: snn,
    snn_sn_vs_all: snn === null ? null : snn / 2,
    mulens: 0,
    nalerthist: i + 1,
    rf_kn_vs_nonkn: i % 2 === 0 ? null : 0.013 * i,
    fink_science_version: '7.4.0',
  };
}

/** A made-up but plausible enrichment; the light-curve features are computed from the alert's own history. */
function enrichmentFor(alert: ZtfAlert, i: number): DistributionEnrichment {
  const processedAt = 1_700_000_000_000 + i * 1_234;
  if (hasSolarSystemName(alert)) {
    return {
      fink: finkFields(i, null),
      finkclass: 'Solar System MPC',
      roid: 3,
      ssname: alert.candidate.ssnamenr,
      crossmatches: [],
      classifierScores: [score('snn_snia_vs_nonia', null)],
      lcFeatures: lightCurveFeatures(ztfToAlert(alert, '').points),
      processedAt,
    };
  }
  const finkclass = FINK_CLASSES[i % FINK_CLASSES.length]!;
  const crossmatches: DistributionEnrichment['crossmatches'] = [];
  if (finkclass === 'Variable star') {
    crossmatches.push({
      catalog: 'gcvs',
      sourceId: `V${1000 + i} Cyg`,
      distanceArcsec: 0.42 + i / 100,
      type: 'EA',
    });
  }
  if (finkclass === 'YSO candidate') {
    crossmatches.push(
      { catalog: 'spicy', sourceId: String(80_000 + i), distanceArcsec: 1.05, type: 'ClassII' },
      {
        catalog: 'simbad',
        sourceId: `Gaia DR3 ${4_000_000_000_000_000_000n + BigInt(i)}`,
        distanceArcsec: 1.4,
        type: null,
      },
    );
  }
  const snn = alert.candidate.drb ?? alert.candidate.rb;
  return {
    fink: finkFields(i, snn),
    finkclass,
    roid: i % 3 === 0 ? null : 0,
    ssname: null,
    crossmatches,
    classifierScores: [
      score('snn_snia_vs_nonia', snn),
      score('rf_kn_vs_nonkn', i % 2 === 0 ? null : 0.013 * i),
      {
        classifier: 'heuristic_snia_early',
        version: '1.3.0',
        score: 1 / (i + 3),
        modelFile: '',
        modelSha256: '',
        finkScienceVersion: '',
      },
    ],
    lcFeatures: finkclass === 'Unknown' ? null : lightCurveFeatures(ztfToAlert(alert, '').points),
    processedAt,
  };
}

function lightCurveFeatures(points: PhotometryPoint[]): DistributionLightCurveFeatures {
  const detections = points
    .filter((p) => p.kind === 'detection' && p.mag !== null)
    .sort((a, b) => a.jd - b.jd);
  const inBand = (band: string): PhotometryPoint[] => detections.filter((p) => p.band === band);
  const limits = (band: string): number =>
    points.filter((p) => p.kind === 'upper-limit' && p.band === band).length;
  const peak = (band: string): number | null =>
    inBand(band).reduce<number | null>((min, p) => (min === null || p.mag! < min ? p.mag : min), null);
  const last = (band: string): number | null => inBand(band).at(-1)?.mag ?? null;
  const rate = (band: string): number | null => {
    const [prev, latest] = inBand(band).slice(-2);
    if (prev === undefined || latest === undefined || latest.jd === prev.jd) return null;
    return (latest.mag! - prev.mag!) / (latest.jd - prev.jd);
  };
  const lastG = last('g');
  const lastR = last('r');
  const latest = detections.at(-1);
  const previous = latest === undefined ? undefined : inBand(latest.band).at(-2);
  return {
    ndetG: inBand('g').length,
    ndetR: inBand('r').length,
    nlimG: limits('g'),
    nlimR: limits('r'),
    peakMagG: peak('g'),
    peakMagR: peak('r'),
    lastMagG: lastG,
    lastMagR: lastR,
    colorGR: lastG !== null && lastR !== null ? lastG - lastR : null,
    rateG: rate('g'),
    rateR: rate('r'),
    durationDays: detections.length > 1 ? detections.at(-1)!.jd - detections[0]!.jd : null,
    rising: latest !== undefined && previous !== undefined ? latest.mag! < previous.mag! : null,
  };
}

/** The broker's fields as they must appear on the wire, written out independently of the encoder's mapping. */
function expectedBrokerFields(e: DistributionEnrichment): Record<string, unknown> {
  const f = e.lcFeatures;
  return {
    // Fink's fields, by Fink's names (fink-client's distribution schema 2.7).
    cdsxmatch: e.fink.cdsxmatch,
    DR3Name: e.fink.DR3Name,
    Plx: e.fink.Plx,
    e_Plx: e.fink.e_Plx,
    gcvs: e.fink.gcvs,
    vsx: e.fink.vsx,
    rf_snia_vs_nonia: e.fink.rf_snia_vs_nonia,
    snn_snia_vs_nonia: e.fink.snn_snia_vs_nonia,
    snn_sn_vs_all: e.fink.snn_sn_vs_all,
    mulens: e.fink.mulens,
    nalerthist: e.fink.nalerthist,
    rf_kn_vs_nonkn: e.fink.rf_kn_vs_nonkn,
    fink_science_version: e.fink.fink_science_version,
    finkclass: e.finkclass,
    roid: e.roid,
    ssname: e.ssname,
    crossmatches: e.crossmatches.map((m) => ({
      catalog: m.catalog,
      source_id: m.sourceId,
      distance_arcsec: m.distanceArcsec,
      type: m.type,
    })),
    classifier_scores: e.classifierScores.map((s) => ({
      classifier: s.classifier,
      version: s.version,
      score: s.score,
      model_file: s.modelFile,
      model_sha256: s.modelSha256,
      fink_science_version: s.finkScienceVersion,
    })),
    lc_features:
      f === null
        ? null
        : {
            ndet_g: f.ndetG,
            ndet_r: f.ndetR,
            nlim_g: f.nlimG,
            nlim_r: f.nlimR,
            peak_mag_g: f.peakMagG,
            peak_mag_r: f.peakMagR,
            last_mag_g: f.lastMagG,
            last_mag_r: f.lastMagR,
            color_gr: f.colorGR,
            rate_g: f.rateG,
            rate_r: f.rateR,
            duration_days: f.durationDays,
            rising: f.rising,
          },
    fink_broker_version: BROKER_VERSION,
    processed_at: e.processedAt,
  };
}

/** Our values in fink_client_read.py's JSON conventions (see its docstring). */
function toReaderJson(value: unknown, name?: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') {
    return name === 'candid' || value > MAX_SAFE || value < -MAX_SAFE ? value.toString() : Number(value);
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return value;
  }
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map((item) => toReaderJson(item, name));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toReaderJson(item, key)]));
  }
  throw new TypeError(`no JSON form for ${typeof value} in ${name}`);
}
