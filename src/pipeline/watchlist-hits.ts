// Records the watchlist hits the watchlist stage found: rows in watchlist_hits, then one WatchlistHitEvent per
// hit on the events topic (JSON, key = watchlist id, so the hits of one watchlist keep their order), which every
// GraphQL server consumes for its subscriptions.
//
// raw2science calls it after the science tables are written, before committing offsets. Delivery is at least
// once: a replayed batch rewrites the same rows (ReplacingMergeTree keyed by watchlist and alert) and publishes
// its events again; subscribers that care deduplicate on (watchlistId, alertId).
import type { Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { WatchlistHitEvent } from '../events.ts';
import type { WatchlistHit, WatchlistHitWriter } from '../storage/watchlist-store.ts';
import { sendInChunks } from './kafka.ts';
import type { WatchlistHitField } from './steps/watchlist.step.ts';

/** The fields of an enriched alert the recorder reads. */
export interface WatchlistHitAlert {
  alertId: bigint;
  objectId: string;
  survey: string;
  jd: number;
  ra: number;
  dec: number;
  watchlistHits: readonly WatchlistHitField[];
}

export interface WatchlistHitRecorderDeps {
  store: WatchlistHitWriter;
  producer: Producer;
  /** config.server.eventsTopic (fink_events by default). */
  eventsTopic: string;
  /** Produce requests are split to stay under this size (config.kafka.maxRequestBytes). */
  maxRequestBytes: number;
  logger: Logger;
}

/** Writes and publishes the hits of a batch; resolves with the number of hits once both are acknowledged. */
export type RecordWatchlistHits = (alerts: readonly WatchlistHitAlert[]) => Promise<number>;

export function hitsOf(alerts: readonly WatchlistHitAlert[]): WatchlistHit[] {
  return alerts.flatMap((alert) =>
    alert.watchlistHits.map((hit): WatchlistHit => ({
      watchlistId: hit.watchlistId,
      alertId: alert.alertId,
      objectId: alert.objectId,
      survey: alert.survey,
      targetLabel: hit.targetLabel,
      distanceArcsec: hit.distanceArcsec,
      jd: alert.jd,
      ra: alert.ra,
      dec: alert.dec,
    })),
  );
}

export function toWatchlistHitEvent(hit: WatchlistHit): WatchlistHitEvent {
  return {
    type: 'watchlist-hit',
    watchlistId: hit.watchlistId,
    targetLabel: hit.targetLabel,
    alertId: hit.alertId.toString(),
    objectId: hit.objectId,
    distanceArcsec: hit.distanceArcsec,
    jd: hit.jd,
  };
}

export function createWatchlistHitRecorder(deps: WatchlistHitRecorderDeps): RecordWatchlistHits {
  const { store, producer, eventsTopic, maxRequestBytes } = deps;
  const logger = deps.logger.child({ module: 'watchlist-hits' });
  return async function recordWatchlistHits(alerts) {
    const hits = hitsOf(alerts);
    if (hits.length === 0) return 0;
    // Rows first: a subscriber told of a hit can read it back.
    await store.writeHits(hits);
    await sendInChunks(
      producer,
      eventsTopic,
      hits.map((hit) => ({ key: hit.watchlistId, value: JSON.stringify(toWatchlistHitEvent(hit)) })),
      maxRequestBytes,
    );
    logger.info(
      { hits: hits.length, watchlists: new Set(hits.map((hit) => hit.watchlistId)).size },
      'watchlist hits recorded',
    );
    return hits.length;
  };
}
