// The Fink-format message of an alert a filter selected, rebuilt from what is stored: the survey's own alert as
// the raw archive keeps it (its bytes as received) and the broker's fields from the alert's record. Distribution
// rebuilds only the alerts it publishes, so the science topic never carries cutouts or schemas.
import type { ScienceRecord } from '../../storage/science-store.ts';
import { nalerthist, ztfLightCurve } from '../classifiers/fink/photometry.ts';
import type { RubinDecoder } from '../decode/rubin-avro.ts';
import { sourceDatumOf, type ZtfDecoder } from '../decode/ztf-avro.ts';
import { enrichmentOfRecord } from '../services/science-rows.ts';
import type { DistributionEncoder, DistributionMessage } from './distribution.ts';

export interface FinkMessageBuilderDeps {
  ztf: Pick<ZtfDecoder, 'decodeWithSchema'>;
  rubin: Pick<RubinDecoder, 'decodeWithSchema'>;
  encoder: DistributionEncoder;
}

export type FinkMessageBuilder = (record: ScienceRecord, payload: Buffer) => Promise<DistributionMessage>;

export function createFinkMessageBuilder({
  ztf,
  rubin,
  encoder,
}: FinkMessageBuilderDeps): FinkMessageBuilder {
  return async function finkMessage(record, payload) {
    if (record.survey === 'ztf') {
      const { alert, schemaJson } = ztf.decodeWithSchema(payload);
      const enrichment = enrichmentOfRecord(record, nalerthist(ztfLightCurve(alert)));
      // The archived bytes hold the alert's datum: copied into the message, not encoded again.
      return encoder.encode({
        writerSchemaJson: schemaJson,
        record: alert,
        recordDatum: sourceDatumOf(alert),
        enrichment,
      });
    }
    const { alert, schemaJson } = await rubin.decodeWithSchema(payload);
    return encoder.encode({
      writerSchemaJson: schemaJson,
      record: alert,
      enrichment: enrichmentOfRecord(record),
    });
  };
}
