// `fink start kafka`: an Apache Kafka 3.9 broker in KRaft mode (broker and controller in one JVM), run from its
// jars. The jars are resolved once from Maven Central by infra/kafka/pom.xml into a cache outside the repository.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KafkaConfig } from '../config.ts';
import { PROJECT_ROOT } from '../project.ts';
import { aptInstall, hasCommand } from './install.ts';
import { ensureMavenJars } from './maven-jars.ts';
import type { SpawnSpec } from './supervisor.ts';

const POM = path.join(PROJECT_ROOT, 'infra', 'kafka', 'pom.xml');

export function kafkaHome(stateDir: string): string {
  return path.join(stateDir, 'kafka');
}

/** One KRaft node (broker and controller in one JVM) as its server.properties describes it. */
export interface KafkaNode {
  nodeId: number;
  host: string;
  port: number;
  controllerPort: number;
  /** controller.quorum.voters: `<id>@<host>:<controllerPort>` of every controller, comma-separated. */
  voters: string;
  /** Its directory: server.properties, log4j.properties and data/ (the log dirs and the KRaft metadata). */
  home: string;
  /** Replicas of the internal topics (offsets, transactions) and of topics created without a count. */
  replicas: number;
  /** min.insync.replicas of the broker (and the transaction log): writes with acks=all need this many copies. */
  minInsyncReplicas: number;
  /** Further lines of server.properties, with the comment saying why. */
  extra?: string;
}

/** Installs Java and the jars if missing, formats storage on first start; returns how to run the broker. */
export function prepareLocalKafka(config: KafkaConfig, stateDir: string): SpawnSpec {
  const { host, port, controllerPort } = config;
  const node: KafkaNode = {
    nodeId: 1,
    host,
    port,
    controllerPort,
    voters: `1@${host}:${controllerPort}`,
    home: kafkaHome(stateDir),
    replicas: 1,
    minInsyncReplicas: 1,
  };
  // A KRaft cluster id is 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` prints.
  return prepareKafkaNode(config, node, newClusterId);
}

export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Installs Java and the jars if missing, writes the node's properties (every start: the fink config is the source),
 * formats its storage on first start with the id `clusterId()` returns (every node of a cluster must share it);
 * returns how to run the node.
 */
export function prepareKafkaNode(config: KafkaConfig, node: KafkaNode, clusterId: () => string): SpawnSpec {
  if (!hasCommand('java')) aptInstall(['openjdk-17-jre-headless'], 'Java (for the Kafka broker)');
  const libs = ensureKafkaJars(config);
  const dataDir = path.join(node.home, 'data');
  mkdirSync(dataDir, { recursive: true });
  const properties = path.join(node.home, 'server.properties');
  writeFileSync(properties, serverProperties(config, node, dataDir));
  const log4j = path.join(node.home, 'log4j.properties');
  writeFileSync(log4j, LOG4J_PROPERTIES);
  const jvm = [`-Dlog4j.configuration=file:${log4j}`, '-cp', `${libs}/*`];

  if (!existsSync(path.join(dataDir, 'meta.properties'))) {
    const format = spawnSync(
      'java',
      [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties],
      {
        encoding: 'utf8',
      },
    );
    if (format.status !== 0) {
      throw new Error(`formatting Kafka storage in ${dataDir} failed:\n${format.stderr}${format.stdout}`);
    }
  }
  return {
    command: 'java',
    args: [
      `-Xms${config.heapMb}m`,
      `-Xmx${config.heapMb}m`,
      '-XX:+UseG1GC',
      ...jvm,
      'kafka.Kafka',
      properties,
    ],
    cwd: node.home,
  };
}

/** The directory holding the broker's jars; resolved with mvn on first use, then reused. */
export function ensureKafkaJars(config: KafkaConfig): string {
  return ensureMavenJars({
    label: `Kafka ${config.version}`,
    pom: POM,
    properties: { 'kafka.version': config.version },
    libs: path.join(config.cacheDir, `kafka-${config.version}`, 'libs'),
    marker: `kafka_2.13-${config.version}.jar`,
  });
}

function serverProperties(config: KafkaConfig, node: KafkaNode, dataDir: string): string {
  const { nodeId, host, port, controllerPort, voters, replicas, minInsyncReplicas } = node;
  return `# Written by \`fink start\` on every start; edit the fink config instead.
process.roles=broker,controller
node.id=${nodeId}
controller.quorum.voters=${voters}
listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}
advertised.listeners=PLAINTEXT://${host}:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=${config.defaultPartitions}
auto.create.topics.enable=true
# Every internal topic, and every topic created without a replica count, has ${replicas} replica(s); a write with
# acks=all (every fink producer) is acknowledged once ${minInsyncReplicas} of them have it.
default.replication.factor=${replicas}
min.insync.replicas=${minInsyncReplicas}
offsets.topic.replication.factor=${replicas}
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=${replicas}
transaction.state.log.min.isr=${minInsyncReplicas}
# A replica that was not in sync never becomes leader: that would lose acknowledged writes.
unclean.leader.election.enable=false
# Consumers join at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
# Rubin alerts with cutouts can exceed the 1 MB default.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
log.retention.hours=168
${node.extra ?? ''}`;
}

const LOG4J_PROPERTIES = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
`;
