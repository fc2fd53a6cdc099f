// `fink start clickhouse`: Debian's clickhouse-server (18.16) with its config, data and logs in the state dir.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClickHouseConfig } from '../config.ts';
import { cancelRunningQueries, connectClickHouse } from '../storage/clickhouse.ts';
import { aptInstall, hasCommand } from './install.ts';
import type { SpawnSpec } from './supervisor.ts';

export function clickhouseHome(stateDir: string): string {
  return path.join(stateDir, 'clickhouse');
}

/** One server's own settings: where it listens and how much of the machine it takes. */
export interface ClickHouseServerSpec {
  host: string;
  httpPort: number;
  tcpPort: number;
  markCacheBytes: number;
  maxMemoryUsageBytes: number;
  /** More server config elements (a cluster node's remote_servers, zookeeper, macros ...), XML. */
  extraConfig?: string;
  /** More settings of the default profile, XML. */
  extraProfile?: string;
}

/** Installs the server if missing and writes its config; returns how to run it in the foreground. */
export function prepareLocalClickHouse(config: ClickHouseConfig, stateDir: string): SpawnSpec {
  return prepareClickHouseServer(config, clickhouseHome(stateDir), {
    host: config.host,
    httpPort: config.httpPort,
    tcpPort: config.tcpPort,
    markCacheBytes: 536_870_912,
    maxMemoryUsageBytes: 8_000_000_000,
  });
}

/** A clickhouse-server with its config, data and logs under `home`: the single server, or a cluster node. */
export function prepareClickHouseServer(
  config: ClickHouseConfig,
  home: string,
  server: ClickHouseServerSpec,
): SpawnSpec {
  if (!hasCommand(config.serverBinary)) aptInstall(['clickhouse-server'], 'clickhouse-server');
  for (const dir of ['data', 'tmp', 'user_files', 'log'])
    mkdirSync(path.join(home, dir), { recursive: true });
  const configFile = path.join(home, 'config.xml');
  writeFileSync(configFile, serverConfigXml(server, home));
  writeFileSync(path.join(home, 'users.xml'), usersXml(config, server));
  return { command: config.serverBinary, args: [`--config-file=${configFile}`], cwd: home };
}

/**
 * Before SIGTERM: cancels what the server runs, so that its connections end at once and it stops within
 * seconds (see cancelRunningQueries). A server that does not answer is stopped all the same.
 */
export async function cancelLocalClickHouseQueries(config: ClickHouseConfig): Promise<void> {
  const client = connectClickHouse({ ...config, requestTimeoutMs: 3_000 }, { database: null, quiet: true });
  try {
    await cancelRunningQueries(client);
  } catch {
    // Not answering (starting, stopping, hung): SIGTERM and, if need be, SIGKILL follow.
  } finally {
    await client.close();
  }
}

/** Only what differs from the server's built-in defaults; every path lives under `home`. */
function serverConfigXml(config: ClickHouseServerSpec, home: string): string {
  return `<?xml version="1.0"?>
<!-- Written by \`fink start clickhouse\` on every start; edit the fink config instead. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>${home}/log/clickhouse-server.log</log>
    <errorlog>${home}/log/clickhouse-server.err.log</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <listen_host>${config.host}</listen_host>
  <http_port>${config.httpPort}</http_port>
  <tcp_port>${config.tcpPort}</tcp_port>
  <path>${home}/data/</path>
  <tmp_path>${home}/tmp/</tmp_path>
  <user_files_path>${home}/user_files/</user_files_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <!-- A stop waits for idle keep-alive connections to time out (default 10 s): the clients drop theirs after
       1 s (idle_socket_ttl in src/storage/clickhouse.ts), so 3 s loses nothing and lets \`fink stop\` end quickly. -->
  <keep_alive_timeout>3</keep_alive_timeout>
  <mark_cache_size>${config.markCacheBytes}</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
${config.extraConfig ?? ''}</yandex>
`;
}

function usersXml(config: ClickHouseConfig, server: ClickHouseServerSpec): string {
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>${server.maxMemoryUsageBytes}</max_memory_usage>
      <load_balancing>random</load_balancing>
${server.extraProfile ?? ''}    </default>
  </profiles>
  <users>
    <${config.username}>
      <password>${escapeXml(config.password)}</password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${config.username}>
  </users>
  <quotas><default></default></quotas>
</yandex>
`;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
