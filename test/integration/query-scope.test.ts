// Query scopes against the real ClickHouse: a scope's deadline, cancellation and row budget stop its queries on
// the server too (KILL QUERY), its queries carry max_execution_time in whole seconds, and at most
// maxConcurrentQueries of them run at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClickHouse,
  queryRows,
  StorageError,
  type ClickHouseClient,
} from '../../src/storage/clickhouse.ts';
import { QueryScope, runInQueryScope, scopeEnded } from '../../src/storage/query-scope.ts';
import { sql } from '../../src/storage/sql.ts';
import { testConfig } from '../helpers/context.ts';
import { waitFor } from '../helpers/wait.ts';

let client: ClickHouseClient;

beforeAll(() => {
  client = connectClickHouse(testConfig().clickhouse, { database: null });
});

afterAll(async () => {
  await client.close();
});

function scope(overrides: Partial<ConstructorParameters<typeof QueryScope>[0]> = {}): QueryScope {
  return new QueryScope({
    deadline: Date.now() + 30_000,
    maxRows: 1_000_000,
    maxBytes: 100_000_000,
    maxConcurrentQueries: 4,
    ...overrides,
  });
}

/** A query that runs for minutes unless stopped: a sum over 10^11 numbers (a marker makes it findable). */
const endless = (marker: string) =>
  sql`SELECT sum(number) AS s, ${marker} AS marker FROM numbers(100000000000)`;

async function runningWith(marker: string): Promise<number> {
  const rows = await queryRows<{ n: string }>(
    client,
    sql`SELECT count() AS n FROM system.processes WHERE query LIKE ${`%${marker}%`} AND query NOT LIKE '%system.processes%'`,
  );
  return Number(rows[0]?.n);
}

async function errorOf(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => new Error('no error'),
    (err: unknown) => err,
  );
  if (!(error instanceof StorageError)) throw error;
  return error;
}

describe('query scope', () => {
  it('ends its queries at the deadline, on the server too', async () => {
    const marker = `deadline_${Date.now()}`;
    const bounded = scope({ deadline: Date.now() + 1500 });
    const error = await errorOf(runInQueryScope(bounded, () => queryRows(client, endless(marker))));
    expect(error.code).toBe('timeout');
    expect(bounded.killed).toBe(1);
    await waitFor(async () => (await runningWith(marker)) === 0, 10_000);
  });

  it('ends its queries when it is cancelled (the client went away)', async () => {
    const marker = `cancel_${Date.now()}`;
    const cancelled = scope();
    const pending = runInQueryScope(cancelled, () => queryRows(client, endless(marker)));
    await waitFor(async () => (await runningWith(marker)) === 1, 10_000, 50);
    cancelled.abort(scopeEnded('cancelled', 'client gone'));
    expect((await errorOf(pending)).code).toBe('cancelled');
    await waitFor(async () => (await runningWith(marker)) === 0, 10_000);
    // A query started after the end is refused without reaching the server.
    const later = await errorOf(runInQueryScope(cancelled, () => queryRows(client, sql`SELECT 1`)));
    expect(later.code).toBe('cancelled');
  });

  it('stops a query that brings back more rows than the budget, before it is all read', async () => {
    const marker = `rows_${Date.now()}`;
    const small = scope({ maxRows: 1000 });
    const error = await errorOf(
      runInQueryScope(small, () =>
        queryRows(client, sql`SELECT number, ${marker} AS m FROM numbers(100000000000)`),
      ),
    );
    expect(error.code).toBe('limit-exceeded');
    expect(error.message).toContain('server.maxRowsPerRequest');
    expect(small.rows).toBeGreaterThan(1000);
    expect(small.rows).toBeLessThan(10_000_000);
    await waitFor(async () => (await runningWith(marker)) === 0, 10_000);
  });

  it('counts bytes too', async () => {
    const small = scope({ maxBytes: 10_000 });
    const error = await errorOf(
      runInQueryScope(small, () =>
        queryRows(client, sql`SELECT toString(range(300)) AS s FROM numbers(100)`),
      ),
    );
    expect(error.code).toBe('limit-exceeded');
  });

  it('sends max_execution_time as whole seconds (18.16 reads 0.5 as 0: no limit)', async () => {
    const bounded = scope({ deadline: Date.now() + 1200 });
    const [row] = await runInQueryScope(bounded, () =>
      queryRows<{ value: string }>(
        client,
        sql`SELECT value FROM system.settings WHERE name = 'max_execution_time'`,
      ),
    );
    bounded.dispose();
    expect(row?.value).toMatch(/^2(s|\.00s)?$/);
  });

  it('runs at most maxConcurrentQueries queries of one scope at once', async () => {
    let running = 0;
    let most = 0;
    const counting = new Proxy(client, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'query' && typeof value === 'function') {
          return async (...args: unknown[]) => {
            most = Math.max(most, ++running);
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } finally {
              running--;
            }
          };
        }
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const limited = scope({ maxConcurrentQueries: 2 });
    const results = await runInQueryScope(limited, () =>
      Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          queryRows<{ n: number }>(counting, sql`SELECT ${i} AS n, sleep(0.2) AS s`),
        ),
      ),
    );
    limited.dispose();
    expect(results.map((rows) => rows[0]?.n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });
});
