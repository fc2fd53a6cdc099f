// Per-request DataLoaders for watchlists (ctx.loaders.watchlists): a page of objects asking for their watchlists,
// or a list of watchlists asking for their targets, makes one store read per kind, not one per parent.
import DataLoader from 'dataloader';
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { hasRole, type Viewer } from './viewer.ts';
import type { Watchlist, WatchlistStore, WatchlistTarget } from '../storage/watchlist-store.ts';

export interface WatchlistLoaders {
  /** The latest version of a watchlist, null when unknown or deleted (visibility is the caller's check). */
  byId: DataLoader<string, Watchlist | null>;
  /** The targets of a watchlist version (keyed by id and targetsVersion). */
  targets: DataLoader<Watchlist, WatchlistTarget[], string>;
  /** Every existing watchlist the object hit, visible or not (the caller filters with canSeeWatchlist). */
  byObject: DataLoader<string, Watchlist[]>;
}

/**
 * The part of ServerContext (src/resolvers/context.ts) the watchlist resolvers use: ServerContext satisfies it once
 * its stores hold `watchlists` and its loaders `watchlists`.
 */
export interface WatchlistContext {
  viewer: Viewer | null;
  config: ServerConfig;
  stores: { watchlists: WatchlistStore };
  loaders: { watchlists: WatchlistLoaders };
  logger: Logger;
}

/** Keys per store call. */
const MAX_BATCH = 1000;

export function createWatchlistLoaders(store: WatchlistStore): WatchlistLoaders {
  const byId = new DataLoader<string, Watchlist | null>(
    async (ids) => {
      const found = new Map((await store.byIds(ids)).map((w) => [w.id, w]));
      return ids.map((id) => found.get(id) ?? null);
    },
    { maxBatchSize: MAX_BATCH },
  );
  return {
    byId,
    targets: new DataLoader<Watchlist, WatchlistTarget[], string>(
      async (watchlists) => {
        const targets = await store.targets(watchlists);
        return watchlists.map((w) => targets.get(w.id) ?? []);
      },
      { cacheKeyFn: (w) => `${w.id}:${w.targetsVersion}`, maxBatchSize: MAX_BATCH },
    ),
    byObject: new DataLoader<string, Watchlist[]>(
      async (objectIds) => {
        const ids = await store.watchlistIdsByObjectIds(objectIds);
        // The watchlists themselves go through byId: one more query for all the objects together.
        const all = [...new Set([...ids.values()].flat())];
        const loaded = new Map<string, Watchlist>();
        (await byId.loadMany(all)).forEach((w) => {
          if (w !== null && !(w instanceof Error)) loaded.set(w.id, w);
        });
        return objectIds.map((objectId) =>
          (ids.get(objectId) ?? []).flatMap((id) => {
            const watchlist = loaded.get(id);
            return watchlist === undefined ? [] : [watchlist];
          }),
        );
      },
      { maxBatchSize: MAX_BATCH },
    ),
  };
}

/** Public watchlists are visible to everyone, private ones to their owner and to admins. */
export function canSeeWatchlist(viewer: Viewer | null, watchlist: Watchlist): boolean {
  return watchlist.public || canEditWatchlist(viewer, watchlist);
}

/** Only the owner or an admin may change or delete a watchlist. */
export function canEditWatchlist(viewer: Viewer | null, watchlist: Watchlist): boolean {
  return viewer !== null && (viewer.user === watchlist.owner || hasRole(viewer, 'admin'));
}
