// `fink test` (npm test): starts local ClickHouse and Kafka if they are not running, runs every test against
// them, and stops what it started. Tests read the same config through the environment.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { configToEnv, type Config } from '../config.ts';
import { PROJECT_ROOT } from '../project.ts';
import { buildDashboard } from '../server/dashboard.ts';
import { ensureChromium } from './install.ts';
import { startService, stopServices } from './lifecycle.ts';
import { kafkaServiceNames } from './local-kafka-cluster.ts';
import { ensureModelsInstalled } from './models-command.ts';

/** The local servers the tests need: ClickHouse, and the single broker or the three of the local cluster. */
function infrastructure(config: Config): string[] {
  return ['clickhouse', ...kafkaServiceNames(config)];
}

export async function runTests(config: Config, vitestArgs: string[]): Promise<number> {
  const started: string[] = [];
  let outcome: { code: number; summary: string } | undefined;
  try {
    for (const service of infrastructure(config)) {
      if ((await startService(service, config)) === 'started') started.push(service);
    }
    // The pipeline tests score alerts with Fink's models: installed once here, not raced by test workers.
    await ensureModelsInstalled(config);
    if (runsBrowserTests(vitestArgs)) {
      // The browser tests drive Debian's Chromium over the built dashboard (rebuilt only when web/ changed).
      ensureChromium();
      await buildDashboard();
    }
    outcome = await runVitest(config, vitestArgs);
    if (vitestArgs.length === 0 && config.kafka.mode !== 'cluster') {
      // Every test: the broker-failure tests too, in a second pass on the local 3-broker cluster (its global
      // setup starts and stops the brokers), ClickHouse and the single broker still running beside it.
      const kafkaCluster = await runVitest(kafkaClusterConfig(config), ['--project', 'cluster-kafka']);
      outcome = combine(outcome, kafkaCluster);
    }
  } finally {
    await stopServices(started.reverse(), config);
  }
  // Last, alone on its line: CI reads the closing line for the counts.
  console.log(`\n${outcome.summary}`);
  return outcome.code;
}

/** The run's config with the local 3-broker cluster as its Kafka (config/kafka-cluster.yaml's keys). */
function kafkaClusterConfig(config: Config): Config {
  const { kafka } = config;
  return {
    ...config,
    kafka: {
      ...kafka,
      mode: 'cluster',
      brokers: kafka.clusterPorts.map((port) => `${kafka.host}:${port}`),
      replicationFactor: 3,
      minInsyncReplicas: 2,
    },
  };
}

/** Two runs' outcome: failed if either failed, their counts added (the closing line CI reads). */
function combine(
  first: { code: number; summary: string; counts?: number[] },
  second: { code: number; summary: string; counts?: number[] },
): { code: number; summary: string } {
  const [a, b] = [first.counts, second.counts];
  if (a === undefined || b === undefined) {
    return { code: first.code || second.code || 1, summary: `${first.summary}\n${second.summary}` };
  }
  const [passed, failed, skipped] = a.map((n, i) => n + b[i]!);
  return {
    code: first.code || second.code,
    summary: `tests: ${passed} passed, ${failed} failed` + (skipped! > 0 ? `, ${skipped} skipped` : ''),
  };
}

/** False when the arguments select vitest projects and `browser` is not one of them. */
export function runsBrowserTests(vitestArgs: readonly string[]): boolean {
  const projects: string[] = [];
  vitestArgs.forEach((arg, i) => {
    if (arg === '--project' && vitestArgs[i + 1] !== undefined) projects.push(vitestArgs[i + 1]!);
    else if (arg.startsWith('--project=')) projects.push(arg.slice('--project='.length));
  });
  return projects.length === 0 || projects.includes('browser');
}

interface VitestJsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

async function runVitest(
  config: Config,
  vitestArgs: string[],
): Promise<{ code: number; summary: string; counts?: number[] }> {
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
  let counts: VitestJsonReport;
  try {
    counts = JSON.parse(readFileSync(report, 'utf8')) as VitestJsonReport;
  } catch {
    return { code: code === 0 ? 1 : code, summary: 'fink test: vitest wrote no report' };
  }
  const skipped = counts.numPendingTests + counts.numTodoTests;
  const summary =
    `tests: ${counts.numPassedTests} passed, ${counts.numFailedTests} failed` +
    (skipped > 0 ? `, ${skipped} skipped` : '');
  if (counts.numTotalTests === 0) return { code: 1, summary: `${summary}\nfink test: no test ran` };
  return { code, summary, counts: [counts.numPassedTests, counts.numFailedTests, skipped] };
}
