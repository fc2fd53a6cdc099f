// What bounds the ClickHouse work of one caller (a GraphQL operation): a deadline, a budget of rows and bytes
// brought back, and a number of queries running at once. The caller enters a scope (runInQueryScope) and every
// queryRows inside it, however deep in resolvers and DataLoaders, reads it through AsyncLocalStorage: storage
// never imports the server, and the server never passes the scope by hand.
//
// Each query of a scope gets a query_id and `max_execution_time` (whole seconds: ClickHouse 18.16 reads that
// setting as an integer and truncates 0.5 to 0, which means no limit; newer servers take fractions too). When the
// scope is aborted (deadline passed, client gone, budget spent), its HTTP requests are aborted and the queries
// still running are killed (`KILL QUERY WHERE query_id IN (...)`): ClickHouse 18.16 goes on with a query whose
// HTTP client left until it has something to write, so aborting the request alone would not stop the work.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { StorageError } from './errors.ts';
import { list, sql } from './sql.ts';

export type ScopeEndCode = 'timeout' | 'cancelled' | 'limit-exceeded';

/** A scope's end, as storage errors: what every query of an ended scope throws. */
export function scopeEnded(code: ScopeEndCode, message: string): StorageError {
  return new StorageError(message, code);
}

export interface QueryScopeOptions {
  /** Unix ms after which every query of the scope is cancelled; Infinity: no deadline. */
  deadline: number;
  /**
   * A deadline this long after the scope's first query, when `deadline` is Infinity: for work that waits before
   * it queries (a subscription waiting for its next event).
   */
  timeoutFromFirstQueryMs?: number;
  /** Rows all queries of the scope may bring back in all. */
  maxRows: number;
  /** Bytes (of JSON rows as received) all queries of the scope may bring back in all. */
  maxBytes: number;
  /** Queries of the scope running at once; further ones wait for a slot. */
  maxConcurrentQueries: number;
  /** Called with the ids the scope could not kill (a failed KILL QUERY). */
  onKillError?: (error: unknown) => void;
}

export class QueryScope {
  private readonly controller = new AbortController();
  private readonly running = new Map<string, ClickHouseClient>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  rows = 0;
  bytes = 0;
  /** Queries killed on the server because the scope ended while they ran. */
  killed = 0;

  private deadline: number;

  constructor(readonly options: QueryScopeOptions) {
    this.deadline = options.deadline;
    if (Number.isFinite(this.deadline)) this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(
      () =>
        this.abort(scopeEnded('timeout', 'the operation ran past its deadline (server.requestTimeoutMs)')),
      Math.max(0, this.deadline - Date.now()),
    );
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The error the scope ended with, if it did. */
  get ended(): StorageError | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as StorageError) : undefined;
  }

  /** Stops everything the scope runs (and anything it would start later) with `reason`. Idempotent. */
  abort(reason: StorageError): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    this.dispose();
    for (const wake of this.waiting.splice(0)) wake();
    const byClient = new Map<ClickHouseClient, string[]>();
    for (const [id, client] of this.running) byClient.set(client, [...(byClient.get(client) ?? []), id]);
    for (const [client, ids] of byClient) {
      this.killed += ids.length;
      // Outside any scope: the kill must not be cancelled by the very signal that asks for it.
      void client
        .command({ query: sql`KILL QUERY WHERE query_id IN (${list(ids)}) ASYNC`.text })
        .catch((error: unknown) => this.options.onKillError?.(error));
    }
  }

  /** Ends the scope normally: no timer left behind. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Seconds left before the deadline, whole and at least 1 (see the header); undefined without a deadline. */
  executionSeconds(): number | undefined {
    if (!Number.isFinite(this.deadline)) return undefined;
    return Math.max(1, Math.ceil((this.deadline - Date.now()) / 1000));
  }

  /** Waits for a query slot; throws if the scope ended meanwhile. */
  async acquire(): Promise<void> {
    const lazy = this.options.timeoutFromFirstQueryMs;
    if (lazy !== undefined && !Number.isFinite(this.deadline) && this.ended === undefined) {
      this.deadline = Date.now() + lazy;
      this.arm();
    }
    while (this.active >= this.options.maxConcurrentQueries && this.ended === undefined) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.throwIfEnded();
    this.active++;
  }

  release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  /** A new query id, tracked until `untrack`, so that an abort can kill it. */
  track(client: ClickHouseClient): string {
    const id = randomUUID();
    this.running.set(id, client);
    return id;
  }

  untrack(id: string): void {
    this.running.delete(id);
  }

  /** Counts rows and bytes received; ends the scope (limit-exceeded) when the budget is spent. */
  charge(rows: number, bytes: number): void {
    this.rows += rows;
    this.bytes += bytes;
    if (this.rows > this.options.maxRows || this.bytes > this.options.maxBytes) {
      this.abort(
        scopeEnded(
          'limit-exceeded',
          `the operation read more than ${this.options.maxRows} rows or ${this.options.maxBytes} bytes ` +
            '(server.maxRowsPerRequest, server.maxBytesPerRequest): ask for smaller pages or fewer fields',
        ),
      );
    }
    this.throwIfEnded();
  }

  throwIfEnded(): void {
    const ended = this.ended;
    if (ended !== undefined) throw ended;
  }
}

const storage = new AsyncLocalStorage<QueryScope>();

/** Runs `fn` with `scope` bounding every query it (and whatever it awaits) issues. */
export function runInQueryScope<T>(scope: QueryScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentQueryScope(): QueryScope | undefined {
  return storage.getStore();
}
