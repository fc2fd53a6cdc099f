// `fink test` (npm test): starts local ClickHouse and Kafka if they are not running, runs every test against
// them, and stops what it started. Tests read the same config through the environment.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { configToEnv, type Config } from '../config.ts';
import { PROJECT_ROOT } from '../project.ts';
import { startService, stopService } from './lifecycle.ts';

const INFRASTRUCTURE = ['clickhouse', 'kafka'];

export async function runTests(config: Config, vitestArgs: string[]): Promise<number> {
  const started: string[] = [];
  try {
    for (const service of INFRASTRUCTURE) {
      if ((await startService(service, config)) === 'started') started.push(service);
    }
    return await runVitest(config, vitestArgs);
  } finally {
    for (const service of started.reverse()) await stopService(service, config);
  }
}

interface VitestJsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

async function runVitest(config: Config, vitestArgs: string[]): Promise<number> {
  const report = path.join(config.stateDir, 'test-results.json');
  rmSync(report, { force: true });
  const vitest = path.join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...vitestArgs,
  ];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      stdio: 'inherit',
      env: { ...process.env, ...configToEnv(config) },
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 128)));
  });
  let summary: VitestJsonReport;
  try {
    summary = JSON.parse(readFileSync(report, 'utf8')) as VitestJsonReport;
  } catch {
    console.error('fink test: vitest wrote no report');
    return code === 0 ? 1 : code;
  }
  const skipped = summary.numPendingTests + summary.numTodoTests;
  console.log(
    `\ntests: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed` +
      (skipped > 0 ? `, ${skipped} skipped` : ''),
  );
  if (summary.numTotalTests === 0) {
    console.error('fink test: no test ran');
    return 1;
  }
  return code;
}
