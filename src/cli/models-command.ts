// `fink models install`: fetches the fink-science wheel from PyPI and installs Fink's models and catalogs into
// the cache (models.cacheDir), converting what needs converting. Idempotent: a second run does nothing.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { installModels } from '../models/install.ts';
import { KNDETECT_FOREST, ModelFilesError, openInstalledModels } from '../models/manifest.ts';
import type { InstallModelsResult } from '../models/install.ts';
import { configOption } from './options.ts';

type GetConfig = (options: { config?: string }) => Config;

/** The install with the config's settings, printing progress: what the CLI, the demo and test helpers call. */
export function installConfiguredModels(
  config: Pick<Config, 'models'>,
  progress: (line: string) => void = (line) => console.log(line),
): Promise<InstallModelsResult> {
  return installModels({
    cacheDir: config.models.cacheDir,
    finkScienceVersion: config.models.finkScienceVersion,
    python: config.models.python,
    kndetectDir: config.models.kndetectDir,
    progress,
  });
}

/**
 * Installs the models when they are missing or corrupt (`fink start raw2science`, `fink demo`, `fink test`), with
 * progress; says nothing more when they are intact.
 */
export async function ensureModelsInstalled(
  config: Pick<Config, 'models'>,
  progress: (line: string) => void = (line) => console.log(line),
): Promise<void> {
  try {
    const models = await openInstalledModels(config.models.cacheDir, config.models.finkScienceVersion);
    // Every file's SHA-256, as raw2science will check them: a corrupt file is reinstalled now, not found there.
    for (const file of Object.keys(models.manifest.files)) models.read(file);
    if (config.models.kndetectDir === undefined || models.manifest.files[KNDETECT_FOREST] !== undefined)
      return;
  } catch (err) {
    if (!(err instanceof ModelFilesError)) throw err;
  }
  progress(
    `models: Fink's models (fink-science ${config.models.finkScienceVersion}) are needed; installing them`,
  );
  await installConfiguredModels(config, progress);
}

export function registerModelsCommands(program: Command, getConfig: GetConfig): void {
  const models = program.command('models').description("Fink's trained models (from the fink-science wheel)");
  models
    .command('install')
    .description(
      'download the fink-science wheel from PyPI, extract and convert its models and catalogs (once)',
    )
    .addOption(configOption())
    .action(async (options: { config?: string }) => {
      await installConfiguredModels(getConfig(options));
    });
}
