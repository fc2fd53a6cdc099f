// Per-request DataLoaders for annotations and votes: a page of objects asking for their annotations, votes and
// consensus makes one store read per kind, not one per object. Built per request (ctx.loaders.collab) so that
// nothing cached leaks between users or outlives a request.
import DataLoader from 'dataloader';
import type { Logger } from '../logger.ts';
import type { EventPublisher } from '../events.ts';
import type { ObjectLookup } from './object-exists.ts';
import type { Viewer } from './viewer.ts';
import type { AnnotationRecord, AnnotationStore } from '../storage/annotation-store.ts';
import type { VoteRecord, VoteStore } from '../storage/vote-store.ts';

export interface CollabLoaders {
  /** Current version of every annotation of an object (retracted included), oldest first. */
  annotationsByObject: DataLoader<string, AnnotationRecord[]>;
  /** Current version of an annotation, null when unknown. */
  annotationById: DataLoader<string, AnnotationRecord | null>;
  /** Every version of an annotation, oldest first. */
  historyById: DataLoader<string, AnnotationRecord[]>;
  /** Current vote of every user on an object. */
  votesByObject: DataLoader<string, VoteRecord[]>;
}

/**
 * The part of ServerContext (src/resolvers/context.ts) the annotation and vote resolvers use: ServerContext
 * satisfies it once its stores hold `annotations` and `votes` and its loaders `collab` and `object`.
 */
export interface CollabContext {
  viewer: Viewer | null;
  stores: { annotations: AnnotationStore; votes: VoteStore };
  /** `object`: the request's object loader, to refuse writes about an object the archive does not hold. */
  loaders: { collab: CollabLoaders; object: ObjectLookup };
  events: EventPublisher;
  logger: Logger;
}

/** Keys per store call: the store splits longer lists anyway, this keeps one call's answer bounded. */
const MAX_BATCH = 1000;

export function createCollabLoaders(store: AnnotationStore, votes: VoteStore): CollabLoaders {
  return {
    annotationsByObject: new DataLoader(
      async (objectIds) => groupBy(objectIds, await store.byObjectIds(objectIds), (r) => r.objectId),
      { maxBatchSize: MAX_BATCH },
    ),
    annotationById: new DataLoader(
      async (ids) => {
        const byId = new Map((await store.byIds(ids)).map((r) => [r.annotationId, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: MAX_BATCH },
    ),
    historyById: new DataLoader(
      async (ids) => groupBy(ids, await store.history(ids), (r) => r.annotationId),
      { maxBatchSize: MAX_BATCH },
    ),
    votesByObject: new DataLoader(
      async (objectIds) => groupBy(objectIds, await votes.byObjectIds(objectIds), (v) => v.objectId),
      { maxBatchSize: MAX_BATCH },
    ),
  };
}

/** The rows of each key, in the keys' order, keeping the store's order within a key. */
function groupBy<T>(keys: readonly string[], rows: readonly T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}
