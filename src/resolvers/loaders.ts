// DataLoaders, built per request (see src/resolvers/context.ts): every field that needs an object's light curve,
// alerts or classifications in one operation is served by one query per kind, whatever the number of objects.
import DataLoader from 'dataloader';
import type {
  AlertRecord,
  AlertStore,
  ClassificationRecord,
  CrossmatchRecord,
  LightCurvePoint,
  ObjectRecord,
} from '../storage/alert-store.ts';
import { groupBy } from '../util/group-by.ts';

export interface CoreLoaders {
  alert: DataLoader<bigint, AlertRecord | null, string>;
  object: DataLoader<string, ObjectRecord | null>;
  alertsOfObject: DataLoader<string, AlertRecord[]>;
  lightCurve: DataLoader<string, LightCurvePoint[]>;
  classifications: DataLoader<string, ClassificationRecord[]>;
  crossmatches: DataLoader<string, CrossmatchRecord[]>;
}

/** Ids per query; larger batches are split by DataLoader itself. */
const MAX_BATCH = 1000;

export function createCoreLoaders(store: AlertStore, options: { cache: boolean }): CoreLoaders {
  const { cache } = options;
  return {
    alert: new DataLoader(
      async (ids) => {
        const byId = new Map((await store.alertsByIds(ids)).map((a) => [a.alertId, a]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { cacheKeyFn: (id) => id.toString(), maxBatchSize: MAX_BATCH, cache },
    ),
    object: new DataLoader(
      async (ids) => {
        const byId = new Map((await store.objectsByIds(ids)).map((o) => [o.objectId, o]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: MAX_BATCH, cache },
    ),
    alertsOfObject: groupedLoader((ids) => store.alertsByObjectIds(ids), cache),
    lightCurve: groupedLoader((ids) => store.lightCurvesByObjectIds(ids), cache),
    classifications: groupedLoader((ids) => store.classificationsByObjectIds(ids), cache),
    crossmatches: groupedLoader((ids) => store.crossmatchesByObjectIds(ids), cache),
  };
}

/** A loader of every row of each object, from one query over all the objects asked for. */
function groupedLoader<T extends { objectId: string }>(
  load: (objectIds: readonly string[]) => Promise<T[]>,
  cache: boolean,
): DataLoader<string, T[]> {
  return new DataLoader(
    async (ids) => {
      const byObject = groupBy(await load(ids), (row) => row.objectId);
      return ids.map((id) => byObject.get(id) ?? []);
    },
    { maxBatchSize: MAX_BATCH, cache },
  );
}
