// Watchlist hits: which users' watchlists each alert falls in (within a target's radius).
//
// Adds `watchlistHits`: at most one entry per watchlist (its nearest target within that target's radius),
// ordered by watchlist id; empty when none. raw2science writes them to watchlist_hits and publishes them as
// events (src/pipeline/watchlist-hits.ts); the GraphQL server's live feed reuses `createWatchlistMatcher`.
//
// Index: targets are kept in memory, each under the HEALPix NESTED pixels its disc may touch, at an order chosen
// from its radius (the deepest whose pixels are at least as wide as the radius, at most 15, the library's limit):
// a few pixels per target whatever its radius (1.5" at order 15, 1° at order 5). A position is looked up with one
// pixel computation per order in use (at most 16), so 10,000 targets cost a handful of map reads per alert, not a
// scan. The disc query is inclusive (a superset of the pixels the disc touches), so no target within its radius
// is missed; exact great-circle distances decide.
import { DEG, angularDistanceArcsec, isValidPosition, normalizeRa } from '../../sky/angles.ts';
import { healpixDisc, healpixOrderForRadius, lookupPhis, nsideOf, pixelAt } from '../../sky/healpix.ts';
import type { Watchlist, WatchlistSource, WatchlistTarget } from '../../storage/watchlist-store.ts';
import type { BatchStep } from '../framework.ts';
import { ok } from '../framework.ts';

export interface WatchlistHitField {
  watchlistId: string;
  targetLabel: string;
  /** Great-circle distance from the alert to the target, in arcseconds. */
  distanceArcsec: number;
}

export interface WatchlistFields {
  watchlistHits: WatchlistHitField[];
}

export type WithWatchlistHits<T> = T & WatchlistFields;

/** The hits of a position (degrees): at most one per watchlist, ordered by watchlist id. */
export type WatchlistMatcher = (ra: number, dec: number) => WatchlistHitField[];

export interface MatchableWatchlist {
  id: string;
  targets: readonly WatchlistTarget[];
}

interface IndexedTarget {
  watchlistId: string;
  ra: number;
  dec: number;
  radiusArcsec: number;
  label: string;
}

/** Builds the in-memory index once; the returned function is pure and synchronous. */
export function createWatchlistMatcher(watchlists: readonly MatchableWatchlist[]): WatchlistMatcher {
  const targets: IndexedTarget[] = [];
  /** order -> (pixel -> indexes into targets). */
  const levels = new Map<number, Map<number, number[]>>();
  for (const watchlist of watchlists) {
    for (const target of watchlist.targets) {
      const { ra, dec, radiusArcsec } = target;
      if (!isValidPosition(ra, dec) || !(radiusArcsec > 0)) continue;
      const index = targets.length;
      targets.push({
        watchlistId: watchlist.id,
        ra: normalizeRa(ra),
        dec,
        radiusArcsec,
        label: target.label,
      });
      const order = healpixOrderForRadius(radiusArcsec);
      let pixels = levels.get(order);
      if (pixels === undefined) {
        pixels = new Map();
        levels.set(order, pixels);
      }
      for (const pixel of healpixDisc(order, ra, dec, radiusArcsec)) {
        const list = pixels.get(pixel);
        if (list === undefined) pixels.set(pixel, [index]);
        else list.push(index);
      }
    }
  }
  const orders = [...levels.entries()].map(([order, pixels]) => ({
    nside: nsideOf(order),
    pixels,
  }));

  return function matchWatchlists(ra, dec) {
    if (!isValidPosition(ra, dec) || targets.length === 0) return [];
    const theta = (90 - dec) * DEG;
    const phis = lookupPhis(dec, ra);
    const best = new Map<string, WatchlistHitField>();
    for (const { nside, pixels } of orders) {
      const candidates = phis.flatMap((phi) => pixels.get(pixelAt(nside, theta, phi)) ?? []);
      for (const index of candidates) {
        const target = targets[index]!;
        const distanceArcsec = angularDistanceArcsec(ra, dec, target.ra, target.dec);
        if (distanceArcsec > target.radiusArcsec) continue;
        const current = best.get(target.watchlistId);
        if (current === undefined || distanceArcsec < current.distanceArcsec) {
          best.set(target.watchlistId, {
            watchlistId: target.watchlistId,
            targetLabel: target.label,
            distanceArcsec,
          });
        }
      }
    }
    return [...best.values()].sort((a, b) => (a.watchlistId < b.watchlistId ? -1 : 1));
  };
}

/** The matcher over the current watchlists. */
export interface WatchlistMatcherProvider {
  matcher(): Promise<WatchlistMatcher>;
}

export interface WatchlistCacheOptions {
  /** A watchlist created, changed or deleted elsewhere is matched (or no longer) after at most this long. */
  refreshIntervalMs?: number;
  now?: () => number;
}

/**
 * Keeps a matcher over every non-deleted watchlist, reloaded at most every refreshIntervalMs. A reload reads the
 * watchlist headers (one row each) and fetches targets only for the watchlists whose targets changed, so an
 * unchanged set of 10,000-target watchlists costs one small query per interval. One reload at a time; a failed
 * reload rejects (raw2science retries the batch through its outage handling) and the next call tries again.
 */
export function createWatchlistCache(
  source: WatchlistSource,
  options: WatchlistCacheOptions = {},
): WatchlistMatcherProvider {
  const refreshIntervalMs = options.refreshIntervalMs ?? 5000;
  const now = options.now ?? Date.now;
  let loaded: { at: number; matcher: WatchlistMatcher } | undefined;
  let refreshing: Promise<WatchlistMatcher> | undefined;
  /** Targets by watchlist id, with the targetsVersion they belong to. */
  let known = new Map<string, { targetsVersion: number; targets: readonly WatchlistTarget[] }>();

  async function refresh(): Promise<WatchlistMatcher> {
    const headers: Watchlist[] = await source.active();
    const stale = headers.filter((w) => known.get(w.id)?.targetsVersion !== w.targetsVersion);
    const fetched = stale.length === 0 ? new Map<string, WatchlistTarget[]>() : await source.targets(stale);
    const next = new Map<string, { targetsVersion: number; targets: readonly WatchlistTarget[] }>();
    for (const header of headers) {
      const targets = fetched.get(header.id) ?? known.get(header.id)?.targets ?? [];
      next.set(header.id, { targetsVersion: header.targetsVersion, targets });
    }
    const changed = loaded === undefined || stale.length > 0 || [...known.keys()].some((id) => !next.has(id));
    known = next;
    const matcher = changed
      ? createWatchlistMatcher([...next].map(([id, { targets }]) => ({ id, targets })))
      : loaded!.matcher;
    loaded = { at: now(), matcher };
    return matcher;
  }

  return {
    matcher() {
      if (loaded !== undefined && now() - loaded.at < refreshIntervalMs)
        return Promise.resolve(loaded.matcher);
      refreshing ??= refresh().finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },
  };
}

export interface WatchlistStepDeps {
  watchlists: WatchlistMatcherProvider;
}

/** Positions in degrees; the alert's own fields are passed through untouched. */
export function createWatchlistStep<In extends { ra: number; dec: number }>(
  deps: WatchlistStepDeps,
): BatchStep<In, WithWatchlistHits<In>> {
  const { watchlists } = deps;
  return async function watchlist(inputs) {
    if (inputs.length === 0) return [];
    // One matcher for the whole batch: every alert of it is matched against the same watchlists.
    const match = await watchlists.matcher();
    return inputs.map((input) => ok({ ...input, watchlistHits: match(input.ra, input.dec) }));
  };
}
