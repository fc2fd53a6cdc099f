// `fink start zookeeper` (part of `fink start cluster`): a standalone Apache ZooKeeper for the local ClickHouse
// cluster, which keeps its replication logs and the ON CLUSTER DDL queue there (ClickHouse 18.16 has no
// built-in Keeper). Run from its jars, resolved once from Maven Central by infra/zookeeper/pom.xml.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import type { ZooKeeperConfig } from '../config.ts';
import { PROJECT_ROOT } from '../project.ts';
import { aptInstall, hasCommand } from './install.ts';
import { ensureMavenJars } from './maven-jars.ts';
import type { SpawnSpec } from './supervisor.ts';

const POM = path.join(PROJECT_ROOT, 'infra', 'zookeeper', 'pom.xml');

export function zookeeperHome(stateDir: string): string {
  return path.join(stateDir, 'zookeeper');
}

export function prepareLocalZooKeeper(
  config: ZooKeeperConfig & { cacheDir: string },
  stateDir: string,
): SpawnSpec {
  if (!hasCommand('java')) aptInstall(['openjdk-17-jre-headless'], 'Java (for ZooKeeper)');
  const libs = ensureMavenJars({
    label: `ZooKeeper ${config.version}`,
    pom: POM,
    properties: { 'zookeeper.version': config.version },
    libs: path.join(config.cacheDir, `zookeeper-${config.version}`, 'libs'),
    marker: `zookeeper-${config.version}.jar`,
  });
  const home = zookeeperHome(stateDir);
  const dataDir = path.join(home, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cfg = path.join(home, 'zoo.cfg');
  writeFileSync(cfg, zooCfg(config, dataDir));
  return {
    command: 'java',
    args: [
      `-Xms${config.heapMb}m`,
      `-Xmx${config.heapMb}m`,
      // The admin server (an HTTP server on 8080) is off: only the client port is ours to take.
      '-Dzookeeper.admin.enableServer=false',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      `${libs}/*`,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      cfg,
    ],
    cwd: home,
  };
}

function zooCfg(config: ZooKeeperConfig, dataDir: string): string {
  return `# Written by \`fink start zookeeper\` on every start; edit the fink config instead.
tickTime=2000
dataDir=${dataDir}
clientPort=${config.port}
clientPortAddress=${config.host}
admin.enableServer=false
maxClientCnxns=0
# ClickHouse writes a znode per inserted block and per DDL task: old snapshots and logs are purged hourly.
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
4lw.commands.whitelist=ruok,mntr,srvr
`;
}

/**
 * Ready when it serves: the four-letter `srvr` names its mode. (`ruok` answers `imok` as soon as the port is
 * open, even when the server itself failed to start.)
 */
export function zookeeperAnswers(config: ZooKeeperConfig): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: config.host, port: config.port });
    let answer = '';
    socket.setTimeout(1_000);
    socket.once('connect', () => socket.write('srvr'));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.once('end', () => resolve(/^Mode: /m.test(answer)));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
