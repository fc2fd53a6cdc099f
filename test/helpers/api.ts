// The GraphQL server in this process over a database the real pipeline filled from the 611 real ZTF alerts
// (and the shared catalogs), with topics of its own; plus small HTTP and WebSocket clients.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { issueToken } from '../../src/server/auth.ts';
import { launchServer, type LaunchedServer } from '../../src/server/launch.ts';
import type { Role } from '../../src/resolvers/viewer.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { ClickHouseTokenStore } from '../../src/storage/token-store.ts';
import { uniqueName } from './context.ts';
import { createPipelineSandbox, readAll, type PipelineSandbox } from './pipeline.ts';
import { ztfAlertFiles } from './shared-data.ts';
import { waitFor } from './wait.ts';

export interface GraphQLResponse {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; argument?: string } }[];
}

export interface ApiSandbox {
  pipeline: PipelineSandbox;
  config: Config;
  launched: LaunchedServer;
  url: string;
  /** Payloads of the real ZTF alerts (all 611 messages). */
  payloads: Buffer[];
  query(source: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse>;
  token(user: string, role: Role): Promise<string>;
  wsClient(token?: string): Client;
  stop(): Promise<void>;
}

export interface ApiSandboxOptions {
  /** Fill the database with the real ZTF alerts through the pipeline before the server starts. */
  withAlerts: boolean;
  server?: Record<string, unknown>;
}

export async function createApiSandbox(prefix: string, options: ApiSandboxOptions): Promise<ApiSandbox> {
  const pipeline = await createPipelineSandbox(prefix);
  const base = pipeline.config;
  const config: Config = {
    ...base,
    server: {
      ...base.server,
      port: 0,
      eventsTopic: uniqueName(`${prefix}_events`),
      followupTopic: uniqueName(`${prefix}_followups`),
      // Tests send hundreds of requests a second from one address; the limits have tests of their own.
      addressRatePerSecond: 10_000,
      addressBurst: 10_000,
      addressConcurrency: 64,
      ...options.server,
    },
  };
  const payloads = readAll(ztfAlertFiles());
  if (options.withAlerts) {
    await pipeline.loadDemoCatalogs();
    const decoder = createZtfDecoder();
    const passing = new Set<string>();
    for (const payload of payloads) {
      const { candid, candidate } = decoder.decode(payload);
      if (candidate.rb !== null && candidate.rb >= 0.55 && candidate.nbad === 0 && candidate.fid !== 3) {
        passing.add(String(candid));
      }
    }
    const archived = new Set(payloads.map((payload) => String(decoder.decode(payload).candid)));
    // stream2raw archives the alerts (their cutouts are served from there), raw2science stores the science.
    await pipeline.start('stream2raw');
    await pipeline.start('raw2science');
    await pipeline.publish(payloads);
    const count = async (table: 'alerts' | 'raw_alerts') => {
      const [row] = await queryRows<{ n: string }>(
        pipeline.db.client,
        table === 'alerts'
          ? sql`SELECT count() AS n FROM alerts FINAL`
          : sql`SELECT count() AS n FROM raw_alerts FINAL`,
      );
      return Number(row?.n);
    };
    await waitFor(
      async () => (await count('alerts')) === passing.size && (await count('raw_alerts')) === archived.size,
      120_000,
    );
  }
  const launched = await launchServer(config, createLogger(config.log));
  const url = launched.server.url;
  const tokens = new ClickHouseTokenStore(pipeline.db.client);

  return {
    pipeline,
    config,
    launched,
    url,
    payloads,
    async query(source, variables, token) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ query: source, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
      return { status: response.status, ...body };
    },
    async token(user, role) {
      return (await issueToken(tokens, { user, role })).token;
    },
    wsClient(token) {
      return createClient({
        url: `${url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: true,
      });
    },
    async stop() {
      await launched.close();
      await pipeline.stop();
    },
  };
}
