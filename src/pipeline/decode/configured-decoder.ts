// The decoder of every upstream message as the configuration asks: ZTF always; Rubin through the schema
// registry when configured, else (and as a fallback) the local schema directories.
import path from 'node:path';
import type { Config } from '../../config.ts';
import { createAlertDecoder, type AlertDecoder } from './alert-decoder.ts';
import { rubinToAlert } from './rubin-alert.ts';
import { createRubinDecoder, type RubinDecoder } from './rubin-avro.ts';
import { createSchemaRegistryClient } from './schema-registry.ts';
import { createZtfDecoder, type ZtfDecoder } from './ztf-avro.ts';

/** The survey decoders the configuration asks for (distribution decodes archived alerts with their schemas). */
export function createSurveyDecoders({ pipeline, sharedDir }: Pick<Config, 'pipeline' | 'sharedDir'>): {
  ztf: ZtfDecoder;
  rubin: RubinDecoder;
} {
  const rubin = createRubinDecoder({
    registry:
      pipeline.schemaRegistryUrl === undefined
        ? undefined
        : createSchemaRegistryClient({ url: pipeline.schemaRegistryUrl }),
    schemaDirs: new Map(
      Object.entries(pipeline.rubinSchemas).map(([id, dir]) => [Number(id), path.resolve(sharedDir, dir)]),
    ),
  });
  return { ztf: createZtfDecoder(), rubin };
}

export function createConfiguredDecoder(config: Pick<Config, 'pipeline' | 'sharedDir'>): AlertDecoder {
  const { ztf, rubin } = createSurveyDecoders(config);
  return createAlertDecoder({
    ztf,
    rubin: {
      decode: async (message) => {
        const { alert, schemaJson } = await rubin.decodeWithSchema(message);
        return rubinToAlert(alert, schemaJson);
      },
    },
  });
}
