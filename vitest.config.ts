import { defineConfig } from 'vitest/config';
import { loadConfig } from './src/config.ts';

// graphql must be one module instance: test files importing 'graphql' would otherwise get its ESM entry while
// type-graphql gets another copy, and graphql refuses a schema "from another module or realm".
const resolve = { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] };

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['test/integration/abuse.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // Real servers: starting a broker or a replay takes seconds, not milliseconds.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        resolve,
        test: {
          // The abuse test measures a query's latency under load (the bound: p99 < 250 ms): it runs
          // after every other file has finished, alone, so that its figures are its own load's, not the suite's.
          name: 'load',
          include: ['test/integration/abuse.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      // Only with kafka.mode: cluster (FINK_CONFIG=config/kafka-cluster.yaml): `fink test` runs it in a second pass
      // with that mode (src/cli/test-command.ts); `--project cluster-kafka` selects it (README: the cluster tests).
      ...(loadConfig().kafka.mode === 'cluster'
        ? [
            {
              resolve,
              test: {
                name: 'cluster-kafka',
                include: ['test/cluster/kafka-cluster.test.ts'],
                globalSetup: ['test/cluster/global-setup.ts'],
                // One file at a time: each kills and restarts brokers the others would be using.
                fileParallelism: false,
                testTimeout: 600_000,
                hookTimeout: 600_000,
              },
            },
          ]
        : []),
      {
        resolve,
        test: {
          // ClickHouse cluster mode on a local cluster (conf/cluster.yaml: ZooKeeper + 2 shards x 2 replicas, started
          // by the test file when not running): its own project, run after every other one (it loads the machine).
          name: 'cluster-clickhouse',
          include: ['test/cluster/clickhouse-cluster.test.ts'],
          sequence: { groupOrder: 2 },
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 900_000,
          hookTimeout: 600_000,
        },
      },
      {
        resolve,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // The dashboard build and Chromium. Not test/global-setup.ts a second time: each run of it sets the
          // run's tag anew, and the integration project's teardown would then miss its own leftovers.
          globalSetup: ['test/browser/global-setup.ts'],
          // A pipeline-filled database, a server and a real browser per file.
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
