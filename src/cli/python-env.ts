// A Python virtual environment for the interop tests (the real fink-client from PyPI reads our Kafka topics).
//
// Built under <stateDir>/venv-interop with `python3 -m venv` and `pip install -r <requirements>`, and rebuilt from
// scratch only when the requirements file changes: a stamp file next to it records the SHA-256 of the file that
// was installed. The first install downloads a few hundred MB of wheels (~30 s); later calls cost one spawn.
// Concurrent callers (vitest workers, two `fink test` runs) serialise on a lock directory, so a half-built
// environment is never used.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.ts';
import { acquireDirLock } from '../util/dir-lock.ts';

export class PythonEnvError extends Error {
  override name = 'PythonEnvError';
}

export interface PythonEnvOptions {
  /** The interpreter that creates the environment. */
  python?: string;
  /** The oldest Python the requirements install on (the interop pins need 3.11: numpy 2.4, pandas 3.1). */
  minVersion?: readonly [major: number, minor: number];
  /** How long to wait for another process that is building the same environment. */
  lockTimeoutMs?: number;
  /** The environment's directory name under stateDir (default venv-interop). */
  envName?: string;
  logger?: Logger;
}

const ENV_DIR = 'venv-interop';
const STAMP_FILE = 'requirements.sha256';
const PIP_LOG = 'pip-install.log';

/**
 * Returns the path of the environment's python, creating the environment or reinstalling it when
 * `requirementsFile` changed since the last install.
 */
export async function ensurePythonEnv(
  stateDir: string,
  requirementsFile: string,
  options: PythonEnvOptions = {},
): Promise<string> {
  const envDir = path.join(stateDir, options.envName ?? ENV_DIR);
  const envPython = path.join(envDir, 'bin', 'python');
  const requirements = await readFile(requirementsFile).catch((err: unknown) => {
    throw new PythonEnvError(
      `cannot read the requirements file ${requirementsFile}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  });
  const digest = createHash('sha256').update(requirements).digest('hex');

  if (await isCurrent(envDir, envPython, digest)) return envPython;

  await mkdir(stateDir, { recursive: true });
  const lockTimeoutMs = options.lockTimeoutMs ?? 20 * 60_000;
  const release = await acquireDirLock(`${envDir}.lock`, {
    timeoutMs: lockTimeoutMs,
    pollMs: 500,
    timedOut: (owner) =>
      new PythonEnvError(
        `another process (pid ${owner || 'unknown'}) has been building the Python environment for over ` +
          `${Math.round(lockTimeoutMs / 1000)} s; remove ${envDir}.lock if it is gone`,
      ),
  });
  try {
    // Another process may have finished the same install while this one waited for the lock.
    if (await isCurrent(envDir, envPython, digest)) return envPython;
    await build(envDir, envPython, requirementsFile, digest, options);
    return envPython;
  } finally {
    await release();
  }
}

async function isCurrent(envDir: string, envPython: string, digest: string): Promise<boolean> {
  const stamp = await readFile(path.join(envDir, STAMP_FILE), 'utf8').catch(() => undefined);
  if (stamp?.trim() !== digest) return false;
  // The stamp alone is not enough: the interpreter the venv links to may have been removed or upgraded.
  const probe = await run(envPython, ['-c', 'import sys; sys.exit(0)']).catch(() => undefined);
  return probe?.code === 0;
}

async function build(
  envDir: string,
  envPython: string,
  requirementsFile: string,
  digest: string,
  options: PythonEnvOptions,
): Promise<void> {
  const python = options.python ?? 'python3';
  const [minMajor, minMinor] = options.minVersion ?? [3, 11];
  const log = options.logger?.child({ module: 'python-env' });
  const started = Date.now();

  const version = await pythonVersion(python);
  if (version[0] < minMajor || (version[0] === minMajor && version[1] < minMinor)) {
    throw new PythonEnvError(
      `${python} is Python ${version.join('.')}; ${path.basename(requirementsFile)} needs Python >= ` +
        `${minMajor}.${minMinor}`,
    );
  }

  // A changed requirements file starts from an empty environment: no package left over from the old pins.
  await rm(envDir, { recursive: true, force: true });
  log?.info({ envDir, python, version: version.join('.') }, 'creating the Python environment');
  const venv = await run(python, ['-m', 'venv', envDir]);
  if (venv.code !== 0) {
    throw new PythonEnvError(
      `\`${python} -m venv ${envDir}\` failed (exit ${venv.code}); on Debian the venv module is the ` +
        `python3-venv package (apt-get install python3-venv):\n${tail(venv.output)}`,
    );
  }

  const pipLog = path.join(envDir, PIP_LOG);
  log?.info({ requirementsFile, pipLog }, 'installing the Python requirements');
  const pip = await run(
    envPython,
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--progress-bar',
      'off',
      '-r',
      requirementsFile,
    ],
    pipLog,
  );
  if (pip.code !== 0) {
    throw new PythonEnvError(
      `pip could not install ${requirementsFile} (exit ${pip.code}; full log in ${pipLog}):\n${tail(pip.output)}`,
    );
  }
  // Written last: an interrupted install has no stamp and is redone.
  await writeFile(path.join(envDir, STAMP_FILE), `${digest}\n`);
  log?.info({ envDir, ms: Date.now() - started }, 'Python environment ready');
}

async function pythonVersion(python: string): Promise<[number, number]> {
  let result: RunResult;
  try {
    result = await run(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PythonEnvError(
        `${python} was not found on PATH: the interop tests need Python 3 with its venv module ` +
          '(on Debian: apt-get install python3 python3-venv)',
        { cause: err },
      );
    }
    throw err;
  }
  const match = /^(\d+)\.(\d+)$/m.exec(result.output);
  if (result.code !== 0 || match === null) {
    throw new PythonEnvError(
      `${python} does not report its version (exit ${result.code}):\n${tail(result.output)}`,
    );
  }
  return [Number(match[1]), Number(match[2])];
}

interface RunResult {
  code: number;
  /** stdout and stderr interleaved. */
  output: string;
}

/** Runs a command to completion; rejects only when it cannot start (ENOENT). Output optionally teed to a file. */
function run(command: string, args: string[], logFile?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = logFile === undefined ? undefined : createWriteStream(logFile);
    const chunks: Buffer[] = [];
    const collect = (chunk: Buffer): void => {
      chunks.push(chunk);
      file?.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (err) => {
      file?.end();
      reject(err);
    });
    child.once('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8');
      const result = { code: code ?? (signal === null ? 1 : 128), output };
      if (file === undefined) resolve(result);
      else file.end(() => resolve(result));
    });
  });
}

function tail(output: string, lines = 25): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}
