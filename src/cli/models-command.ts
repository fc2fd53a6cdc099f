// `fink models install`: fetches the fink-science wheel from PyPI and installs Fink's models and catalogs into
// the cache (models.cacheDir), converting what needs converting. Idempotent: a second run does nothing.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { installModels } from '../models/install.ts';
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
