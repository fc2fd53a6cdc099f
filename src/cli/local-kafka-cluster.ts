// `fink start kafka-1|kafka-2|kafka-3` (or `fink start cluster`) with kafka.mode: cluster: a local 3-broker Apache
// Kafka 3.9 cluster in KRaft mode. Every node is broker and controller in one JVM; the three controllers form a
// static 3-voter quorum (2 must be up for the cluster to serve). Topics have 3 replicas and min.insync.replicas 2:
// with acks=all, an acknowledged write is on two brokers, and one broker may die without losing it or stopping
// writes. Same jars and node setup as the single broker (local-kafka.ts).
//
//   <stateDir>/kafka-cluster/cluster-id     the KRaft cluster id every node is formatted with (first start)
//   <stateDir>/kafka-cluster/kafka-<n>/     server.properties, log4j.properties, data/
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import { newClusterId, prepareKafkaNode, type KafkaNode } from './local-kafka.ts';
import { isListening, kafkaAnswers, kafkaBrokerAnswers } from './probes.ts';
import type { ServiceDefinition } from './services.ts';
import { Supervisor } from './supervisor.ts';

const NODES = [1, 2, 3] as const;
/** Replicas of every topic: one per broker. */
const REPLICAS = NODES.length;
/** Controllers that must be up for the quorum to elect a leader, and in-sync replicas for a write (acks=all). */
const MAJORITY = Math.floor(NODES.length / 2) + 1;

export function kafkaClusterHome(stateDir: string): string {
  return path.join(stateDir, 'kafka-cluster');
}

/** The node with id `nodeId` (1-3) as config describes it: ports from kafka.clusterPorts and clusterControllerPorts. */
export function kafkaClusterNode(config: Config, nodeId: number): KafkaNode {
  const { host, clusterPorts, clusterControllerPorts } = config.kafka;
  const voters = NODES.map((id) => `${id}@${host}:${clusterControllerPorts[id - 1]}`).join(',');
  return {
    nodeId,
    host,
    port: clusterPorts[nodeId - 1]!,
    controllerPort: clusterControllerPorts[nodeId - 1]!,
    voters,
    home: path.join(kafkaClusterHome(config.stateDir), `kafka-${nodeId}`),
    replicas: REPLICAS,
    minInsyncReplicas: MAJORITY,
    // Three JVMs on a small machine (2 cores) shared with ClickHouse servers: fewer threads than the defaults
    // (3 network, 8 I/O, 10 background), enough for a test or a demo load.
    extra: `num.network.threads=2
num.io.threads=4
background.threads=4
`,
  };
}

/**
 * The cluster id, made once and written before any node is formatted: every node of the cluster must be formatted
 * with the same one. The file is created exclusively, so two nodes starting at once still agree.
 */
function clusterId(stateDir: string): string {
  const file = path.join(kafkaClusterHome(stateDir), 'cluster-id');
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, newClusterId(), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

function nodeName(nodeId: number): string {
  return `kafka-${nodeId}`;
}

function clusterNodeService(nodeId: number): ServiceDefinition {
  const name = nodeName(nodeId);
  return {
    name,
    summary: `local Kafka 3.9 cluster, node ${nodeId} of ${NODES.length} (KRaft broker + controller)`,
    quorum: 'kafka-cluster',
    prepare: (config) => {
      if (config.kafka.mode === 'external') return undefined;
      if (config.kafka.mode !== 'cluster') {
        throw new ConfigError(
          `${name} is a node of the local Kafka cluster: it runs with kafka.mode: cluster ` +
            `(e.g. -c config/kafka-cluster.yaml); kafka.mode is ${config.kafka.mode}`,
        );
      }
      return prepareKafkaNode(config.kafka, kafkaClusterNode(config, nodeId), () =>
        clusterId(config.stateDir),
      );
    },
    listens: (config) => {
      if (config.kafka.mode !== 'cluster') return [];
      const { host, port, controllerPort } = kafkaClusterNode(config, nodeId);
      return [
        { host, port },
        { host, port: controllerPort },
      ];
    },
    isReady: (config) => nodeReady(config, nodeId),
  };
}

/**
 * A node serves once a majority of the controllers is up. Started alone (the first of the three, or one of two
 * that are still down), it is ready when it listens for its peers on its controller port: `fink start` brings
 * the nodes up one after the other. With a majority running, it is ready when it answers a metadata request
 * itself, i.e. it has joined the cluster (a restarted node has caught up with the metadata log); not when every
 * partition has a leader: after the whole cluster stopped, some wait for their last in-sync replica's node.
 */
async function nodeReady(config: Config, nodeId: number): Promise<boolean> {
  if (config.kafka.mode !== 'cluster') return kafkaAnswers(config.kafka.brokers);
  const { host, port, controllerPort } = kafkaClusterNode(config, nodeId);
  const supervisor = new Supervisor(config.stateDir);
  const running = NODES.filter((id) => supervisor.status(nodeName(id)).state === 'running').length;
  if (running < MAJORITY) return isListening(host, controllerPort);
  return kafkaBrokerAnswers(`${host}:${port}`);
}

/** kafka-1, kafka-2, kafka-3: started in this order, stopped in reverse. */
export const KAFKA_CLUSTER_SERVICES: readonly ServiceDefinition[] = NODES.map(clusterNodeService);

/** The services running the brokers of `config`: the cluster's three nodes, or the single `kafka`. */
export function kafkaServiceNames(config: Config): string[] {
  return config.kafka.mode === 'cluster' ? KAFKA_CLUSTER_SERVICES.map(({ name }) => name) : ['kafka'];
}
