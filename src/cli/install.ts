// Installs what a local service needs from Debian's packages, or says exactly what to run when we cannot.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export class InstallError extends Error {
  override name = 'InstallError';
}

/** True when `command` is found on PATH (or is an existing absolute path). */
export function hasCommand(command: string): boolean {
  if (command.includes('/')) return existsSync(command);
  return spawnSync('sh', ['-c', `command -v "$0" >/dev/null`, command]).status === 0;
}

/**
 * apt-get install, as root only. A fresh machine has empty package lists, so a failed install is retried once
 * after `apt-get update`.
 */
export function aptInstall(packages: string[], reason: string): void {
  const manual = `sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new InstallError(`${reason} is missing; install it with:\n  ${manual}`);
  }
  console.log(`fink: installing ${packages.join(' ')} with apt-get (${reason})...`);
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (install()) return;
  spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!install())
    throw new InstallError(`apt-get could not install ${packages.join(' ')}; try:\n  ${manual}`);
}

/** Where the browser tests expect Debian's Chromium (playwright-core drives it; it downloads no browser). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Installs Debian's `chromium` for the browser tests when it is missing; throws InstallError when it cannot. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  aptInstall(['chromium'], `Chromium (${CHROMIUM_PATH}, for the dashboard's browser tests)`);
  if (!existsSync(CHROMIUM_PATH)) {
    throw new InstallError(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
  }
}
