import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterNodes } from '../../../src/cli/local-clickhouse-cluster.ts';
import { expandServiceName, findService, SERVICE_GROUPS, SERVICES } from '../../../src/cli/services.ts';
import { configToEnv, loadConfig } from '../../../src/config.ts';
import { PROJECT_ROOT } from '../../../src/project.ts';

const CLUSTER_FILE = path.join(PROJECT_ROOT, 'conf', 'cluster.yaml');
const cluster = () => loadConfig({ file: CLUSTER_FILE, env: {}, cwd: '/srv/fink' });

describe('conf/cluster.yaml', () => {
  it('points ClickHouse at the local cluster, in cluster mode, with the other nodes to fail over to', () => {
    const config = cluster();
    expect(config.stateDir).toBe('/srv/fink/.fink-cluster');
    expect(config.clickhouse).toMatchObject({
      mode: 'external',
      url: 'http://127.0.0.1:28123',
      urls: ['http://127.0.0.1:28124', 'http://127.0.0.1:28125', 'http://127.0.0.1:28126'],
      cluster: 'fink',
    });
    expect(config.zookeeper.port).toBe(22181);
  });

  it('reaches a child process unchanged (nested keys as JSON in the environment)', () => {
    const config = cluster();
    const child = loadConfig({ env: configToEnv(config), cwd: '/elsewhere' });
    expect(child.clickhouse).toEqual(config.clickhouse);
    expect(child.zookeeper).toEqual(config.zookeeper);
  });

  it.each([
    [{ clickhouse: { cluster: 'my-cluster' } }, /clickhouse\.cluster/],
    [{ clickhouse: { urls: ['not a url'] } }, /clickhouse\.urls/],
    [{ clickhouse: { localCluster: { httpPort: 0 } } }, /clickhouse\.localCluster\.httpPort/],
    [{ zookeeper: { version: '4.0' } }, /zookeeper\.version/],
  ])('refuses %j, naming the key', (overrides, message) => {
    expect(() => loadConfig({ env: {}, overrides })).toThrow(message);
  });
});

describe('the cluster services', () => {
  it('form the group `cluster`, ZooKeeper first, every one a service of its own', () => {
    expect(SERVICE_GROUPS.cluster).toEqual([
      'zookeeper',
      'clickhouse-s1r1',
      'clickhouse-s1r2',
      'clickhouse-s2r1',
      'clickhouse-s2r2',
      'kafka-1',
      'kafka-2',
      'kafka-3',
    ]);
    expect(expandServiceName('cluster')).toEqual(SERVICE_GROUPS.cluster);
    expect(expandServiceName('server')).toEqual(['server']);
    for (const name of SERVICE_GROUPS.cluster!) expect(findService(name)).toBeDefined();
    // `fink stop all` stops in reverse order: the nodes before ZooKeeper, the pipeline before both.
    const order = SERVICES.map((s) => s.name);
    expect(order.indexOf('zookeeper')).toBeLessThan(order.indexOf('clickhouse-s1r1'));
    expect(order.indexOf('clickhouse-s2r2')).toBeLessThan(order.indexOf('stream2raw'));
  });

  it('listen only on their own ports', () => {
    const config = cluster();
    const ports = SERVICE_GROUPS.cluster!.flatMap((name) => findService(name)!.listens!(config)).map(
      (a) => a.port,
    );
    expect(ports.sort()).toEqual(
      [22181, 28123, 28124, 28125, 28126, 29000, 29001, 29002, 29003, 29009, 29010, 29011, 29012].sort(),
    );
    expect(clusterNodes(config.clickhouse).map((n) => `${n.name}:${n.shard}/${n.replica}`)).toEqual([
      's1r1:1/1',
      's1r2:1/2',
      's2r1:2/1',
      's2r2:2/2',
    ]);
  });
});
