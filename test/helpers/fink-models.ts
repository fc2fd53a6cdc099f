// Fink's installed models for the tests: the same cache `fink models install` fills (models.cacheDir), installed
// on first use when missing (this downloads the fink-science wheel from PyPI once, ~15 s).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { installConfiguredModels } from '../../src/cli/models-command.ts';
import { ModelFilesError, openInstalledModels } from '../../src/models/manifest.ts';
import type { InstalledModels } from '../../src/models/manifest.ts';
import { PROJECT_ROOT } from '../../src/project.ts';
import { testConfig } from './context.ts';

/** The release the tests' models and parity fixture come from. */
export const FINK_SCIENCE_VERSION = '7.4.0';

/** Per alert, what fink-science computed (scripts/parity/run-reference.sh), by candid. */
export interface ParityAlert {
  candid: string;
  finkclass: string;
  snn_snia_vs_nonia: number;
  snn_sn_vs_all: number;
  rf_snia_vs_nonia: number;
  rf_kn_vs_nonkn: number;
  mulens: number;
  anomaly_score: number;
}

export function parityReference(): Map<string, ParityAlert> {
  const file = path.join(PROJECT_ROOT, 'test', 'fixtures', 'fink-parity', 'ztf-reference.json');
  const { alerts } = JSON.parse(readFileSync(file, 'utf8')) as { alerts: ParityAlert[] };
  return new Map(alerts.map((alert) => [alert.candid, alert]));
}

export async function finkModels(): Promise<InstalledModels> {
  const config = testConfig();
  const open = (): Promise<InstalledModels> =>
    openInstalledModels(config.models.cacheDir, config.models.finkScienceVersion);
  try {
    return await open();
  } catch (err) {
    if (!(err instanceof ModelFilesError)) throw err;
    await installConfiguredModels(config, () => undefined);
    return open();
  }
}
