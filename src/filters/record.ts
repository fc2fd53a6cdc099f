// What a filter reads of an alert: exactly the columns of the `alerts` table that the SQL compiler reads, so a
// live subscription, a distributed topic and an archive search select the same alerts.
import type { Alert } from '../pipeline/alert.ts';
import type { AlertColumns } from '../storage/alert-store.ts';
import { normaliseAlert } from '../pipeline/decode/bounds.ts';
import { rubinToAlert } from '../pipeline/decode/rubin-alert.ts';
import type { RubinAlert } from '../pipeline/decode/rubin-avro.ts';
import { ztfToAlert } from '../pipeline/decode/ztf-alert.ts';
import type { ZtfAlert } from '../pipeline/decode/ztf-avro.ts';
import type { DecodedDistributionMessage } from '../pipeline/encode/distribution.ts';
import { computeLightCurveFeatures } from '../pipeline/steps/features.step.ts';

export interface FilterRecord extends AlertColumns {
  crossmatches: { catalog: string; type: string }[];
  /** Ids of the watchlists this alert hit. */
  watchlists: string[];
}

/** A Nullable(Float64) column stores NaN as NULL (row-binary.ts); the record must say the same. */
function nullable(value: number | null): number | null {
  return value === null || Number.isNaN(value) ? null : value;
}

/** The survey alert of a science message, mapped and normalised as raw2science mapped it. */
function surveyAlert(decoded: DecodedDistributionMessage): Alert {
  const { record, schemaJson } = decoded;
  // Rubin alerts are keyed by their diaSource; ZTF alerts carry a `candidate`.
  return normaliseAlert(
    'diaSource' in record
      ? rubinToAlert(record as unknown as RubinAlert, schemaJson)
      : ztfToAlert(record as unknown as ZtfAlert, schemaJson),
  );
}

/**
 * The record of a science message (raw2science's output, decoded with decodeDistributionMessage), given the ids
 * of the watchlists the alert hit. The light-curve summary is recomputed from the alert's own history with the
 * features step's defaults (as run.ts configures it) and summarised as science-rows.ts summarises it for the
 * `alerts` table: the distributed enrichment carries only g and r features, while the table's ndet, nlim, peak
 * and rate cover every band.
 */
export function filterRecordFromScience(
  decoded: DecodedDistributionMessage,
  watchlists: readonly string[],
): FilterRecord {
  const alert = surveyAlert(decoded);
  const { enrichment } = decoded;
  const features = computeLightCurveFeatures(alert.points);
  const bands = Object.values(features.bands);
  const peaks = bands.map((b) => b.peakMag).filter((m): m is number => m !== null);
  return {
    survey: alert.survey,
    alertId: alert.alertId,
    objectId: alert.objectId,
    jd: alert.jd,
    ra: alert.ra,
    dec: alert.dec,
    band: alert.band,
    mag: nullable(alert.mag),
    magErr: nullable(alert.magErr),
    roid: enrichment.roid ?? 0,
    label: enrichment.finkclass,
    ndet: features.detections,
    nlim: bands.reduce((total, b) => total + b.upperLimits, 0),
    firstJd: features.firstDetectionJd ?? 0,
    lastJd: features.lastDetectionJd ?? 0,
    peakMag: nullable(peaks.length > 0 ? Math.min(...peaks) : null),
    colorGr: nullable(features.colorGR),
    rate: nullable(features.rate),
    rising: features.rising,
    ssName: enrichment.ssname ?? '',
    crossmatches: enrichment.crossmatches.map(({ catalog, type }) => ({ catalog, type: type ?? '' })),
    watchlists: [...watchlists],
  };
}
