// Science messages as raw2science publishes them (one ScienceRecord each), built from the 611 real ZTF alerts,
// with the raw archive distribution reads their original bytes from.
import { readFileSync } from 'node:fs';
import { encodeScienceRecord } from '../../src/pipeline/encode/science-record.ts';
import { SURVEY_HEADER } from '../../src/pipeline/services/distribution.ts';
import { toScienceRecord, type EnrichedAlert } from '../../src/pipeline/services/science-rows.ts';
import { computeLightCurveFeatures } from '../../src/pipeline/steps/features.step.ts';
import type { SourceMessage } from '../../src/pipeline/sources/kafka-batch-source.ts';
import type { ArchivedAlert, RawAlertKey, RawAlertReader } from '../../src/storage/raw-store.ts';
import type { ScienceRecord } from '../../src/storage/science-store.ts';
import { realZtfAlerts } from './alerts.ts';

export interface ScienceMessage {
  record: ScienceRecord;
  /** The alert's bytes as received (what the raw archive keeps). */
  payload: Buffer;
  message: SourceMessage;
}

/** The enrichment a test gives the i-th alert (label, roid, watchlist hits...). */
export type Enrich = (alert: EnrichedAlert, i: number) => Partial<EnrichedAlert>;

/** The real ZTF alerts, first `count`, enriched by `enrich`, as science messages. */
export function realScienceMessages(count = Infinity, enrich: Enrich = () => ({})): ScienceMessage[] {
  return realZtfAlerts()
    .slice(0, count)
    .map(({ alert, file }, i): ScienceMessage => {
      const base: EnrichedAlert = {
        ...alert,
        roid: 0,
        ssName: null,
        crossmatches: [],
        features: computeLightCurveFeatures(alert.points),
        classification: { label: 'Unknown', scores: [] },
        watchlistHits: [],
      };
      const enriched = { ...base, ...enrich(base, i) } as EnrichedAlert;
      const source: SourceMessage = {
        topic: 'upstream',
        partition: 0,
        offset: String(i),
        key: null,
        value: null,
        headers: {},
        timestamp: 0,
        receivedAt: 0,
      };
      const record = toScienceRecord(
        { alert: enriched, message: source },
        new Date(1_700_000_000_000 + i * 1000),
        'test',
      );
      const { key, value, headers } = encodeScienceRecord(record, { [SURVEY_HEADER]: record.survey });
      return {
        record,
        payload: readFileSync(file),
        message: { ...source, topic: 'science', key, value, headers },
      };
    });
}

/** A raw archive holding these alerts' bytes; `missing` alerts are not (yet) in it. */
export function archiveOf(
  messages: readonly ScienceMessage[],
  missing: ReadonlySet<bigint> = new Set(),
): RawAlertReader & { reads: number } {
  const byKey = new Map(
    messages.map(({ record, payload }) => [`${record.survey}/${record.alertId}`, payload] as const),
  );
  const archive = {
    reads: 0,
    payloads(keys: readonly RawAlertKey[]): Promise<ArchivedAlert[]> {
      archive.reads++;
      return Promise.resolve(
        keys.flatMap(({ survey, alertId }) => {
          const payload = byKey.get(`${survey}/${alertId}`);
          return payload === undefined || missing.has(alertId) ? [] : [{ survey, alertId, payload }];
        }),
      );
    },
    payloadsByAlertIds(ids: readonly bigint[]): Promise<ArchivedAlert[]> {
      return archive.payloads(ids.map((alertId) => ({ survey: 'ztf', alertId })));
    },
  };
  return archive;
}
