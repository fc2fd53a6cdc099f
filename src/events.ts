// Events the server pushes to subscribers besides live alerts. They travel through Kafka (server.eventsTopic,
// server.followupTopic) and not through memory, so that every server instance behind a load balancer sees the
// events produced by any other instance and by the pipeline (watchlist hits).

export interface AnnotationEvent {
  type: 'annotation';
  /** Id of the annotation (all its versions share it) and the version just written. */
  annotationId: string;
  version: number;
  objectId: string;
}

export interface VoteEvent {
  type: 'vote';
  objectId: string;
  user: string;
  label: string;
}

export interface WatchlistHitEvent {
  type: 'watchlist-hit';
  watchlistId: string;
  targetLabel: string;
  alertId: string;
  objectId: string;
  distanceArcsec: number;
  jd: number;
}

export interface FollowupEvent {
  type: 'followup';
  requestId: string;
  objectId: string;
  facility: string;
  priority: string;
  user: string;
  note: string;
  createdAt: string;
}

export type ServerEvent = AnnotationEvent | VoteEvent | WatchlistHitEvent | FollowupEvent;

/** Publishes events (implemented over Kafka by the server; a recording fake in unit tests). */
export interface EventPublisher {
  publish(events: readonly ServerEvent[]): Promise<void>;
}
