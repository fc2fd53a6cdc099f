// `fink start cluster`: on one machine, ZooKeeper and 2 ClickHouse shards x 2 replicas (Debian's
// clickhouse-server 18.16, each a service of its own: clickhouse-s1r1, clickhouse-s1r2, clickhouse-s2r1,
// clickhouse-s2r2), sized so that the four fit a 2-core / 24 GB machine next to the pipeline.
//
// Node i listens on clickhouse.localCluster.{httpPort,tcpPort,interserverPort} + i. Every node knows the
// cluster (remote_servers, internal_replication: a Distributed insert writes one replica per shard and
// replication copies it), its own {shard} and {replica} macros (the ZooKeeper paths of cluster-ddl.ts), and
// ZooKeeper, where the replicated tables keep their logs and ON CLUSTER statements queue (distributed_ddl).
import path from 'node:path';
import type { ClickHouseConfig, Config } from '../config.ts';
import { connectClickHouse, pingClickHouse } from '../storage/clickhouse.ts';
import { cancelLocalClickHouseQueries, escapeXml, prepareClickHouseServer } from './local-clickhouse.ts';
import { prepareLocalZooKeeper, zookeeperAnswers } from './local-zookeeper.ts';
import type { ServiceDefinition } from './services.ts';

export interface ClusterNode {
  /** 1-based. */
  shard: number;
  replica: number;
  /** s1r1 ...: the {replica} macro, unique in the cluster (global tables have every node as a replica). */
  name: string;
  httpPort: number;
  tcpPort: number;
  interserverPort: number;
}

export const CLUSTER_SHARDS = 2;
export const CLUSTER_REPLICAS = 2;

export function clusterNodes({ localCluster }: ClickHouseConfig): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (let shard = 1; shard <= CLUSTER_SHARDS; shard++) {
    for (let replica = 1; replica <= CLUSTER_REPLICAS; replica++) {
      const i = nodes.length;
      nodes.push({
        shard,
        replica,
        name: `s${shard}r${replica}`,
        httpPort: localCluster.httpPort + i,
        tcpPort: localCluster.tcpPort + i,
        interserverPort: localCluster.interserverPort + i,
      });
    }
  }
  return nodes;
}

/** The clickhouse section pointing at one node of the local cluster (probes, stop). */
export function nodeClickHouseConfig(config: ClickHouseConfig, node: ClusterNode): ClickHouseConfig {
  return { ...config, url: `http://${config.host}:${node.httpPort}`, urls: [] };
}

function nodeConfigXml(config: Config, node: ClusterNode): string {
  const { clickhouse, zookeeper } = config;
  const nodes = clusterNodes(clickhouse);
  const shards = Array.from({ length: CLUSTER_SHARDS }, (_, i) => i + 1)
    .map(
      (shard) => `      <shard>
        <internal_replication>true</internal_replication>
${nodes
  .filter((n) => n.shard === shard)
  .map(
    (n) => `        <replica>
          <host>${clickhouse.host}</host>
          <port>${n.tcpPort}</port>
          <user>${clickhouse.username}</user>
          <password>${escapeXml(clickhouse.password)}</password>
        </replica>`,
  )
  .join('\n')}
      </shard>`,
    )
    .join('\n');
  return `  <interserver_http_host>${clickhouse.host}</interserver_http_host>
  <interserver_http_port>${node.interserverPort}</interserver_http_port>
  <remote_servers>
    <${clickhouse.localCluster.name}>
${shards}
    </${clickhouse.localCluster.name}>
  </remote_servers>
  <zookeeper>
    <node>
      <host>${zookeeper.host}</host>
      <port>${zookeeper.port}</port>
    </node>
    <session_timeout_ms>30000</session_timeout_ms>
  </zookeeper>
  <macros>
    <cluster>${clickhouse.localCluster.name}</cluster>
    <shard>${node.shard}</shard>
    <replica>${node.name}</replica>
  </macros>
  <!-- ON CLUSTER statements are queued here and run by every node's DDL worker. -->
  <distributed_ddl>
    <path>/clickhouse/task_queue/ddl</path>
  </distributed_ddl>
  <!-- With fewer free background threads than this, a server merges only small parts (18.16: with 2 free of
       the default 8, at most ~20 MB): a small pool needs a small threshold, or large merges never run and a
       replica postpones the merges its shard's leader assigned, for ever. -->
  <merge_tree>
    <number_of_free_entries_in_pool_to_lower_max_size_of_merge>${Math.max(
      1,
      Math.floor(clickhouse.localCluster.backgroundPoolSize / 2),
    )}</number_of_free_entries_in_pool_to_lower_max_size_of_merge>
  </merge_tree>
  <!-- Four servers share two cores: fewer threads, small caches. -->
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_table_size_to_drop>0</max_table_size_to_drop>
  <max_partition_size_to_drop>0</max_partition_size_to_drop>
`;
}

/** The service of the node at `index` in clusterNodes(): its ports come from the config it is started with. */
function nodeService(index: number): ServiceDefinition {
  const shard = Math.floor(index / CLUSTER_REPLICAS) + 1;
  const replica = (index % CLUSTER_REPLICAS) + 1;
  const nodeOf = (config: Config): ClusterNode => clusterNodes(config.clickhouse)[index]!;
  return {
    name: `clickhouse-s${shard}r${replica}`,
    summary: `local cluster: ClickHouse shard ${shard}, replica ${replica}`,
    prepare: (config) => {
      const node = nodeOf(config);
      const { localCluster } = config.clickhouse;
      return prepareClickHouseServer(
        config.clickhouse,
        path.join(config.stateDir, `clickhouse-${node.name}`),
        {
          host: config.clickhouse.host,
          httpPort: node.httpPort,
          tcpPort: node.tcpPort,
          markCacheBytes: localCluster.markCacheMb * 1024 * 1024,
          maxMemoryUsageBytes: localCluster.maxMemoryUsageMb * 1024 * 1024,
          extraConfig: nodeConfigXml(config, node),
          extraProfile: `      <background_pool_size>${localCluster.backgroundPoolSize}</background_pool_size>
      <background_schedule_pool_size>${localCluster.backgroundSchedulePoolSize}</background_schedule_pool_size>
      <max_threads>2</max_threads>
`,
        },
      );
    },
    listens: (config) => {
      const node = nodeOf(config);
      const { host } = config.clickhouse;
      return [node.httpPort, node.tcpPort, node.interserverPort].map((port) => ({ host, port }));
    },
    beforeStop: (config) =>
      cancelLocalClickHouseQueries(nodeClickHouseConfig(config.clickhouse, nodeOf(config))),
    isReady: async (config) => {
      const client = connectClickHouse(nodeClickHouseConfig(config.clickhouse, nodeOf(config)), {
        database: null,
        quiet: true,
      });
      try {
        return await pingClickHouse(client);
      } finally {
        await client.close();
      }
    },
  };
}

/** ZooKeeper first, then the nodes: `fink start cluster` starts them in this order, stops them in reverse. */
export const CLICKHOUSE_CLUSTER_SERVICES: readonly ServiceDefinition[] = [
  {
    name: 'zookeeper',
    summary: 'local cluster: Apache ZooKeeper for ClickHouse replication and ON CLUSTER DDL',
    prepare: (config) => prepareLocalZooKeeper(config.zookeeper, config.stateDir),
    listens: ({ zookeeper: { host, port } }) => [{ host, port }],
    isReady: ({ zookeeper }) => zookeeperAnswers(zookeeper),
  },
  ...Array.from({ length: CLUSTER_SHARDS * CLUSTER_REPLICAS }, (_, index) => nodeService(index)),
];
