// Everything the resolvers read and write, behind narrow interfaces, and the ClickHouse implementations the
// server runs with. Tests may substitute any of them.
import type { AlertStore } from '../storage/alert-store.ts';
import { ClickHouseAlertStore } from '../storage/alert-store.ts';
import type { CatalogStore } from '../storage/catalog-store.ts';
import { ClickHouseCatalogStore } from '../storage/catalog-store.ts';
import type { ClickHouseClient } from '../storage/clickhouse.ts';
import { ClickHouseAnnotationStore, type AnnotationStore } from '../storage/annotation-store.ts';
import { createArchiveCutoutStore } from '../pipeline/archive-cutouts.ts';
import type { AlertDecoder } from '../pipeline/decode/alert-decoder.ts';
import type { CutoutStore } from '../storage/cutout-store.ts';
import { ClickHouseRawAlertStore, type RawAlertStats } from '../storage/raw-store.ts';
import { ClickHouseVoteStore, type VoteStore } from '../storage/vote-store.ts';
import { ClickHouseFollowupStore, type FollowupStore } from '../storage/followup-store.ts';
import { ClickHouseWebhookStore, type WebhookStore } from '../storage/webhook-store.ts';
import { ClickHouseSavedFilterStore, type SavedFilterStore } from '../storage/saved-filter-store.ts';
import { ClickHouseTokenStore, type TokenStore } from '../storage/token-store.ts';
import { ClickHouseWatchlistStore, type WatchlistStore } from '../storage/watchlist-store.ts';
import type { FollowupPublisher } from './services.ts';
import type { WebhookDispatcher } from './services.ts';

export interface ServerStores {
  alerts: AlertStore;
  catalogs: Pick<CatalogStore, 'list' | 'overridingTypes'>;
  cutouts: CutoutStore;
  /** The raw archive's counts (alerts received per night, before the cuts). */
  archive: RawAlertStats;
  tokens: TokenStore;
  annotations: AnnotationStore;
  votes: VoteStore;
  watchlists: WatchlistStore;
  followups: FollowupStore;
  webhooks: WebhookStore;
  savedFilters: SavedFilterStore;
}

/** What mutations trigger outside storage. */
export interface ServerServices {
  followups: FollowupPublisher;
  webhooks: WebhookDispatcher;
}

/** The stores over one ClickHouse; `decoder` reads the alerts of the raw archive (their cutouts). */
export function createClickHouseStores(client: ClickHouseClient, decoder: AlertDecoder): ServerStores {
  const archive = new ClickHouseRawAlertStore(client);
  return {
    alerts: new ClickHouseAlertStore(client),
    catalogs: new ClickHouseCatalogStore(client),
    cutouts: createArchiveCutoutStore(archive, decoder),
    archive,
    tokens: new ClickHouseTokenStore(client),
    annotations: new ClickHouseAnnotationStore(client),
    votes: new ClickHouseVoteStore(client),
    watchlists: new ClickHouseWatchlistStore(client),
    followups: new ClickHouseFollowupStore(client),
    webhooks: new ClickHouseWebhookStore(client),
    savedFilters: new ClickHouseSavedFilterStore(client),
  };
}
