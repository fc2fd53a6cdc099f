// The server's limits against the real ClickHouse, over HTTP and over real graphql-ws clients: the deadline and a
// client that leaves end the operation's ClickHouse queries (KILL QUERY), the row budget, the response cap,
// rate and concurrency limits (429 + Retry-After, RATE_LIMITED), WebSocket connections per address and message
// size, string arguments, cutout URLs that ignore the Host header, and the revocation of a token.
import { request } from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createConfiguredDecoder } from '../../src/pipeline/decode/configured-decoder.ts';
import { buildFinkSchema } from '../../src/resolvers/index.ts';
import { createAuthenticator, issueToken } from '../../src/server/auth.ts';
import { Broadcaster } from '../../src/util/broadcast.ts';
import { REVOKED_CLOSE_CODE } from '../../src/server/connections.ts';
import type { LiveSources } from '../../src/resolvers/live-sources.ts';
import { startServer, type FinkServer } from '../../src/server/server.ts';
import { createClickHouseStores } from '../../src/resolvers/stores.ts';
import { ClickHouseAlertStore, type AlertRecord } from '../../src/storage/alert-store.ts';
import { queryRows, runCommand } from '../../src/storage/clickhouse.ts';
import { sql, type Sql } from '../../src/storage/sql.ts';
import { ClickHouseTokenStore } from '../../src/storage/token-store.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { testConfig } from '../helpers/context.ts';
import { waitFor } from '../helpers/wait.ts';

let db: TestDatabase;
const servers: FinkServer[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  db = await createMigratedDatabase('limits');
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  for (const server of servers) await server.close();
  await db?.drop();
});

/** A query that runs for minutes unless stopped; the marker finds it in system.processes. */
const endless = (marker: string) =>
  sql`SELECT toString(number) AS alert_id_text, ${marker} AS marker FROM system.numbers WHERE sipHash64(number) = 0`;

/** The archive, but `search` runs `searchSql` (the endless query, or one of many rows) instead of a filter. */
class SlowAlertStore extends ClickHouseAlertStore {
  searchSql: Sql = sql`SELECT 1`;
  override async search(): Promise<AlertRecord[]> {
    const rows = await queryRows<{ alert_id_text: string }>(db.client, this.searchSql);
    return rows.map(() => {
      throw new Error('rows of the slow search are never mapped');
    });
  }
}

async function start(overrides: Partial<ServerConfig> = {}) {
  const base = testConfig().server;
  const config: ServerConfig = { ...base, port: 0, ...overrides };
  const stores = {
    ...createClickHouseStores(db.client, createConfiguredDecoder(testConfig())),
    alerts: new SlowAlertStore(db.client),
  };
  const live: LiveSources = {
    alerts: new Broadcaster(),
    events: new Broadcaster(),
    counters: { filterEvaluations: 0 },
  };
  const server = await startServer({
    config,
    distributionPrefix: 'fink',
    schema: await buildFinkSchema(),
    stores,
    services: {
      followups: { publish: () => Promise.resolve() },
      webhooks: { dispatch: () => Promise.resolve([]), idle: () => Promise.resolve() },
    },
    authenticate: createAuthenticator(stores.tokens, { cacheMs: config.tokenCacheMs }),
    events: { publish: () => Promise.resolve() },
    live,
    routes: [],
    logger: createLogger({ level: 'silent' }),
  });
  servers.push(server);
  const post = async (
    query: string,
    variables?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
    return { status: response.status, headers: response.headers, ...body };
  };
  const ws = (token?: string) => {
    const client = createClient({
      url: `${server.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    clients.push(client);
    return client;
  };
  return { server, config, stores, post, ws };
}

/** One operation over graphql-ws: its result, or the errors it ended with. */
function wsOnce(client: Client, query: string, variables?: Record<string, unknown>) {
  return new Promise<{
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  }>((resolve) => {
    let result: { data?: unknown; errors?: never[] } = {};
    client.subscribe(
      { query, variables },
      {
        next: (value) => (result = value as typeof result),
        error: (error) =>
          resolve({
            errors: Array.isArray(error)
              ? error
              : [{ message: `closed ${(error as { code?: number }).code ?? String(error)}` }],
          }),
        complete: () => resolve(result),
      },
    );
  });
}

async function running(marker: string): Promise<number> {
  const rows = await queryRows<{ n: string }>(
    db.client,
    sql`SELECT count() AS n FROM system.processes WHERE query LIKE ${`%${marker}%`} AND query NOT LIKE '%system.processes%'`,
  );
  return Number(rows[0]?.n);
}

const SEARCH = '{ search(filter: {}) { items { alertId } } }';

describe('the operation deadline and budget', () => {
  it('ends an operation at server.requestTimeoutMs with TIMEOUT, and kills its ClickHouse query', async () => {
    const { post, stores } = await start({ requestTimeoutMs: 1000 });
    const marker = `deadline_${Date.now()}`;
    stores.alerts.searchSql = endless(marker);
    const { status, errors } = await post(SEARCH);
    expect(status).toBe(200);
    expect(errors?.[0]?.extensions?.code).toBe('TIMEOUT');
    expect(errors?.[0]?.message).toContain('server.requestTimeoutMs');
    await waitFor(async () => (await running(marker)) === 0, 10_000);
  });

  it('kills the ClickHouse query of a client that went away', async () => {
    const { server, stores } = await start({ requestTimeoutMs: 60_000 });
    const marker = `gone_${Date.now()}`;
    stores.alerts.searchSql = endless(marker);
    const aborted = new AbortController();
    const pending = fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: SEARCH }),
      signal: aborted.signal,
    }).catch((error: unknown) => error);
    await waitFor(async () => (await running(marker)) === 1, 10_000, 50);
    aborted.abort();
    await pending;
    // Well before the 60 s deadline.
    await waitFor(async () => (await running(marker)) === 0, 10_000);
  });

  it('stops an operation that reads more rows than server.maxRowsPerRequest: RESULT_TOO_LARGE', async () => {
    const { post, stores } = await start({ maxRowsPerRequest: 1000 });
    const marker = `rows_${Date.now()}`;
    stores.alerts.searchSql = sql`SELECT toString(number) AS alert_id_text, ${marker} AS m FROM system.numbers`;
    const { errors } = await post(SEARCH);
    expect(errors?.[0]?.extensions?.code).toBe('RESULT_TOO_LARGE');
    expect(errors?.[0]?.message).toContain('server.maxRowsPerRequest');
    await waitFor(async () => (await running(marker)) === 0, 10_000);
  });

  it('replaces a result larger than server.maxResponseBytes by RESPONSE_TOO_LARGE, over HTTP and WebSocket', async () => {
    const { post, ws } = await start({ maxResponseBytes: 4096 });
    const introspection = '{ __schema { types { name fields { name description } } } }';
    const http = await post(introspection);
    expect(http.data).toBeUndefined();
    expect(http.errors?.[0]?.extensions?.code).toBe('RESPONSE_TOO_LARGE');
    const overWs = await wsOnce(ws(), introspection);
    expect(overWs.errors?.[0]?.extensions?.code).toBe('RESPONSE_TOO_LARGE');
    // A small one passes.
    expect((await post('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });
});

describe('rate, concurrency and size limits, HTTP and WebSocket alike', () => {
  it('answers 429 with Retry-After beyond the rate of an address, and RATE_LIMITED over WebSocket', async () => {
    const { post, ws } = await start({ addressRatePerSecond: 0.5, addressBurst: 2 });
    expect((await post('{ __typename }')).status).toBe(200);
    expect((await post('{ __typename }')).status).toBe(200);
    const refused = await post('{ __typename }');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // The same address over WebSocket: its bucket is empty too.
    const overWs = await wsOnce(ws(), '{ __typename }');
    expect(overWs.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(overWs.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it('an operation refused before it runs weighs REFUSED_OPERATION_WEIGHT, over HTTP and WebSocket', async () => {
    // A burst of 25: two refused operations (2 x 10) leave room for a few plain ones, not for 10.
    const { post, ws } = await start({ addressRatePerSecond: 0.01, addressBurst: 25 });
    expect((await post('{ nope }')).status).toBe(400);
    const overWs = await wsOnce(ws(), '{ alsoNope }');
    expect(overWs.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await post('{ __typename }')).status);
    // 25 - 10 (HTTP) - 10 (WebSocket) = 5 plain operations, then 429.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
  });

  it('limits the operations of one address in flight', async () => {
    const { post, stores } = await start({ addressConcurrency: 1, requestTimeoutMs: 3000 });
    stores.alerts.searchSql = endless(`inflight_${Date.now()}`);
    const first = post(SEARCH);
    await waitFor(async () => (await running('inflight_')) > 0, 10_000, 50);
    const second = await post('{ __typename }');
    expect(second.status).toBe(429);
    expect(second.errors?.[0]?.message).toContain('at most 1');
    expect((await first).errors?.[0]?.extensions?.code).toBe('TIMEOUT');
    expect((await post('{ __typename }')).status).toBe(200);
  });

  it('limits the operations of one token, whatever its address', async () => {
    const { post, stores } = await start({ tokenRatePerSecond: 0.5, tokenBurst: 1 });
    const { token } = await issueToken(stores.tokens, { user: 'busy', role: 'reader' });
    const auth = { authorization: `Bearer ${token}` };
    expect((await post('{ __typename }', undefined, auth)).status).toBe(200);
    expect((await post('{ __typename }', undefined, auth)).status).toBe(429);
    // Anonymous requests from the same address are not held back by the token's bucket.
    expect((await post('{ __typename }')).status).toBe(200);
  });

  it('refuses the WebSocket upgrade beyond server.maxConnectionsPerAddress with 429', async () => {
    const { server } = await start({ maxConnectionsPerAddress: 2 });
    const url = `${server.url.replace(/^http/, 'ws')}/graphql`;
    const open = (): Promise<{ socket: WebSocket; status: number }> =>
      new Promise((resolve) => {
        const socket = new WebSocket(url, 'graphql-transport-ws');
        socket.once('open', () => resolve({ socket, status: 101 }));
        socket.once('unexpected-response', (_req, res) => resolve({ socket, status: res.statusCode ?? 0 }));
      });
    const [a, b, c] = [await open(), await open(), await open()];
    expect([a.status, b.status, c.status]).toEqual([101, 101, 429]);
    a.socket.close();
    await waitFor(() => server.connections.connectionsOf('127.0.0.1') === 1, 5000, 20);
    const d = await open();
    expect(d.status).toBe(101);
    b.socket.close();
    d.socket.close();
  });

  it('refuses bodies and WebSocket messages over server.maxBodyBytes', async () => {
    const { server, post } = await start({ maxBodyBytes: 4096 });
    const big = `{ ${'__typename '.repeat(1000)}}`;
    expect((await post(big)).status).toBe(413);
    const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: big } }));
    // 1009: message too big.
    expect(await closed).toBe(1009);
  });
});

describe('string arguments', () => {
  it.each([
    [
      'a lone surrogate in a variable',
      'query($l: String!) { latestObjects(label: $l) { objectId } }',
      { l: 'SN \ud800' },
      'label',
      'lone UTF-16 surrogate',
    ],
    [
      'a control character in a literal',
      '{ solarSystemObjects(name: "1\\u0001") { objectId } }',
      undefined,
      'name',
      'U+0001',
    ],
    [
      'a lone surrogate deep in a filter',
      'query($f: AlertFilter!) { search(filter: $f) { endCursor } }',
      { f: { and: [{ band: ['g'], label: ['ok', 'bad \udc00'] }] } },
      'filter.and[0].label[1]',
      'lone UTF-16 surrogate',
    ],
    [
      'an escape character in a cursor',
      '{ search(filter: {}, after: "\\u001b[31m") { endCursor } }',
      undefined,
      'after',
      'U+001B',
    ],
  ])('%s is BAD_USER_INPUT naming the argument', async (_name, query, variables, argument, message) => {
    const { post, ws } = await start();
    for (const { errors } of [await post(query, variables), await wsOnce(ws(), query, variables)]) {
      expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(errors?.[0]?.extensions?.argument).toBe(argument);
      expect(errors?.[0]?.message).toContain(message);
    }
  });

  it('lets tab and line feed through (free text)', async () => {
    const { post } = await start();
    // Not latestObjects' label: a class name, refused unless it is a valid class.
    const { errors } = await post('query($l: String!) { solarSystemObjects(name: $l) { objectId } }', {
      l: 'a\tb\nc',
    });
    expect(errors).toBeUndefined();
  });
});

describe('cutout URLs', () => {
  /** A request with a Host header of our choosing (fetch does not let one set it). */
  function postWithHost(url: string, host: string, body: string): Promise<string> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: '/graphql',
          method: 'POST',
          headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('come from server.publicUrl, or the configured host and port, never from the Host header', async () => {
    await runCommand(
      db.client,
      sql`INSERT INTO objects (survey, object_id, last_alert_id, ra, dec, first_jd, last_jd, band, class)
          VALUES ('ztf', 'ZTF00cutout', 42, 1, 1, 2460000, 2460001, 'g', 'Unknown')`,
    );
    const query = JSON.stringify({
      query: '{ object(objectId: "ZTF00cutout") { cutouts { science { png } } } }',
    });
    const plain = await start();
    const text = await postWithHost(plain.server.url, 'evil.example.org', query);
    expect(text).not.toContain('evil.example.org');
    expect(text).toContain(`"png":"http://127.0.0.1:${plain.server.port}/cutouts/42/science.png"`);
    const configured = await start({ publicUrl: 'https://fink.example.org/' });
    const behindProxy = await postWithHost(configured.server.url, 'evil.example.org', query);
    expect(behindProxy).toContain('"png":"https://fink.example.org/cutouts/42/science.png"');
  });
});

describe('revocation', () => {
  it("closes a revoked token's WebSocket sessions with 4403 within seconds, and refuses it over HTTP", async () => {
    const { post, ws, stores, config } = await start();
    expect(config.tokenCacheMs).toBeLessThanOrEqual(1000);
    const issued = await issueToken(stores.tokens, { user: 'leaver', role: 'reader' });
    const auth = { authorization: `Bearer ${issued.token}` };
    expect((await post('{ __typename }', undefined, auth)).status).toBe(200);
    const closes: number[] = [];
    const client = ws(issued.token);
    client.on('closed', (event) => closes.push((event as { code: number }).code));
    // A live subscription, open before the revocation.
    const received: unknown[] = [];
    client.subscribe(
      { query: 'subscription { annotationAdded { annotationId } }' },
      { next: (value) => received.push(value), error: () => undefined, complete: () => undefined },
    );
    expect((await wsOnce(client, '{ __typename }')).data).toEqual({ __typename: 'Query' });

    const revokedAt = Date.now();
    await new ClickHouseTokenStore(db.client).revoke([issued.id]);
    await waitFor(() => closes.includes(REVOKED_CLOSE_CODE), 5000, 20);
    const closedAfter = Date.now() - revokedAt;
    // HTTP: refused once the token cache (server.tokenCacheMs) has passed.
    await waitFor(async () => (await post('{ __typename }', undefined, auth)).status === 401, 3000, 50);
    const refusedAfter = Date.now() - revokedAt;
    console.log(
      `revoked token: WebSocket closed after ${closedAfter} ms, HTTP refused after ${refusedAfter} ms`,
    );
    // A new connection with it is refused outright.
    const again = ws(issued.token);
    const code = await new Promise<number>((resolve) =>
      again.on('closed', (event) => resolve((event as { code: number }).code)),
    );
    expect(code).toBe(4403);
  });

  it("refuses a revoked token's next operation on an open connection, before the sweep", async () => {
    const { ws, stores } = await start({ tokenCacheMs: 0 });
    const issued = await issueToken(stores.tokens, { user: 'quick', role: 'reader' });
    const client = ws(issued.token);
    expect((await wsOnce(client, '{ __typename }')).data).toEqual({ __typename: 'Query' });
    await new ClickHouseTokenStore(db.client).revoke([issued.id]);
    const { errors } = await wsOnce(client, '{ __typename }');
    expect(JSON.stringify(errors)).toMatch(/UNAUTHENTICATED|closed 4403/);
  });
});
