// The cluster tests run on the local 3-broker Kafka cluster (kafka.mode: cluster, e.g.
// FINK_CONFIG=config/kafka-cluster.yaml) and the usual ClickHouse. Brokers not running yet are started here and
// stopped after the run; the ones already running are left as they were. Names are tagged and this run's
// leftovers removed as in the integration project (test/global-setup.ts).
import { startService, stopServices } from '../../src/cli/lifecycle.ts';
import { KAFKA_CLUSTER_SERVICES } from '../../src/cli/local-kafka-cluster.ts';
import { loadConfig } from '../../src/config.ts';
import runTagSetup from '../global-setup.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const config = loadConfig();
  if (config.kafka.mode !== 'cluster') {
    throw new Error(
      `the cluster tests need kafka.mode: cluster (FINK_CONFIG=config/kafka-cluster.yaml); it is ${config.kafka.mode}`,
    );
  }
  const started: string[] = [];
  try {
    for (const { name } of KAFKA_CLUSTER_SERVICES) {
      if ((await startService(name, config)) === 'started') started.push(name);
    }
  } catch (err) {
    await stopServices(started.reverse(), config);
    throw err;
  }
  const teardownRun = runTagSetup();
  return async () => {
    try {
      await teardownRun();
    } finally {
      await stopServices(started.reverse(), config);
    }
  };
}
