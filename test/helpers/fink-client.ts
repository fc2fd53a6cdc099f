// The real fink-client (PyPI) reading our topics: a venv under the state dir, and the reader script.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensurePythonEnv } from '../../src/cli/python-env.ts';
import { PROJECT_ROOT } from '../../src/project.ts';
import { testConfig } from './context.ts';

const INTEROP_DIR = path.join(PROJECT_ROOT, 'test', 'interop');
export const REQUIREMENTS = path.join(INTEROP_DIR, 'requirements.txt');
const READER = path.join(INTEROP_DIR, 'fink_client_read.py');

/**
 * The fields Fink appends to a ZTF alert on its distribution topics (fink-client 12.3.0,
 * schemas/distribution_schema_fink_ztf_2.7_3.10.1.avsc), in its order: consumer code written for Fink reads them.
 */
export const FINK_DISTRIBUTION_FIELDS = [
  'cdsxmatch',
  'DR3Name',
  'Plx',
  'e_Plx',
  'gcvs',
  'vsx',
  'roid',
  'rf_snia_vs_nonia',
  'snn_snia_vs_nonia',
  'snn_sn_vs_all',
  'mulens',
  'nalerthist',
  'rf_kn_vs_nonkn',
  'fink_broker_version',
  'fink_science_version',
] as const;

/** One alert as fink_client_read.py prints it. */
export interface ReaderLine {
  topic: string;
  key_sha256: string;
  alert: Record<string, unknown>;
}

/**
 * Where the venv is built: the tests' state dir, or TEST_PYTHON_STATE_DIR when set, so that a worktree whose
 * requirements differ builds its own environment instead of rebuilding the one the shared state dir holds.
 */
export const PYTHON_STATE_DIR_ENV = 'TEST_PYTHON_STATE_DIR';

/** The venv's python, creating the venv and installing fink-client from PyPI on first use. */
export function finkClientPython(): Promise<string> {
  return ensurePythonEnv(process.env[PYTHON_STATE_DIR_ENV] ?? testConfig().stateDir, REQUIREMENTS);
}

export interface ReaderResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the Python reader to completion; its own --timeout bounds it, and a hard stop backs that up. */
export function runReader(python: string, args: string[]): Promise<ReaderResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [READER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({
        code: code ?? (signal === null ? 1 : 128),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
