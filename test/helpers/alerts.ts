// Alerts for stage tests: hand-built ones (a plausible default, every field overridable) and the real ones.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import type {
  Alert,
  Band,
  PhotometryPoint,
  RubinScienceAlert,
  ZtfScienceAlert,
} from '../../src/pipeline/alert.ts';
import type { ClassifierInput } from '../../src/pipeline/classifiers/classifier.ts';
import { rubinToAlert } from '../../src/pipeline/decode/rubin-alert.ts';
import type { RubinAlert } from '../../src/pipeline/decode/rubin-avro.ts';
import { ztfToAlert } from '../../src/pipeline/decode/ztf-alert.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert, ZtfCandidate, ZtfPrvCandidate } from '../../src/pipeline/decode/ztf-avro.ts';
import { computeLightCurveFeatures } from '../../src/pipeline/steps/features.step.ts';
import type { Roid } from '../../src/pipeline/steps/roid.step.ts';
import { sharedPath, ztfAlertFiles } from './shared-data.ts';

/** 2023-10-12T00:00 UTC, the night of the real 4.02 alerts. */
export const BASE_JD = 2460229.5;

/** Stands in for the writer schema the decoders attach: no stage under test reads it. */
export const TEST_SCHEMA_JSON = '"test-schema"';

let nextCandid = 2_400_000_000_000_000_000n;

/** A fresh candid beyond 2^53, as the real ones are. */
export function candid(): bigint {
  return nextCandid++;
}

/**
 * A good-quality, first-detection ZTF candidate off any star or known solar-system object, in r.
 * Fields ZTF may leave null are null unless they matter to a stage.
 */
export function ztfCandidate(overrides: Partial<ZtfCandidate> = {}): ZtfCandidate {
  const jd = overrides.jd ?? BASE_JD;
  return {
    jd,
    fid: 2,
    pid: 2_460_229_500_015n,
    diffmaglim: 20.5,
    pdiffimfilename: null,
    programpi: null,
    programid: 1,
    candid: candid(),
    isdiffpos: 't',
    tblid: null,
    nid: null,
    rcid: null,
    field: null,
    xpos: null,
    ypos: null,
    ra: 150.1,
    dec: 2.2,
    magpsf: 18.5,
    sigmapsf: 0.05,
    chipsf: null,
    magap: null,
    sigmagap: null,
    distnr: null,
    magnr: null,
    sigmagnr: null,
    chinr: null,
    sharpnr: null,
    sky: null,
    magdiff: null,
    fwhm: null,
    classtar: 0.9,
    mindtoedge: null,
    magfromlim: null,
    seeratio: null,
    aimage: null,
    bimage: null,
    aimagerat: null,
    bimagerat: null,
    elong: null,
    nneg: null,
    nbad: 0,
    rb: 0.9,
    ssdistnr: -999,
    ssmagnr: -999,
    ssnamenr: 'null',
    sumrat: null,
    magapbig: null,
    sigmagapbig: null,
    ranr: null,
    decnr: null,
    sgmag1: null,
    srmag1: null,
    simag1: null,
    szmag1: null,
    sgscore1: 0.1,
    distpsnr1: 12,
    ndethist: 1,
    ncovhist: 10,
    jdstarthist: jd,
    jdendhist: jd,
    scorr: null,
    tooflag: null,
    objectidps1: null,
    objectidps2: null,
    sgmag2: null,
    srmag2: null,
    simag2: null,
    szmag2: null,
    sgscore2: null,
    distpsnr2: null,
    objectidps3: null,
    sgmag3: null,
    srmag3: null,
    simag3: null,
    szmag3: null,
    sgscore3: null,
    distpsnr3: null,
    nmtchps: null,
    rfid: null,
    jdstartref: null,
    jdendref: null,
    nframesref: null,
    rbversion: null,
    dsnrms: null,
    ssnrms: null,
    dsdiff: null,
    magzpsci: null,
    magzpsciunc: null,
    magzpscirms: null,
    nmatches: null,
    clrcoeff: null,
    clrcounc: null,
    zpclrcov: null,
    zpmed: null,
    clrmed: null,
    clrrms: null,
    neargaia: null,
    neargaiabright: null,
    maggaia: null,
    maggaiabright: null,
    exptime: null,
    drb: 0.99,
    drbversion: null,
    ...overrides,
  };
}

/** A history detection (r unless overridden); give magpsf: null and candid: null for an upper limit. */
export function prvCandidate(overrides: Partial<ZtfPrvCandidate> & { jd: number }): ZtfPrvCandidate {
  return {
    fid: 2,
    pid: null,
    diffmaglim: 20.5,
    pdiffimfilename: null,
    programpi: null,
    programid: 1,
    candid: candid(),
    isdiffpos: 't',
    tblid: null,
    nid: null,
    rcid: null,
    field: null,
    xpos: null,
    ypos: null,
    ra: 150.1,
    dec: 2.2,
    magpsf: 18.5,
    sigmapsf: 0.05,
    chipsf: null,
    magap: null,
    sigmagap: null,
    distnr: null,
    magnr: null,
    sigmagnr: null,
    chinr: null,
    sharpnr: null,
    sky: null,
    magdiff: null,
    fwhm: null,
    classtar: null,
    mindtoedge: null,
    magfromlim: null,
    seeratio: null,
    aimage: null,
    bimage: null,
    aimagerat: null,
    bimagerat: null,
    elong: null,
    nneg: null,
    nbad: 0,
    rb: 0.9,
    ssdistnr: null,
    ssmagnr: null,
    ssnamenr: null,
    sumrat: null,
    magapbig: null,
    sigmagapbig: null,
    ranr: null,
    decnr: null,
    scorr: null,
    magzpsci: null,
    magzpsciunc: null,
    magzpscirms: null,
    clrcoeff: null,
    clrcounc: null,
    rbversion: null,
    ...overrides,
  };
}

/** A history upper limit: no candid, no magnitude, only the limiting magnitude. */
export function prvUpperLimit(jd: number, diffmaglim: number, fid = 2): ZtfPrvCandidate {
  return prvCandidate({ jd, fid, diffmaglim, candid: null, magpsf: null, sigmapsf: null, isdiffpos: null });
}

export interface ZtfAlertOverrides {
  objectId?: string;
  candidate?: Partial<ZtfCandidate>;
  /** History, oldest first (as ZTF sends it); null as when the producer sent none. */
  prv?: readonly ZtfPrvCandidate[] | null;
}

export function ztfRecord(overrides: ZtfAlertOverrides = {}): ZtfAlert {
  const candidate = ztfCandidate(overrides.candidate);
  return {
    schemavsn: '4.02',
    publisher: 'ZTF (www.ztf.caltech.edu)',
    objectId: overrides.objectId ?? 'ZTF23aaaaaaa',
    candid: candidate.candid,
    candidate,
    prv_candidates: overrides.prv === undefined ? [] : overrides.prv === null ? null : [...overrides.prv],
    cutoutScience: null,
    cutoutTemplate: null,
    cutoutDifference: null,
  };
}

/** A ZTF Alert as the decoder's mapping makes it (points from the candidate and its history). */
export function ztfAlert(overrides: ZtfAlertOverrides = {}): ZtfScienceAlert {
  return ztfToAlert(ztfRecord(overrides), TEST_SCHEMA_JSON);
}

/**
 * A Rubin Alert with a good-quality diaSource (S/N 20, no flag set), mapped by the real rubinToAlert. The record
 * holds only the fields the mapping and the stages read; `diaSource` overrides may replace any of them (a real
 * decoded diaSource included).
 */
export function rubinAlert(
  overrides: { diaSource?: Record<string, unknown>; ssSource?: Record<string, unknown> | null } = {},
): RubinScienceAlert {
  const diaSourceId = candid();
  const diaSource: Record<string, unknown> = {
    diaSourceId,
    diaObjectId: 313853293934395400n,
    ssObjectId: null,
    midpointMjdTai: BASE_JD - 2400000.5,
    ra: 150.1,
    dec: 2.2,
    band: 'r',
    psfFlux: 20_000,
    psfFluxErr: 1_000,
    reliability: 0.95,
    isDipole: false,
    psfFlux_flag: false,
    apFlux_flag: false,
    forced_PsfFlux_flag: false,
    forced_PsfFlux_flag_edge: false,
    shape_flag: false,
    centroid_flag: false,
    pixelFlags: false,
    pixelFlags_bad: false,
    pixelFlags_cr: false,
    pixelFlags_interpolated: false,
    pixelFlags_saturated: false,
    ...overrides.diaSource,
  };
  const record = {
    diaSourceId: diaSource.diaSourceId,
    observation_reason: null,
    target_name: null,
    diaSource,
    prvDiaSources: null,
    prvDiaForcedSources: null,
    diaObject: null,
    ssSource: overrides.ssSource ?? null,
    mpc_orbits: null,
    cutoutDifference: null,
    cutoutScience: null,
    cutoutTemplate: null,
  };
  return rubinToAlert(record as unknown as RubinAlert, TEST_SCHEMA_JSON);
}

/** A positive detection. */
export function detection(
  jd: number,
  band: Band,
  mag: number,
  magErr: number | null = 0.05,
): PhotometryPoint {
  return {
    jd,
    band,
    kind: 'detection',
    mag,
    magErr,
    limitMag: null,
    flux: null,
    fluxErr: null,
    negative: false,
    dcMag: null,
    dcMagErr: null,
    sourceId: null,
  };
}

export function upperLimit(jd: number, band: Band, limitMag: number | null): PhotometryPoint {
  return { ...detection(jd, band, 0), kind: 'upper-limit', mag: null, magErr: null, limitMag };
}

export function withPoints<A extends Alert>(alert: A, points: readonly PhotometryPoint[]): A {
  return { ...alert, points: [...points] };
}

/** What the classifiers see: the alert, its roid, and features computed from its points. */
export function classifierInput(
  alert: Alert,
  extra: { roid?: Roid; ssName?: string | null } = {},
): ClassifierInput {
  return {
    ...alert,
    roid: extra.roid ?? 0,
    ssName: extra.ssName ?? null,
    features: computeLightCurveFeatures(alert.points),
  };
}

/** The 611 real ZTF alerts, decoded and mapped as the pipeline does; `night` is 2020-01 or 2023-10. */
export function realZtfAlerts(): { night: string; file: string; alert: ZtfScienceAlert }[] {
  const decoder = createZtfDecoder();
  const root = sharedPath('datasim', 'ztf');
  return ztfAlertFiles().map((file) => {
    const { alert, schemaJson } = decoder.decodeWithSchema(readFileSync(file));
    return {
      night: path.relative(root, file).split(path.sep)[0]!,
      file,
      alert: ztfToAlert(alert, schemaJson),
    };
  });
}

/**
 * The 25 real Rubin alerts of January 2026 (schema 10.0), read from the Parquet copy with their nested
 * structure and mapped by rubinToAlert.
 */
export async function realRubinAlerts(): Promise<RubinScienceAlert[]> {
  const file = await asyncBufferFromFile(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'));
  const rows = await parquetReadObjects({ file });
  return rows.map((row) => rubinToAlert(row as RubinAlert, TEST_SCHEMA_JSON));
}
