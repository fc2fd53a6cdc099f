// What every resolver receives (`@Ctx() ctx: ServerContext`), built once per HTTP request or per WebSocket
// operation. Loaders are per request so that batching and caching never leak between users.
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Loaders } from './index.ts';
import type { EventPublisher } from '../events.ts';
import type { FollowupPublisher } from './services.ts';
import type { LiveSources } from './live-sources.ts';
import type { ServerStores } from './stores.ts';
import type { WebhookDispatcher } from './services.ts';
import type { Viewer } from './viewer.ts';

export interface ServerContext {
  /** null: anonymous (allowed for reads when server.anonymousRead). */
  viewer: Viewer | null;
  config: ServerConfig;
  /** config.pipeline.distributionPrefix: the topics of distributed saved filters. */
  distributionPrefix: string;
  /** Absolute base URL for links the API returns (cutouts), without a trailing slash. */
  baseUrl: string;
  stores: ServerStores;
  loaders: Loaders;
  events: EventPublisher;
  /** Follow-up requests to Kafka, and webhook deliveries (created once per server). */
  followups: FollowupPublisher;
  webhooks: WebhookDispatcher;
  /** Live alerts and events for subscriptions; null when the server runs without Kafka. */
  live: LiveSources | null;
  logger: Logger;
  /** Aborted when the client goes away before its answer (the operation's ClickHouse queries are killed). */
  cancel?: AbortSignal;
  /** The WebSocket connection of a subscription (absent over HTTP). */
  connection?: ConnectionHandle;
}

export interface ConnectionHandle {
  close(code: number, reason: string): void;
}
