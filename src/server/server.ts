// `fink start server`: one node:http server with GraphQL over HTTP (Apollo) and over WebSocket (graphql-ws) on
// the same path, GraphiQL, the cutout endpoints and the dashboard. Auth, limits and error masking are applied
// identically to both transports.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createLoaders } from '../resolvers/index.ts';
import { tokenFromConnectionParams, type Authenticator } from './auth.ts';
import type { ServerContext } from './context.ts';
import { USER_ERROR_CODES } from './errors.ts';
import type { EventPublisher } from '../events.ts';
import { complexityError, depthLimitRule } from './limits.ts';
import type { LiveSources } from './live-feed.ts';
import { SharedSubscriptions, SLOW_CONSUMER_CLOSE_CODE } from './shared-subscriptions.ts';
import type { ServerServices, ServerStores } from './stores.ts';
import type { Viewer } from './viewer.ts';

export const GRAPHQL_PATH = '/graphql';
/** Largest request body accepted over HTTP. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Results waiting for one subscriber before its connection is closed as a slow consumer. */
const MAX_PENDING_RESULTS = 1000;
/** Subscription root fields whose results depend on the viewer (private watchlists). */
const USER_SCOPED_SUBSCRIPTIONS = new Set(['watchlistHits']);

/** Handles a request when it is its path; false lets the next route try. */
export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

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
  /** Extra routes tried before GraphQL (GraphiQL, cutouts, dashboard). */
  routes: Route[];
  logger: Logger;
}

export interface FinkServer {
  /** http://host:port */
  url: string;
  port: number;
  shared: SharedSubscriptions;
  close(): Promise<void>;
}

export async function startServer(deps: ServerDeps): Promise<FinkServer> {
  const { config, schema, logger } = deps;
  const shared = new SharedSubscriptions({
    userScopedFields: USER_SCOPED_SUBSCRIPTIONS,
    maxPending: MAX_PENDING_RESULTS,
  });

  const contextFor = (viewer: Viewer | null, baseUrl: string, connection?: ServerContext['connection']) => {
    const context: ServerContext = {
      viewer,
      config,
      distributionPrefix: deps.distributionPrefix,
      baseUrl,
      stores: deps.stores,
      followups: deps.services.followups,
      webhooks: deps.services.webhooks,
      // A subscription context lives as long as the subscription: its loaders must not cache across events.
      loaders: createLoaders(deps.stores, { cache: connection === undefined }),
      events: deps.events,
      live: deps.live,
      logger,
    };
    if (connection !== undefined) context.connection = connection;
    return context;
  };

  const apollo = new ApolloServer<ServerContext>({
    schema,
    validationRules: [depthLimitRule(config.maxDepth)],
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => maskError(formatted, error, logger),
    plugins: [ApolloServerPluginLandingPageDisabled(), complexityPlugin(schema, config.maxComplexity)],
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
    if (url.pathname !== GRAPHQL_PATH) return sendJson(res, 404, { error: `no such path ${url.pathname}` });

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
    const body = await readBody(req);
    if (body === null) return sendJson(res, 413, { errors: [{ message: 'request body too large' }] });
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? undefined : JSON.parse(body);
    } catch {
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
      context: () => Promise.resolve(contextFor(viewer, baseUrlOf(req, config))),
    });
    res.statusCode = response.status ?? 200;
    for (const [name, value] of response.headers) res.setHeader(name, value);
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  const wss = new WebSocketServer({ server: http, path: GRAPHQL_PATH });
  type Extra = { viewer?: Viewer | null; subscriptions?: number; baseUrl?: string };
  const wsServer = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      subscribe: shared.subscribe,
      onConnect: async (ctx) => {
        try {
          const token = tokenFromConnectionParams(ctx.connectionParams);
          ctx.extra.viewer = await deps.authenticate(token === undefined ? undefined : `Bearer ${token}`);
        } catch {
          return false;
        }
        if (ctx.extra.viewer === null && !config.anonymousRead) return false;
        ctx.extra.subscriptions = 0;
        ctx.extra.baseUrl = baseUrlOf(ctx.extra.request, config);
        return true;
      },
      onSubscribe: (ctx, _id, payload): ExecutionArgs | readonly GraphQLError[] => {
        if ((ctx.extra.subscriptions ?? 0) >= config.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(
              `at most ${config.maxSubscriptionsPerConnection} operations per connection (server.maxSubscriptionsPerConnection)`,
              { extensions: { code: 'BAD_USER_INPUT' } },
            ),
          ];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('the query cannot be parsed')];
        }
        const errors = validate(schema, document, [...specifiedRules, depthLimitRule(config.maxDepth)]);
        if (errors.length > 0) return errors;
        const tooComplex = complexityError(
          schema,
          document,
          payload.operationName ?? undefined,
          payload.variables ?? undefined,
          config.maxComplexity,
        );
        if (tooComplex !== null) return [tooComplex];
        ctx.extra.subscriptions = (ctx.extra.subscriptions ?? 0) + 1;
        const socket = ctx.extra.socket;
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: contextFor(ctx.extra.viewer ?? null, ctx.extra.baseUrl ?? '', {
            close: (code, reason) => socket.close(code, reason),
          }),
        };
      },
      onNext: (ctx, _id, _payload, _args, result): FormattedExecutionResult => {
        // A client that does not read its socket is cut off instead of buffering without bound.
        if (ctx.extra.socket.bufferedAmount > config.slowClientBufferBytes) {
          ctx.extra.socket.close(
            SLOW_CONSUMER_CLOSE_CODE,
            `slow consumer: more than ${config.slowClientBufferBytes} bytes not yet received`,
          );
        }
        return maskResult(result, logger);
      },
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => maskError(error.toJSON(), error, logger)),
      onComplete: (ctx) => {
        ctx.extra.subscriptions = Math.max(0, (ctx.extra.subscriptions ?? 1) - 1);
      },
    },
    wss,
  );

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  logger.info({ host: config.host, port }, 'server listening');

  return {
    url: `http://${config.host}:${port}`,
    port,
    shared,
    async close() {
      await wsServer.dispose();
      wss.close();
      await apollo.stop();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function complexityPlugin(schema: GraphQLSchema, maxComplexity: number): ApolloServerPlugin<ServerContext> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: ({ request, document }) => {
          const error = complexityError(
            schema,
            document,
            request.operationName ?? undefined,
            request.variables ?? undefined,
            maxComplexity,
          );
          if (error !== null) throw error;
          return Promise.resolve();
        },
      }),
  };
}

/** Client errors pass as they are; anything else becomes a bare INTERNAL_SERVER_ERROR, logged with its detail. */
export function maskError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && USER_ERROR_CODES.includes(code)) {
    return { ...formatted, extensions: { ...formatted.extensions, stacktrace: undefined } };
  }
  // graphql-js's own argument and variable errors carry no code; they describe the request, not the server.
  if (code === undefined && error instanceof GraphQLError && error.originalError === undefined) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
  }
  logger.error({ err: error, path: formatted.path }, 'resolver failed');
  return {
    message: 'Internal server error',
    ...(formatted.path === undefined ? {} : { path: formatted.path }),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

function maskResult(result: ExecutionResult, logger: Logger): FormattedExecutionResult {
  const errors = result.errors?.map((error) => maskError(error.toJSON(), error, logger));
  return {
    data: result.data,
    ...(errors === undefined ? {} : { errors }),
  };
}

function baseUrlOf(req: IncomingMessage, config: ServerConfig): string {
  if (config.publicUrl !== undefined) return config.publicUrl.replace(/\/$/, '');
  const host = header(req, 'host') ?? `${config.host}:${config.port}`;
  return `http://${host}`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as text; null when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
