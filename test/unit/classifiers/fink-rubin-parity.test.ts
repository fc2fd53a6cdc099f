// Rubin: SuperNNova's ELAsTiCC model (elasticc_binary_broad/SN_vs_other, Fink's snnSnVsOthers_score) against
// fink-science 7.4.0's snn_ia_elasticc on the 75 Rubin alerts of ../shared (25 real, 50 from OR4), as
// scripts/parity/run-reference.sh recorded them (points and score).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RubinAlert, RubinDiaSource } from '../../../src/pipeline/decode/rubin-avro.ts';
import { snnInputRubin } from '../../../src/pipeline/classifiers/fink/index.ts';
import { loadSnnModel, snnScores } from '../../../src/pipeline/classifiers/fink/snn.ts';
import type { SnnModelJson } from '../../../src/pipeline/classifiers/fink/snn.ts';
import { PROJECT_ROOT } from '../../../src/project.ts';
import { finkModels } from '../../helpers/fink-models.ts';

interface RubinReference {
  alerts: {
    file: string;
    diaSourceId: string;
    points: [number, string, number, number][];
    snnSnVsOthers_score: number;
  }[];
}

const reference = JSON.parse(
  readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'fink-parity', 'rubin-reference.json'), 'utf8'),
) as RubinReference;

// On a fresh machine the first use installs the models (pip download of the wheel): more than a test's 5 s.
beforeAll(() => finkModels(), 300_000);

function source([mjd, band, flux, fluxErr]: [number, string, number, number]): RubinDiaSource {
  return { midpointMjdTai: mjd, band, psfFlux: flux, psfFluxErr: fluxErr } as unknown as RubinDiaSource;
}

describe('snnSnVsOthers_score (Rubin, ELAsTiCC SuperNNova)', () => {
  it('equals fink-science 7.4.0 within 1e-4 on the 75 Rubin alerts', async () => {
    const models = await finkModels();
    const model = await loadSnnModel(
      models.readJson<SnnModelJson>('snn/elasticc_binary_broad__SN_vs_other.json'),
      'elasticc_binary_broad/SN_vs_other',
    );
    expect(reference.alerts).toHaveLength(75);
    const records = reference.alerts.map(
      (a) =>
        ({
          diaSource: source(a.points.at(-1)!),
          prvDiaSources: a.points.slice(0, -1).map(source),
        }) as unknown as RubinAlert,
    );
    const ours = await snnScores(
      model,
      records.map((record) => snnInputRubin(model, record)),
    );
    const off = reference.alerts.flatMap((a, i) =>
      Math.abs(ours[i]! - a.snnSnVsOthers_score) <= 1e-4
        ? []
        : [`${a.diaSourceId}: ${ours[i]} vs ${a.snnSnVsOthers_score}`],
    );
    expect(off).toEqual([]);
  });
});
