// The ClickHouse connection and the two ways to talk to it: a query that returns rows, and a command.
// Both take only `Sql` built by the `sql` tag, never strings.
import {
  ClickHouseLogLevel,
  createClient,
  type ClickHouseClient,
  type ClickHouseSettings,
} from '@clickhouse/client';
import type { ClickHouseConfig } from '../config.ts';
import { StorageError } from './errors.ts';
import { currentQueryScope, type QueryScope } from './query-scope.ts';
import { sql, type Sql } from './sql.ts';

export type { ClickHouseClient };
export { StorageError };

export interface ConnectOptions {
  /** Database to use for unqualified names; null connects to the server's default one. */
  database?: string | null;
  /** Probes expect refused connections and must not log them. */
  quiet?: boolean;
  /**
   * false: a connection per request, none kept open. For clients that send a steady trickle of requests (the
   * pipeline services, a few a second): ClickHouse 18.16, told to stop, serves the requests that keep arriving on
   * open connections and then waits 10 s for each before it exits, which pushes `fink stop clickhouse` past its
   * timeout; a new connection is refused at once and retried like any outage.
   */
  keepAlive?: boolean;
}

export function connectClickHouse(config: ClickHouseConfig, options: ConnectOptions = {}): ClickHouseClient {
  const urls = [config.url, ...config.urls.filter((url) => url !== config.url)];
  const clients = urls.map((url) => createOneClient(url, config, options));
  return clients.length === 1 ? clients[0]! : failoverClient(clients);
}

/**
 * Cluster mode, for every request: an insert into a Distributed table returns once every row is on its shard
 * (not queued on the node that took it, lost if that node dies); a retried insert is written again (below); and an `IN (SELECT ... FROM <distributed>)`
 * inside a query on a Distributed table reads each shard's own local table: every sharded table is
 * distributed by object id and such subqueries match alert or object ids, so the rows they look for are on
 * the shard that asks (src/storage/cluster-ddl.ts).
 */
const CLUSTER_SETTINGS: ClickHouseSettings = {
  insert_distributed_sync: 1,
  distributed_product_mode: 'local',
  // No block deduplication, as on a single server: replicated tables skip a block they already hold, and before
  // ClickHouse 24.7 such a block skips its materialized views too. An insert cut by a node's death after its
  // table's block was committed but before its views' was, retried, then never reached the views (measured:
  // alerts_by_hpx lost the rows of a batch). Every table is a ReplacingMergeTree keyed for replays: a retried
  // block's rows collapse with the first ones, in the table and in its views.
  insert_deduplicate: 0,
};

function createOneClient(url: string, config: ClickHouseConfig, options: ConnectOptions): ClickHouseClient {
  const database = options.database === undefined ? config.database : options.database;
  return createClient({
    url,
    username: config.username,
    password: config.password,
    request_timeout: config.requestTimeoutMs,
    // An idle connection is dropped after 1 s, well before the server closes it (keep_alive_timeout: 3 s for the
    // local server and older releases): at the default 2.5 s, a busy event loop fired the timer late and the next
    // request was written to a socket the server had closed (EPIPE). And a socket found past that age when it is
    // taken from the pool (the timer was late) is destroyed, not used: commands are not sent twice as reads are.
    keep_alive:
      options.keepAlive === false
        ? { enabled: false }
        : { enabled: true, idle_socket_ttl: 1000, eagerly_destroy_stale_sockets: true },
    ...(database === null ? {} : { database }),
    ...(config.cluster === undefined ? {} : { clickhouse_settings: CLUSTER_SETTINGS }),
    log: { level: options.quiet === true ? ClickHouseLogLevel.OFF : ClickHouseLogLevel.WARN },
  });
}

const FAILOVER_METHODS = new Set<PropertyKey>(['query', 'command', 'exec', 'insert', 'ping']);

/**
 * One client over several nodes holding the same data (clickhouse.urls): requests go to one node until it
 * cannot be reached, then to the next. A query or command whose connection was refused never reached the
 * server and is sent to the next node at once; one cut mid-way (ECONNRESET) is not sent again (it may have been applied): it
 * fails as an outage, which the pipeline retries, and the next request goes to the next node.
 */
function failoverClient(clients: ClickHouseClient[]): ClickHouseClient {
  let current = 0;
  const call = async (method: 'query' | 'command' | 'exec' | 'insert' | 'ping', params: unknown) => {
    for (let tried = 1; ; tried++) {
      const index = current;
      const client = clients[index]! as unknown as Record<string, (p: unknown) => Promise<unknown>>;
      let failure: unknown;
      let answer: { value: unknown } | undefined;
      try {
        const result = await client[method]!.call(clients[index], params);
        // ping answers { success: false, error } instead of throwing.
        const ping = result as { success?: boolean; error?: unknown };
        if (method !== 'ping' || ping.success !== false) return result;
        answer = { value: result };
        failure = ping.error;
      } catch (err) {
        failure = err;
      }
      const code = (failure as { code?: unknown } | undefined)?.code;
      if (typeof code === 'string' && UNREACHABLE.has(code) && current === index) {
        current = (index + 1) % clients.length;
      }
      // exec and insert send a stream of rows, read once: they are not sent again, the caller retries them.
      const resendable = method === 'query' || method === 'command' || method === 'ping';
      if (code === 'ECONNREFUSED' && resendable && tried < clients.length) continue;
      if (answer !== undefined) return answer.value;
      throw failure;
    }
  };
  return new Proxy(clients[0]!, {
    get(_target, property) {
      if (property === 'close') return () => Promise.all(clients.map((client) => client.close()));
      if (FAILOVER_METHODS.has(property)) {
        return (params: unknown) => call(property as 'query', params);
      }
      const value: unknown = Reflect.get(clients[current]!, property);
      return typeof value === 'function' ? (value as () => unknown).bind(clients[current]) : value;
    },
  });
}

/** Settings of one query (sent as URL parameters, which every server version reads). */
export type QuerySettings = ClickHouseSettings;

/** The rows of a query; inside a query scope (src/storage/query-scope.ts), bounded by it. */
export async function queryRows<T>(
  client: ClickHouseClient,
  statement: Sql,
  settings: QuerySettings = {},
): Promise<T[]> {
  const scope = currentQueryScope();
  if (scope !== undefined) return scopedRows<T>(client, statement, scope, settings);
  return translateErrors(
    async () => {
      const result = await client.query({
        query: statement.text,
        format: 'JSONEachRow',
        ...(Object.keys(settings).length === 0 ? {} : { clickhouse_settings: settings }),
      });
      return result.json<T>();
    },
    { idempotent: true },
  );
}

/**
 * Parser limits that fit `statement`: a search compiles a filter within the documented limits (200 nodes, lists of
 * 100 items, strings of 200 characters) into SQL that may pass ClickHouse's defaults (max_query_size 256 KiB,
 * max_ast_elements 50,000; every AST element takes at least two characters of SQL). Sized from the statement,
 * so a larger one is never accepted by accident.
 */
export function settingsFittingStatement(statement: Sql): QuerySettings {
  const length = statement.text.length;
  return {
    max_query_size: String(Math.max(262_144, length + 1024)),
    max_ast_elements: String(Math.max(50_000, Math.ceil(length / 2))),
    max_expanded_ast_elements: String(Math.max(500_000, length)),
  };
}

/**
 * A query under the scope's deadline, budget and concurrency: rows are counted as they stream in, so that a
 * query bringing back more than the budget is stopped (and killed) before it all sits in memory.
 */
async function scopedRows<T>(
  client: ClickHouseClient,
  statement: Sql,
  scope: QueryScope,
  settings: QuerySettings,
): Promise<T[]> {
  await scope.acquire();
  const queryId = scope.track(client);
  try {
    const seconds = scope.executionSeconds();
    const result = await client.query({
      query: statement.text,
      format: 'JSONEachRow',
      query_id: queryId,
      abort_signal: scope.signal,
      clickhouse_settings: { ...settings, ...(seconds === undefined ? {} : { max_execution_time: seconds }) },
    });
    const rows: T[] = [];
    for await (const chunk of result.stream<T>()) {
      let bytes = 0;
      for (const row of chunk) {
        bytes += row.text.length;
        rows.push(row.json());
      }
      scope.charge(chunk.length, bytes);
    }
    return rows;
  } catch (err) {
    // Whatever the client says about an aborted request, the scope's reason is what happened.
    const ended = scope.ended;
    if (ended !== undefined) throw ended;
    if (err instanceof StorageError) throw err;
    throw translateError(err);
  } finally {
    scope.untrack(queryId);
    scope.release();
  }
}

export async function runCommand(client: ClickHouseClient, statement: Sql): Promise<void> {
  await translateErrors(() => client.command({ query: statement.text }));
}

/**
 * Cancels every query the server runs (but this one). A server told to stop waits for its open connections, and
 * 18.16 then gives each connection still busy 10 s more before it lets go: a running query or insert delays a
 * stop by that much. The clients see a cancelled query (code 394), which they retry like an outage.
 */
export async function cancelRunningQueries(client: ClickHouseClient): Promise<void> {
  await runCommand(client, sql`KILL QUERY WHERE query NOT LIKE 'KILL QUERY%' ASYNC`);
}

/** Answers true when the server responds to /ping. */
export async function pingClickHouse(client: ClickHouseClient): Promise<boolean> {
  const result = await client.ping();
  return result.success;
}

// A server gone mid-request shows as ECONNRESET ('socket hang up' too) or EPIPE; a server down as ECONNREFUSED.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Server answers that mean "not now" rather than "never": 202 too many simultaneous queries, 209 socket
 * timeout, 210 network error, 252 too many parts (inserts outpacing merges), 394 query cancelled (a server
 * shutting down cancels what runs). The client parses the code of newer servers ("Code: 252. DB::Exception:
 * ... (TOO_MANY_PARTS)"); 18.16's "Code: 252, e.displayText() = ..." is left in the message.
 */
const TRANSIENT_SERVER_CODES = new Set([202, 209, 210, 252, 394]);

function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
  const message = err instanceof Error ? err.message : String(err);
  if (/timeout/i.test(message)) return true;
  const serverCode =
    typeof code === 'string' && /^\d+$/.test(code) ? code : /^Code: (\d+)[.,]/.exec(message)?.[1];
  return serverCode !== undefined && TRANSIENT_SERVER_CODES.has(Number(serverCode));
}

/** A pooled connection that the server closed while it sat idle: the request never reached the server. */
function isStaleConnection(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

/**
 * Runs one request and types its failure as a StorageError. A read (`idempotent`) that meets a connection the
 * server had already closed is sent once more on a fresh one: keep-alive sockets are dropped by the client after
 * 1 s idle, but an event loop blocked for seconds (a large decode) reuses one the server closed meanwhile.
 */
export async function translateErrors<T>(
  operation: () => Promise<T>,
  { idempotent = false }: { idempotent?: boolean } = {},
): Promise<T> {
  try {
    try {
      return await operation();
    } catch (err) {
      if (!idempotent || !isStaleConnection(err)) throw err;
      return await operation();
    }
  } catch (err) {
    throw translateError(err);
  }
}

function translateError(err: unknown): StorageError {
  return new StorageError((err as Error).message, isUnavailable(err) ? 'unavailable' : 'query-failed', {
    cause: err,
  });
}
