// Fink's installed models for the tests: the same cache `fink models install` fills (models.cacheDir), installed
// on first use when missing (this downloads the fink-science wheel from PyPI once, ~15 s).
import { installConfiguredModels } from '../../src/cli/models-command.ts';
import { ModelFilesError, openInstalledModels } from '../../src/models/manifest.ts';
import type { InstalledModels } from '../../src/models/manifest.ts';
import { testConfig } from './context.ts';

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
