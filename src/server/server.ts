// `fink start server`: one node:http server with GraphQL over HTTP (Apollo) and over WebSocket (graphql-ws) on
// the same path, GraphiQL, the cutout endpoints and the dashboard. Both transports hand every operation to the
// same gate (src/server/operation.ts: checks, execution under a query scope, masking) and the same admission
// (src/server/rate-limits.ts): what one transport refuses, the other refuses too.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import {
  GraphQLError,
  OperationTypeNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createLoaders, type Loaders } from '../resolvers/index.ts';
import { tokenFromConnectionParams, type Authenticator } from './auth.ts';
import { TurnScheduler, type DeliveryScheduler } from '../util/broadcast.ts';
import { ConnectionRegistry, REVOKED_CLOSE_CODE, startRevocationSweep } from './connections.ts';
import type { ServerContext } from '../resolvers/context.ts';
import type { EventPublisher } from '../events.ts';
import type { LiveSources } from '../resolvers/live-sources.ts';
import { createOperationGate, maskFormattedError, type OperationGate } from './operation.ts';
import {
  Admission,
  REFUSED_OPERATION_WEIGHT,
  requestWeight,
  type Admitted,
  type Refused,
} from './rate-limits.ts';
import { SharedSubscriptions, SLOW_CONSUMER_CLOSE_CODE } from './shared-subscriptions.ts';
import type { ServerServices, ServerStores } from '../resolvers/stores.ts';
import type { Viewer } from '../resolvers/viewer.ts';

export const GRAPHQL_PATH = '/graphql';
/** Results waiting for one subscriber before its connection is closed as a slow consumer. */
const MAX_PENDING_RESULTS = 1000;
/** Subscription root fields whose results depend on the viewer (private watchlists). */
const USER_SCOPED_SUBSCRIPTIONS = new Set(['watchlistHits']);
/** How often the tokens of open WebSocket connections are read again (revocation closes them within it). */
const REVOCATION_SWEEP_MS = 1000;

/** Handles a request when it is its path; false lets the next route try. */
export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** An admitted request of an API route, its body read. */
export interface ApiRequest {
  req: IncomingMessage;
  url: URL;
  /** The body as text ('' without one). */
  body: string;
  viewer: Viewer | null;
  /** Where this server is reached (server.publicUrl, or its own host and port). */
  baseUrl: string;
}

/**
 * A data route beside GraphQL (the REST API): admitted, authenticated and run under a query scope exactly as a
 * GraphQL request is (the same per-address and per-token buckets, deadline, row budget and cancellation), so that
 * no transport is a way around the limits of the other. The handler answers every request it matches.
 */
export interface ApiRoute {
  matches(pathname: string): boolean;
  handle(request: ApiRequest, res: ServerResponse): Promise<void>;
}

export interface ServerDeps {
  config: ServerConfig;
  /** config.pipeline.distributionPrefix, shown with distributed saved filters. */
  distributionPrefix: string;
  schema: GraphQLSchema;
  stores: ServerStores;
  services: ServerServices;
  authenticate: Authenticator;
  events: EventPublisher;
  /** Live alerts and events; null: subscriptions get nothing (tests of queries only). */
  live: LiveSources | null;
  /** Wakes live subscribers; the live feed's broadcasters must use the same one. Made from the config if absent. */
  scheduler?: DeliveryScheduler;
  /** Extra routes tried before GraphQL (GraphiQL, cutouts, dashboard). */
  routes: Route[];
  /** Data routes that read the stores, admitted and bounded like GraphQL (the REST API). */
  apiRoutes?: ApiRoute[];
  logger: Logger;
}

export interface FinkServer {
  /** http://host:port */
  url: string;
  port: number;
  shared: SharedSubscriptions;
  connections: ConnectionRegistry;
  close(): Promise<void>;
}

/** What graphql-ws keeps per connection. */
type ConnectionState = {
  viewer?: Viewer | null;
  /** The Authorization value it connected with, to check the token again before each operation. */
  authorization?: string | undefined;
  address?: string;
  subscriptions?: number;
  /** Per operation id: how to cancel it and release its admission. */
  operations?: Map<string, { cancel: AbortController; release: () => void; subscription: boolean }>;
};

type Extra = ConnectionState & { socket: WebSocket; request: IncomingMessage };

export function createFanoutScheduler(config: ServerConfig): TurnScheduler {
  return new TurnScheduler(config.liveDeliveriesPerTurn);
}

export async function startServer(deps: ServerDeps): Promise<FinkServer> {
  const { config, schema, logger } = deps;
  const scheduler = deps.scheduler ?? createFanoutScheduler(config);
  const gate = createOperationGate(schema, config, logger);
  const shared = new SharedSubscriptions({
    userScopedFields: USER_SCOPED_SUBSCRIPTIONS,
    maxPending: MAX_PENDING_RESULTS,
    maxLagMs: config.liveMaxLagMs,
    scheduler,
    eventScope: () => gate.eventScope(),
  });
  const admission = new Admission({
    perAddress: {
      ratePerSecond: config.addressRatePerSecond,
      burst: config.addressBurst,
      concurrency: config.addressConcurrency,
    },
    perToken: {
      ratePerSecond: config.tokenRatePerSecond,
      burst: config.tokenBurst,
      concurrency: config.tokenConcurrency,
    },
  });
  const connections = new ConnectionRegistry();
  let baseUrl = '';

  const contextFor = (
    viewer: Viewer | null,
    cancel: AbortSignal | undefined,
    connection?: ServerContext['connection'],
  ) => {
    let loaders: Loaders | undefined;
    const context: ServerContext = {
      viewer,
      config,
      distributionPrefix: deps.distributionPrefix,
      baseUrl,
      stores: deps.stores,
      followups: deps.services.followups,
      webhooks: deps.services.webhooks,
      // Made on first use: most operations (and most subscriptions, thousands of them) never load anything.
      // A subscription context lives as long as the subscription: its loaders must not cache across events.
      get loaders() {
        return (loaders ??= createLoaders(deps.stores, { cache: connection === undefined }));
      },
      events: deps.events,
      live: deps.live,
      logger,
    };
    if (cancel !== undefined) context.cancel = cancel;
    if (connection !== undefined) context.connection = connection;
    return context;
  };

  const apollo = new ApolloServer<ServerContext>({
    schema,
    // Parsing stays Apollo's (with the gate's limits); everything after it is the gate's, as over WebSocket.
    parseOptions: gate.parseOptions,
    dangerouslyDisableValidation: true,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => maskFormattedError(formatted, error, logger),
    plugins: [ApolloServerPluginLandingPageDisabled(), gatePlugin(schema, gate)],
  });
  await apollo.start();

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error' }] });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    // Browsers ask for it on every page (GraphiQL, dashboard): no icon, and no 404 in their consoles.
    if (url.pathname === '/favicon.ico') {
      res.statusCode = 204;
      res.end();
      return;
    }
    for (const route of deps.routes) if (await route(req, res)) return;
    const apiRoute = deps.apiRoutes?.find((route) => route.matches(url.pathname));
    if (url.pathname !== GRAPHQL_PATH && apiRoute === undefined) {
      return sendJson(res, 404, { error: `no such path ${url.pathname}` });
    }

    // The address first, before the token is looked up: a flood of made-up tokens is held back like any other.
    const byAddress = admission.admit({ address: req.socket.remoteAddress ?? 'unknown' });
    if (!byAddress.ok) return sendRateLimited(res, byAddress);
    let byToken: Admitted | undefined;
    try {
      let viewer: Viewer | null;
      try {
        viewer = await deps.authenticate(header(req, 'authorization'));
      } catch (error) {
        if (error instanceof GraphQLError) return sendJson(res, 401, { errors: [error.toJSON()] });
        throw error;
      }
      if (viewer === null && !config.anonymousRead) {
        return sendJson(res, 401, {
          errors: [{ message: 'a valid API token is required', extensions: { code: 'UNAUTHENTICATED' } }],
        });
      }
      if (viewer !== null) {
        const admitted = admission.admit({ tokenId: viewer.tokenId });
        if (!admitted.ok) return sendRateLimited(res, admitted);
        byToken = admitted;
      }
      const weigh = (weight: number) => {
        byAddress.weigh(weight);
        byToken?.weigh(weight);
      };
      if (apiRoute !== undefined) await serveApi(apiRoute, req, res, url, viewer, weigh);
      else await serveGraphQL(req, res, url, viewer, weigh);
    } finally {
      byAddress.release();
      byToken?.release();
    }
  }

  /**
   * What every admitted request does first: it is cancelled when its client goes away (its ClickHouse queries
   * killed), its body is read (at most server.maxBodyBytes, else 413 with `tooLarge`'s answer) and weighed.
   */
  async function withBody(
    req: IncomingMessage,
    res: ServerResponse,
    weigh: (weight: number) => void,
    tooLarge: (message: string) => unknown,
    serve: (body: string, cancel: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const cancel = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) cancel.abort();
    };
    res.once('close', onClose);
    try {
      const body = await readBody(req, config.maxBodyBytes);
      weigh(requestWeight(body === null ? config.maxBodyBytes : Buffer.byteLength(body)));
      if (body === null) {
        res.setHeader('connection', 'close');
        return sendJson(
          res,
          413,
          tooLarge(`request body larger than ${config.maxBodyBytes} bytes (server.maxBodyBytes)`),
        );
      }
      await serve(body, cancel.signal);
    } finally {
      res.off('close', onClose);
    }
  }

  /** An admitted API request, handled under a query scope like an operation. */
  function serveApi(
    route: ApiRoute,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    viewer: Viewer | null,
    weigh: (weight: number) => void,
  ): Promise<void> {
    return withBody(
      req,
      res,
      weigh,
      (text) => ({ status: 'error', text }),
      (body, cancel) =>
        gate.runScoped(() => route.handle({ req, url, body, viewer, baseUrl }, res), cancel, url.pathname),
    );
  }

  /**
   * An admitted GraphQL request, handed to Apollo, the answer sent. One refused before it runs (400: cannot be
   * parsed, too deep, too costly, invalid) weighs REFUSED_OPERATION_WEIGHT: refusing it was the server's work.
   */
  function serveGraphQL(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    viewer: Viewer | null,
    weigh: (weight: number) => void,
  ): Promise<void> {
    const tooLarge = (message: string) => ({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
    return withBody(req, res, weigh, tooLarge, async (body, cancel) => {
      let parsed: unknown;
      try {
        parsed = body.length === 0 ? undefined : JSON.parse(body);
      } catch {
        weigh(REFUSED_OPERATION_WEIGHT);
        return sendJson(res, 400, {
          errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
        });
      }
      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: parsed },
        context: () => Promise.resolve(contextFor(viewer, cancel)),
      });
      if (response.status === 400) weigh(REFUSED_OPERATION_WEIGHT);
      if (cancel.aborted) return;
      if (response.body.kind === 'complete') {
        const bytes = Buffer.byteLength(response.body.string);
        if (bytes > config.maxResponseBytes) return sendJson(res, 200, gate.tooLarge(bytes));
        res.statusCode = response.status ?? 200;
        for (const [name, value] of response.headers) res.setHeader(name, value);
        res.end(response.body.string);
      } else {
        res.statusCode = response.status ?? 200;
        for (const [name, value] of response.headers) res.setHeader(name, value);
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    });
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxBodyBytes });
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== GRAPHQL_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const address = socket.remoteAddress ?? 'unknown';
    if (!connections.open(address, config.maxConnectionsPerAddress)) {
      socket.end(
        'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: text/plain\r\n' +
          `\r\nat most ${config.maxConnectionsPerAddress} WebSocket connections per client address (server.maxConnectionsPerAddress)\n`,
      );
      return;
    }
    socket.once('close', () => connections.closed(address));
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  // Once per connection, with the reason, for the operator: the first of its subscriptions to fall behind
  // closes it (4429), the others find it closing.
  const disconnectSlow = (socket: WebSocket, address: string | undefined, reason: string) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    logger.warn({ address, reason }, 'slow consumer disconnected');
    socket.close(SLOW_CONSUMER_CLOSE_CODE, reason);
  };

  const cancelOperations = (state: ConnectionState) => {
    for (const operation of state.operations?.values() ?? []) {
      operation.cancel.abort();
      operation.release();
    }
    state.operations?.clear();
  };

  const wsServer = useServer<Record<string, unknown> | undefined, ConnectionState>(
    {
      schema,
      // Queries and mutations over WebSocket run exactly as over HTTP.
      execute: (args: ExecutionArgs) => gate.execute(args, (args.contextValue as ServerContext).cancel),
      subscribe: shared.subscribe,
      onConnect: async (ctx) => {
        const extra = ctx.extra as Extra;
        try {
          const token = tokenFromConnectionParams(ctx.connectionParams);
          extra.authorization = token === undefined ? undefined : `Bearer ${token}`;
          extra.viewer = await deps.authenticate(extra.authorization);
        } catch {
          return false;
        }
        if (extra.viewer === null && !config.anonymousRead) return false;
        extra.subscriptions = 0;
        extra.operations = new Map();
        extra.address = extra.request.socket.remoteAddress ?? 'unknown';
        if (extra.viewer !== null) connections.addToken(extra.viewer.tokenId, extra.socket);
        return true;
      },
      onSubscribe: async (ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const extra = ctx.extra as Extra;
        // The token again, before every operation: a revoked one is refused within the token cache's time.
        if (extra.authorization !== undefined) {
          try {
            extra.viewer = await deps.authenticate(extra.authorization);
          } catch (error) {
            if (!(error instanceof GraphQLError)) {
              // The token store did not answer: not the client's fault, and no reason to drop its connection.
              logger.warn({ err: error }, 'token check failed');
              return [
                new GraphQLError('the API token could not be checked, try again', {
                  extensions: { code: 'INTERNAL_SERVER_ERROR' },
                }),
              ];
            }
            extra.socket.close(REVOKED_CLOSE_CODE, 'the API token is unknown or revoked');
            return [error];
          }
        }
        const viewer = extra.viewer ?? null;
        // Refused before it runs: it weighs as over HTTP, against the rate of its address and token.
        const refuse = (errors: readonly GraphQLError[]) => {
          admission.charge(
            { address: extra.address ?? 'unknown', tokenId: viewer?.tokenId ?? null },
            REFUSED_OPERATION_WEIGHT,
          );
          return errors;
        };
        const document = gate.parse(payload.query);
        if (document instanceof GraphQLError) return refuse([document]);
        const prepared = gate.prepare({
          document,
          operationName: payload.operationName,
          variables: payload.variables,
        });
        if (!prepared.ok) return refuse(prepared.errors);
        const subscription = prepared.operation.operation.operation === OperationTypeNode.SUBSCRIPTION;
        if (subscription && (extra.subscriptions ?? 0) >= config.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(
              `at most ${config.maxSubscriptionsPerConnection} subscriptions per connection (server.maxSubscriptionsPerConnection)`,
              { extensions: { code: 'BAD_USER_INPUT' } },
            ),
          ];
        }
        // A subscription counts against the rate only; a query or mutation holds its slot until it is done.
        const admitted = admission.admit(
          { address: extra.address ?? 'unknown', tokenId: viewer?.tokenId ?? null },
          !subscription,
        );
        if (!admitted.ok) return [rateLimitedError(admitted)];
        admitted.weigh(
          requestWeight(
            payload.query.length + (payload.variables == null ? 0 : JSON.stringify(payload.variables).length),
          ),
        );
        if (subscription) extra.subscriptions = (extra.subscriptions ?? 0) + 1;
        const cancel = new AbortController();
        extra.operations?.set(id, { cancel, release: admitted.release, subscription });
        const socket = extra.socket;
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: contextFor(viewer, cancel.signal, {
            close: (code, reason) =>
              code === SLOW_CONSUMER_CLOSE_CODE
                ? disconnectSlow(socket, extra.address, reason)
                : socket.close(code, reason),
          }),
        };
      },
      onNext: (ctx, _id, _payload, _args, result): FormattedExecutionResult => {
        const extra = ctx.extra as Extra;
        const socket = extra.socket;
        // A client that does not read its socket is cut off instead of buffering without bound.
        if (socket.bufferedAmount > config.slowClientBufferBytes) {
          disconnectSlow(
            socket,
            extra.address,
            `slow consumer: more than ${config.slowClientBufferBytes} bytes not yet received`,
          );
        }
        const masked = gate.maskResult(result);
        const bytes = resultBytes(result, masked);
        return bytes > config.maxResponseBytes ? gate.tooLarge(bytes) : masked;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => gate.maskError(error)),
      onComplete: (ctx, id) => {
        const extra = ctx.extra as Extra;
        const operation = extra.operations?.get(id);
        if (operation === undefined) return;
        extra.operations?.delete(id);
        operation.release();
        if (operation.subscription) extra.subscriptions = Math.max(0, (extra.subscriptions ?? 1) - 1);
      },
      onClose: (ctx) => {
        const extra = ctx.extra as Extra;
        cancelOperations(extra);
        if (extra.viewer != null) connections.removeToken(extra.viewer.tokenId, extra.socket);
      },
    },
    wss,
  );

  const sweep = startRevocationSweep({
    registry: connections,
    tokens: deps.stores.tokens,
    intervalMs: REVOCATION_SWEEP_MS,
    logger,
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  baseUrl = publicBaseUrl(config, port);
  logger.info({ host: config.host, port, publicUrl: baseUrl }, 'server listening');

  return {
    url: `http://${config.host}:${port}`,
    port,
    shared,
    connections,
    async close() {
      sweep.stop();
      await wsServer.dispose();
      wss.close();
      await apollo.stop();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * Apollo parses; the gate does the rest (the same prepare, execute and mask as over WebSocket) and answers for
 * Apollo, which only serialises. Refusals before execution are HTTP 400.
 */
function gatePlugin(schema: GraphQLSchema, gate: OperationGate): ApolloServerPlugin<ServerContext> {
  const single = (status: number, result: FormattedExecutionResult): GraphQLResponse => ({
    http: { status, headers: new HeaderMap() },
    body: { kind: 'single', singleResult: result },
  });
  return {
    requestDidStart: () =>
      Promise.resolve({
        responseForOperation: async ({ document, request, contextValue }) => {
          const prepared = gate.prepare({
            document,
            operationName: request.operationName,
            variables: request.variables,
          });
          if (!prepared.ok)
            return single(400, { errors: prepared.errors.map((error) => gate.maskError(error)) });
          const { operation } = prepared;
          if (operation.operation.operation === OperationTypeNode.SUBSCRIPTION) {
            return single(400, {
              errors: [
                {
                  message: 'subscriptions are served over WebSocket (graphql-ws) on this same path',
                  extensions: { code: 'BAD_REQUEST' },
                },
              ],
            });
          }
          const result = await gate.execute(
            {
              schema,
              document: operation.document,
              operationName: operation.operationName,
              variableValues: operation.variableValues,
              contextValue,
            },
            contextValue.cancel,
          );
          return single(200, gate.maskResult(result));
        },
      }),
  };
}

/** JSON size of each result, computed once per shared subscription result (the same object for many). */
const sizes = new WeakMap<ExecutionResult, number>();

function resultBytes(result: ExecutionResult, masked: FormattedExecutionResult): number {
  let bytes = sizes.get(result);
  if (bytes === undefined) {
    bytes = Buffer.byteLength(JSON.stringify(masked));
    sizes.set(result, bytes);
  }
  return bytes;
}

/** Links the API returns (cutouts): server.publicUrl, else this server's own host and port, never a Host header. */
export function publicBaseUrl(config: ServerConfig, port: number): string {
  if (config.publicUrl !== undefined) return config.publicUrl.replace(/\/$/, '');
  // A wildcard address is where the server listens, not where anyone can reach it.
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function rateLimitedError(refused: Refused): GraphQLError {
  return new GraphQLError(refused.message, {
    extensions: { code: 'RATE_LIMITED', retryAfter: refused.retryAfterSeconds },
  });
}

function sendRateLimited(res: ServerResponse, refused: Refused): void {
  res.setHeader('retry-after', String(refused.retryAfterSeconds));
  // The body is not read: the connection is closed rather than the body received only to be thrown away.
  res.setHeader('connection', 'close');
  sendJson(res, 429, { errors: [rateLimitedError(refused).toJSON()] });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as text; null when it exceeds `maxBytes` (the rest is not read). */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
