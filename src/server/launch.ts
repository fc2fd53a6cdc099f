// Assembles the server from the config: ClickHouse stores, Kafka (live feed, events, follow-ups), webhooks,
// GraphiQL, cutout and dashboard routes, the REST API. `fink start server` runs this; integration tests call it with their own
// config.
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import {
  CachingPartitioner,
  createKafka,
  ensureTopics,
  PRODUCER_RETRY,
  SEND_RETRY,
} from '../pipeline/kafka.ts';
import { retry } from '../pipeline/framework.ts';
import { buildFinkSchema } from '../resolvers/index.ts';
import { connectClickHouse } from '../storage/clickhouse.ts';
import { createAuthenticator } from './auth.ts';
import { createCutoutHandler } from './cutout-routes.ts';
import { createDashboardHandler, DASHBOARD_DIR } from './dashboard.ts';
import type { EventPublisher, ServerEvent } from '../events.ts';
import { GRAPHIQL_EXAMPLES } from './examples.ts';
import { createKafkaFollowupPublisher } from './followups.ts';
import { createGraphiqlHandler } from './graphiql.ts';
import { startLiveFeed, type LiveFeed } from './live-feed.ts';
import { createFanoutScheduler, GRAPHQL_PATH, startServer, type FinkServer, type Route } from './server.ts';
import { createClickHouseStores } from '../resolvers/stores.ts';
import { createRestApi } from './rest/rest-api.ts';
import { createConfiguredDecoder } from '../pipeline/decode/configured-decoder.ts';
import { createWebhookDispatcher } from './webhooks.ts';
import type { Producer } from 'kafkajs';

export interface LaunchedServer {
  server: FinkServer;
  live: LiveFeed;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Routes tried before the built-in ones (the dashboard). */
  routes?: Route[];
}

export async function launchServer(
  config: Config,
  logger: Logger,
  options: LaunchOptions = {},
): Promise<LaunchedServer> {
  const { server: serverConfig, pipeline } = config;
  const client = connectClickHouse(config.clickhouse);
  const stores = createClickHouseStores(client, createConfiguredDecoder(config));
  const kafka = createKafka(config.kafka, logger, 'fink-server');
  await ensureTopics(
    kafka,
    [pipeline.scienceTopic, serverConfig.eventsTopic, serverConfig.followupTopic],
    config.kafka.defaultPartitions,
    config.kafka,
  );
  // Sends are retried whole by the publishers (SEND_RETRY), never inside kafkajs (PRODUCER_RETRY says why).
  const producer = kafka.producer({ createPartitioner: CachingPartitioner, retry: PRODUCER_RETRY });
  await retry(() => producer.connect(), SEND_RETRY);
  // One fan-out budget for the live feed's broadcasters and the shared subscriptions' results.
  const scheduler = createFanoutScheduler(serverConfig);
  const live = await startLiveFeed({
    kafka,
    scienceTopic: pipeline.scienceTopic,
    eventsTopic: serverConfig.eventsTopic,
    groupPrefix: pipeline.groupPrefix,
    scheduler: scheduler.first,
    logger: logger.child({ module: 'live-feed' }),
  });
  const webhooks = createWebhookDispatcher({
    logger: logger.child({ module: 'webhooks' }),
    attempts: serverConfig.webhookAttempts,
    timeoutMs: serverConfig.webhookTimeoutMs,
  });
  const server = await startServer({
    config: serverConfig,
    distributionPrefix: pipeline.distributionPrefix,
    schema: await buildFinkSchema(),
    stores,
    services: {
      followups: createKafkaFollowupPublisher(producer, serverConfig.followupTopic),
      webhooks,
    },
    authenticate: createAuthenticator(stores.tokens, { cacheMs: serverConfig.tokenCacheMs }),
    events: kafkaEventPublisher(producer, serverConfig.eventsTopic),
    live,
    scheduler,
    routes: [
      ...(options.routes ?? []),
      createGraphiqlHandler({
        path: '/graphiql',
        graphqlPath: GRAPHQL_PATH,
        examples: GRAPHIQL_EXAMPLES,
        logger,
      }),
      createCutoutHandler({ store: stores.cutouts, logger }),
      // The dashboard (web/, built into DASHBOARD_DIR): `/`, `/index.html` and `/assets/*`.
      createDashboardHandler({ dir: DASHBOARD_DIR, logger }),
    ],
    // Fink's REST API (/api/v1/*), admitted and bounded like GraphQL.
    apiRoutes: [createRestApi({ stores, config: serverConfig, logger })],
    logger,
  });
  await live.ready;
  return {
    server,
    live,
    async close() {
      await server.close();
      await webhooks.idle();
      await live.stop();
      await producer.disconnect();
      await client.close();
    },
  };
}

/** Events as JSON on the events topic, keyed by object (or watchlist) so each one's events stay in order. */
function kafkaEventPublisher(producer: Producer, topic: string): EventPublisher {
  const keyOf = (event: ServerEvent): string =>
    event.type === 'watchlist-hit' ? event.watchlistId : event.objectId;
  return {
    async publish(events) {
      if (events.length === 0) return;
      await retry(
        () =>
          producer.send({
            topic,
            acks: -1,
            messages: events.map((event) => ({ key: keyOf(event), value: JSON.stringify(event) })),
          }),
        SEND_RETRY,
      );
    },
  };
}
