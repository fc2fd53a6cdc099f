// The schema: every resolver class, the auth checker, and the per-request loaders the resolvers share.
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { authChecker } from './auth-checker.ts';
import type { ServerStores } from './stores.ts';
import { AnnotationResolver, ObjectAnnotationsResolver } from './annotation.resolver.ts';
import { createCollabLoaders, type CollabLoaders } from './collab-loaders.ts';
import { FollowupResolver } from './followup.resolver.ts';
import { LiveResolver } from './live.resolver.ts';
import { createCoreLoaders, type CoreLoaders } from './loaders.ts';
import { AlertResolver, ObjectResolver } from './object.resolver.ts';
import { SavedFilterResolver } from './saved-filter.resolver.ts';
import { SearchResolver } from './search.resolver.ts';
import { SkyResolver } from './sky.resolver.ts';
import { VocabularyResolver } from './vocabulary.resolver.ts';
import { VoteResolver } from './vote.resolver.ts';
import { createWatchlistLoaders, type WatchlistLoaders } from './watchlist-loaders.ts';
import { ObjectWatchlistsResolver, WatchlistResolver } from './watchlist.resolver.ts';
import { WebhookResolver } from './webhook.resolver.ts';

export const RESOLVERS = [
  AlertResolver,
  ObjectResolver,
  SkyResolver,
  SearchResolver,
  SavedFilterResolver,
  LiveResolver,
  AnnotationResolver,
  ObjectAnnotationsResolver,
  VoteResolver,
  VocabularyResolver,
  WatchlistResolver,
  ObjectWatchlistsResolver,
  FollowupResolver,
  WebhookResolver,
] as const;

export type Loaders = CoreLoaders & { collab: CollabLoaders; watchlists: WatchlistLoaders };

export interface LoaderOptions {
  /** false for subscriptions: one context serves every event, and must read fresh rows for each. */
  cache: boolean;
}

export function createLoaders(stores: ServerStores, options: LoaderOptions): Loaders {
  return {
    ...createCoreLoaders(stores.alerts, options),
    collab: createCollabLoaders(stores.annotations, stores.votes),
    watchlists: createWatchlistLoaders(stores.watchlists),
  };
}

/**
 * Every subscription brings its own `subscribe` (the live feed's broadcasters), so type-graphql's topic-based
 * PubSub is never used; it insists on one being configured all the same.
 */
const NO_PUBSUB = {
  publish(): never {
    throw new Error('subscriptions publish through the live feed, not a PubSub');
  },
  subscribe(): never {
    throw new Error('subscriptions subscribe through the live feed, not a PubSub');
  },
};

export function buildFinkSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: RESOLVERS, authChecker, validate: false, pubSub: NO_PUBSUB });
}
