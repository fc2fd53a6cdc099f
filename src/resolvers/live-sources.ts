// The live inputs subscriptions read (ctx.live): alerts as the broker publishes them and server events. The
// server's live feed (src/server/live-feed.ts) provides them; tests use broadcasters of their own.
import type { ServerEvent } from '../events.ts';
import type { Broadcaster } from '../util/broadcast.ts';
import type { ScienceRecord } from '../storage/science-store.ts';

export interface LiveAlert {
  /** When this server received it from Kafka (Unix ms). */
  receivedAt: number;
  /** When raw2science published it to the science topic (the message's Kafka timestamp, Unix ms). */
  publishedAt: number;
  /**
   * The alert's one record, as raw2science computed and stored it: what live filters evaluate (watchlist hits
   * included) and what the subscription returns.
   */
  record: ScienceRecord;
}

export interface LiveSources {
  alerts: Broadcaster<LiveAlert>;
  events: Broadcaster<ServerEvent>;
  /** Filter evaluations of live subscriptions (one per distinct subscription per alert). */
  counters: { filterEvaluations: number };
}
