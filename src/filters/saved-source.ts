// The distributed saved filters, compiled, for the distribution service: loaded from the store at start and
// reloaded every few seconds, so a filter saved (or changed, or deleted) through GraphQL takes effect on the
// running service without a restart. The handler asks for the current set once per batch.
import type { Logger } from '../logger.ts';
import { retry } from '../pipeline/framework.ts';
import type { SavedFilter, SavedFilterStore } from '../storage/saved-filter-store.ts';
import { compileFilterPredicate } from './predicate.ts';
import type { FilterRecord } from './predicate.ts';
import { validateFilter } from './validate.ts';

export interface DistributedFilter {
  id: string;
  /** Topic-safe and unique among the current filters: topics are <prefix>_<name>_<survey>. */
  name: string;
  matches(record: FilterRecord): boolean;
}

export interface SavedFilterSource {
  /** The filters as of the latest successful load. */
  current(): readonly DistributedFilter[];
}

/** Reloads are this far apart unless told otherwise. */
export const SAVED_FILTER_RELOAD_MS = 5000;

export interface SavedFilterSourceOptions {
  store: Pick<SavedFilterStore, 'distributed'>;
  logger: Logger;
  /** Stops reloading. */
  signal: AbortSignal;
  intervalMs?: number;
}

/**
 * Compiles the stored filters. A definition that no longer validates (written by an older version) is skipped
 * and logged, never fatal; of two filters with one name (a race between two creations) the older one runs.
 */
export function compileDistributedFilters(
  filters: readonly SavedFilter[],
  logger: Logger,
): DistributedFilter[] {
  const byAge = [...filters].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
  );
  const names = new Set<string>();
  const compiled: DistributedFilter[] = [];
  for (const filter of byAge) {
    if (names.has(filter.name)) {
      logger.warn({ savedFilterId: filter.id, name: filter.name }, 'saved filter name taken; skipped');
      continue;
    }
    try {
      // Validated when saved; checked again because it comes back from storage. The cone limit applied then.
      const spec = validateFilter(filter.definition, 'definition', { maxConeRadiusArcsec: Infinity });
      compiled.push({
        id: filter.id,
        name: filter.name,
        matches: compileFilterPredicate(spec),
      });
      names.add(filter.name);
    } catch (err) {
      logger.warn({ savedFilterId: filter.id, err }, 'saved filter definition invalid; skipped');
    }
  }
  return compiled;
}

/**
 * Loads the distributed filters (waiting out a storage outage: distributing without them would silently skip
 * their alerts), then reloads them every `intervalMs` until `signal` aborts, keeping the last good set when a
 * reload fails.
 */
export async function startSavedFilterSource(options: SavedFilterSourceOptions): Promise<SavedFilterSource> {
  const { store, logger, signal, intervalMs = SAVED_FILTER_RELOAD_MS } = options;
  const load = async () => compileDistributedFilters(await store.distributed(), logger);
  let filters = await retry(load, {
    signal,
    onRetry: (err, attempt) => logger.warn({ err, attempt }, 'loading saved filters failed; retrying'),
  });
  logger.info({ filters: filters.length }, 'saved filters loaded');
  let loading = false;
  const timer = setInterval(() => {
    if (loading) return;
    loading = true;
    load()
      .then((loaded) => {
        if (loaded.length !== filters.length)
          logger.info({ filters: loaded.length }, 'saved filters reloaded');
        filters = loaded;
      })
      .catch((err: unknown) =>
        logger.warn({ err }, 'reloading saved filters failed; keeping the previous set'),
      )
      .finally(() => {
        loading = false;
      });
  }, intervalMs);
  // The timer alone must not keep a stopping process alive.
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return { current: () => filters };
}
