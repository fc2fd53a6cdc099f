// What every resolver receives (`@Ctx() ctx: ServerContext`), built once per HTTP request or per WebSocket
// operation. Loaders are per request so that batching and caching never leak between users.
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Loaders } from '../resolvers/loaders.ts';
import type { EventPublisher } from './events.ts';
import type { ServerStores } from './stores.ts';
import type { Viewer } from './viewer.ts';

export interface ServerContext {
  /** null: anonymous (allowed for reads when server.anonymousRead). */
  viewer: Viewer | null;
  config: ServerConfig;
  /** Absolute base URL for links the API returns (cutouts), without a trailing slash. */
  baseUrl: string;
  stores: ServerStores;
  loaders: Loaders;
  events: EventPublisher;
  logger: Logger;
}
