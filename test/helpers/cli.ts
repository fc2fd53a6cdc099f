// Runs the real `fink` command as a user would, in a separate state dir and on separate ports.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/project.ts';
import { freePort } from './context.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  stateDir: string;
  env: NodeJS.ProcessEnv;
  ports: { clickhouseHttp: number; clickhouseTcp: number; kafka: number; kafkaController: number };
  fink(...args: string[]): Promise<CliResult>;
}

export async function createCliSandbox(): Promise<CliSandbox> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'fink-cli-'));
  const ports = {
    clickhouseHttp: await freePort(),
    clickhouseTcp: await freePort(),
    kafka: await freePort(),
    kafkaController: await freePort(),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FINK_STATE_DIR: stateDir,
    FINK_CLICKHOUSE__HTTP_PORT: String(ports.clickhouseHttp),
    FINK_CLICKHOUSE__TCP_PORT: String(ports.clickhouseTcp),
    FINK_KAFKA__PORT: String(ports.kafka),
    FINK_KAFKA__CONTROLLER_PORT: String(ports.kafkaController),
  };
  return { stateDir, env, ports, fink: (...args) => runFink(args, env) };
}

export function runFink(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'fink.js'), ...args],
      { env, cwd: PROJECT_ROOT, timeout: 170_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
