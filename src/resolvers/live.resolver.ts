// Subscriptions: live alerts matching a filter (from the science topic), and the collaboration events
// (annotations, votes, watchlist hits, follow-up requests) from the events topic. The filter is validated and
// compiled once per subscription; the server shares each distinct subscription among its subscribers
// (src/server/shared-subscriptions.ts), so it runs once per alert, not once per browser.
import { Arg, Ctx, Field, Float, Int, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import { compileFilterPredicate } from '../filters/predicate.ts';
import type { ServerContext } from './context.ts';
import { badInput } from './errors.ts';
import type { ServerEvent } from '../events.ts';
import type { LiveAlert } from './live-sources.ts';
import { Alert } from './alert.type.ts';
import { classFilterArg } from './classes.ts';
import { AlertFilterInput } from './filter.input.ts';
import { toAlert } from './mappers.ts';
import { canSeeWatchlist } from './watchlist-loaders.ts';
import { JD_SCALE } from './units.ts';

@ObjectType({ description: 'An alert pushed live, as raw2science published it.' })
export class LiveAlertType {
  @Field(() => Float, { description: 'When this server received it from Kafka (Unix ms).' })
  receivedAt!: number;

  @Field(() => Float, {
    description:
      "When the broker published it, after its last stage (the science message's Kafka timestamp, Unix ms): " +
      'publishedAt to your receipt is the live feed’s whole delay.',
  })
  publishedAt!: number;

  @Field(() => Alert)
  alert!: Alert;
}

@ObjectType({ description: 'An annotation was added or edited (query `annotation(id)` for its content).' })
export class AnnotationAdded {
  @Field(() => String)
  annotationId!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => String)
  objectId!: string;
}

@ObjectType({ description: 'An alert fell within a watchlist target.' })
export class WatchlistHitEvent {
  @Field(() => String)
  watchlistId!: string;

  @Field(() => String)
  targetLabel!: string;

  @Field(() => String)
  alertId!: string;

  @Field(() => String)
  objectId!: string;

  @Field(() => Float, { description: 'Distance from the alert to the target, arcseconds.' })
  distanceArcsec!: number;

  @Field(() => Float, { description: `Julian date of the alert. ${JD_SCALE}` })
  jd!: number;
}

@ObjectType({ description: 'A follow-up request was made.' })
export class FollowupRequested {
  @Field(() => String)
  requestId!: string;

  @Field(() => String)
  objectId!: string;

  @Field(() => String)
  facility!: string;

  @Field(() => String)
  priority!: string;

  @Field(() => String)
  user!: string;

  @Field(() => String)
  note!: string;

  @Field(() => String)
  createdAt!: string;
}

/** Live events kept for one subscription not yet executed; beyond it the subscription is ended. */
const MAX_PENDING_EVENTS = 10_000;

/**
 * The GraphQL alert of each live alert, made once for all the distinct subscriptions it matches (each runs its
 * own execution of the same event).
 */
const liveAlerts = new WeakMap<LiveAlert, { baseUrl: string; alert: Alert }>();

function liveAlertOf(event: LiveAlert, baseUrl: string): Alert {
  const cached = liveAlerts.get(event);
  if (cached !== undefined && cached.baseUrl === baseUrl) return cached.alert;
  const alert = toAlert(event.record, baseUrl);
  liveAlerts.set(event, { baseUrl, alert });
  return alert;
}

type EventOf<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

function liveOf(context: ServerContext) {
  if (context.live === null) throw new Error('this server runs without a live feed');
  return context.live;
}

function eventsOf<T extends ServerEvent['type']>(
  context: ServerContext,
  type: T,
  keep: (event: EventOf<T>) => boolean,
): AsyncIterableIterator<EventOf<T>> {
  return liveOf(context).events.subscribe({
    maxPending: MAX_PENDING_EVENTS,
    accept: (event) => event.type === type && keep(event as EventOf<T>),
  }) as AsyncIterableIterator<EventOf<T>>;
}

@Resolver()
export class LiveResolver {
  @Subscription(() => LiveAlertType, {
    description: 'Alerts as they are processed, matching the filter (all alerts without one).',
    subscribe: async ({ args, context }) => {
      const ctx = context as ServerContext;
      const live = liveOf(ctx);
      const { filter } = args as { filter?: AlertFilterInput | null };
      const spec = filter == null ? {} : await classFilterArg(filter, 'filter', ctx);
      const matches = compileFilterPredicate(spec);
      // The filter runs as each alert is published: only the alerts it selects are queued and executed.
      return live.alerts.subscribe({
        maxPending: MAX_PENDING_EVENTS,
        accept: (event) => {
          live.counters.filterEvaluations++;
          return matches(event.record);
        },
      });
    },
  })
  liveAlerts(
    @Root() event: LiveAlert,
    @Arg('filter', () => AlertFilterInput, { nullable: true }) _filter: AlertFilterInput | null,
    @Ctx() ctx: ServerContext,
  ): LiveAlertType {
    return {
      receivedAt: event.receivedAt,
      publishedAt: event.publishedAt,
      alert: liveAlertOf(event, ctx.baseUrl),
    };
  }

  @Subscription(() => AnnotationAdded, {
    description: 'Annotations added or edited, for one object or all.',
    subscribe: ({ args, context }) => {
      const { objectId } = args as { objectId?: string | null };
      return eventsOf(context as ServerContext, 'annotation', (event) =>
        objectId == null ? true : event.objectId === objectId,
      );
    },
  })
  annotationAdded(
    @Root() event: EventOf<'annotation'>,
    @Arg('objectId', () => String, { nullable: true }) _objectId: string | null,
  ): AnnotationAdded {
    return { annotationId: event.annotationId, version: event.version, objectId: event.objectId };
  }

  @Subscription(() => WatchlistHitEvent, {
    description: 'Hits of one of your watchlists (or of a public one) as the pipeline records them.',
    subscribe: async ({ args, context }) => {
      const ctx = context as ServerContext;
      const id = (args as { watchlistId: string }).watchlistId;
      const watchlist = await ctx.stores.watchlists.byIds([id]).then((found) => found[0]);
      if (watchlist === undefined || !canSeeWatchlist(ctx.viewer, watchlist)) {
        throw badInput('watchlistId', 'no such watchlist');
      }
      return eventsOf(ctx, 'watchlist-hit', (event) => event.watchlistId === id);
    },
  })
  watchlistHits(
    @Root() event: EventOf<'watchlist-hit'>,
    @Arg('watchlistId', () => String) _watchlistId: string,
  ): WatchlistHitEvent {
    return event;
  }

  @Subscription(() => FollowupRequested, {
    description: 'Follow-up requests as they are made, for one facility or all.',
    subscribe: ({ args, context }) => {
      const { facility } = args as { facility?: string | null };
      return eventsOf(context as ServerContext, 'followup', (event) =>
        facility == null ? true : event.facility === facility,
      );
    },
  })
  followupRequests(
    @Root() event: EventOf<'followup'>,
    @Arg('facility', () => String, { nullable: true }) _facility: string | null,
  ): FollowupRequested {
    return event;
  }
}
