// The one record of an enriched alert (ScienceRecord): computed once, here, after the last stage, and carried
// everywhere: the tables store it (src/storage/science-store.ts builds their rows), the science topic carries it.
import type {
  DistributionEnrichment,
  DistributionLightCurveFeatures,
  FinkFields,
} from '../encode/distribution.ts';
import type { Alert } from '../alert.ts';
import { hpxOf } from '../../sky/healpix.ts';
import { nightOf } from '../../sky/night.ts';
import { cdsxmatchOf, type ClassificationFields } from '../steps/classification.step.ts';
import type { Crossmatch } from '../steps/crossmatch.step.ts';
import type { FeaturesFields, LightCurveFeatures } from '../steps/features.step.ts';
import type { RoidFields } from '../steps/roid.step.ts';
import type { WatchlistFields } from '../steps/watchlist.step.ts';
import type { SourceMessage } from '../sources/kafka-batch-source.ts';
import type { ScienceRecord, StoredAlert } from '../../storage/science-store.ts';

export type EnrichedAlert = Alert &
  RoidFields & { crossmatches: Crossmatch[] } & FeaturesFields &
  ClassificationFields &
  WatchlistFields;

export interface ProcessedAlert {
  alert: EnrichedAlert;
  message: SourceMessage;
}

/** The survey's own record of the triggering detection, as JSON text (64-bit ids as decimal strings). */
function candidateJson(alert: Alert): string {
  const record: Readonly<Record<string, unknown>> =
    alert.survey === 'ztf' ? alert.ztf.candidate : alert.lsst.diaSource;
  // Both records are flat: their 64-bit ids are swapped for strings in a shallow copy, which is several times
  // cheaper than a replacer called for every field. Anything nested takes the general path.
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'bigint') (copy ??= { ...record })[key] = value.toString();
    else if (value !== null && typeof value === 'object') return JSON.stringify(record, bigintsAsStrings);
  }
  return JSON.stringify(copy ?? record);
}

function bigintsAsStrings(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** The light-curve summary the alerts and objects tables keep, over every band. */
function summary(features: LightCurveFeatures) {
  const bands = Object.values(features.bands);
  const sum = (pick: (b: (typeof bands)[number]) => number) => bands.reduce((total, b) => total + pick(b), 0);
  const peaks = bands.map((b) => b.peakMag).filter((m): m is number => m !== null);
  return {
    ndet: features.detections,
    nlim: sum((b) => b.upperLimits),
    firstJd: features.firstDetectionJd ?? 0,
    lastJd: features.lastDetectionJd ?? 0,
    peakMag: peaks.length > 0 ? Math.min(...peaks) : null,
    colorGr: features.colorGR,
    rate: features.rate,
    rising: features.rising,
  };
}

/** DateTime columns keep whole seconds: the record carries what a later read returns. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** The record of an alert after its last stage (see ScienceRecord). */
export function toScienceRecord(
  { alert, message }: ProcessedAlert,
  processedAt: Date,
  brokerVersion: string,
): ScienceRecord {
  return {
    survey: alert.survey,
    alertId: alert.alertId,
    objectId: alert.objectId,
    jd: alert.jd,
    night: nightOf(alert.survey, alert.jd).toISOString().slice(0, 10),
    ra: alert.ra,
    dec: alert.dec,
    hpx: BigInt(hpxOf(alert.ra, alert.dec)),
    band: alert.band,
    mag: alert.mag,
    magErr: alert.magErr,
    roid: alert.roid,
    ssName: alert.ssName ?? '',
    label: alert.classification.label,
    ...summary(alert.features),
    features: JSON.stringify(alert.features),
    candidate: candidateJson(alert),
    topic: message.topic,
    partition: message.partition,
    offset: BigInt(message.offset),
    processedAt: wholeSeconds(processedAt),
    scores: alert.classification.scores.map(
      ({ classifier, version, score, modelFile, modelSha256, finkScienceVersion }) => ({
        classifier,
        version,
        score,
        modelFile,
        modelSha256,
        finkScienceVersion,
      }),
    ),
    crossmatches: alert.crossmatches.map(({ catalog, sourceId, distanceArcsec, type, overriding }) => ({
      catalog,
      sourceId,
      distanceArcsec,
      type,
      overriding,
    })),
    watchlistHits: alert.watchlistHits.map(({ watchlistId, targetLabel, distanceArcsec }) => ({
      watchlistId,
      targetLabel,
      distanceArcsec,
    })),
    brokerVersion,
  };
}

/** What the tables store of an alert: its record and its light curve (its cutouts stay in the raw archive). */
export function toStoredAlert(
  processed: ProcessedAlert,
  processedAt: Date,
  brokerVersion: string,
): StoredAlert {
  return {
    record: toScienceRecord(processed, processedAt, brokerVersion),
    points: processed.alert.points,
  };
}

function lcFeatures(features: LightCurveFeatures): DistributionLightCurveFeatures {
  const { g, r } = features.bands;
  return {
    ndetG: g?.detections ?? 0,
    ndetR: r?.detections ?? 0,
    nlimG: g?.upperLimits ?? 0,
    nlimR: r?.upperLimits ?? 0,
    peakMagG: g?.peakMag ?? null,
    peakMagR: r?.peakMag ?? null,
    lastMagG: g?.lastMag ?? null,
    lastMagR: r?.lastMag ?? null,
    colorGR: features.colorGR,
    rateG: g?.rate ?? null,
    rateR: r?.rate ?? null,
    durationDays:
      features.firstDetectionJd === null || features.lastDetectionJd === null
        ? null
        : features.lastDetectionJd - features.firstDetectionJd,
    rising: features.rising,
  };
}

/** A Fink score of the record by name; null when the alert has none (another survey, a model not installed). */
function scoreOf(record: ScienceRecord, classifier: string): number | null {
  return record.scores.find((s) => s.classifier === classifier)?.score ?? null;
}

/** The type of the record's match in a catalog, Fink's 'Unknown' without one. */
function catalogType(record: ScienceRecord, catalog: string): string {
  return record.crossmatches.find((m) => m.catalog === catalog)?.type ?? 'Unknown';
}

/**
 * Fink's fields of the message (fink-client's distribution schema 2.7): the scores, the catalog types, the
 * versions. `nalerthist` comes from the survey alert (distribution has it, the record does not carry it).
 */
export function finkFieldsOfRecord(record: ScienceRecord, nalerthist: number | null): FinkFields {
  return {
    cdsxmatch: cdsxmatchOf(record.crossmatches),
    // Gaia DR3 is not among the loaded catalogs.
    DR3Name: null,
    Plx: null,
    e_Plx: null,
    gcvs: catalogType(record, 'gcvs'),
    vsx: catalogType(record, 'vsx'),
    rf_snia_vs_nonia: scoreOf(record, 'rf_snia_vs_nonia'),
    snn_snia_vs_nonia: scoreOf(record, 'snn_snia_vs_nonia'),
    snn_sn_vs_all: scoreOf(record, 'snn_sn_vs_all'),
    mulens: scoreOf(record, 'mulens'),
    nalerthist,
    rf_kn_vs_nonkn: scoreOf(record, 'rf_kn_vs_nonkn'),
    fink_science_version: record.scores.find((s) => s.finkScienceVersion !== '')?.finkScienceVersion ?? null,
  };
}

/**
 * The broker's fields of the Fink-format message of an alert, from its record: what distribution appends to the
 * survey's own alert (read back from the raw archive) for the alerts a filter selects.
 */
export function enrichmentOfRecord(
  record: ScienceRecord,
  nalerthist: number | null = null,
): DistributionEnrichment {
  return {
    fink: finkFieldsOfRecord(record, nalerthist),
    finkclass: record.label,
    roid: record.roid,
    ssname: record.ssName === '' ? null : record.ssName,
    crossmatches: record.crossmatches,
    classifierScores: record.scores,
    lcFeatures: lcFeatures(JSON.parse(record.features) as LightCurveFeatures),
    processedAt: record.processedAt.getTime(),
  };
}
