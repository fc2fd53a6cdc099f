// Watchlists as clients see them: a named set of sky positions, each with a radius, and the alerts that fell
// within one of them (hits, newest first). Targets and hits are field resolvers (watchlist.resolver.ts), read
// only when asked for: a watchlist may hold 10,000 targets.
import { Field, Float, Int, ObjectType } from 'type-graphql';
import type {
  Watchlist as WatchlistRecord,
  WatchlistHit as WatchlistHitRecord,
} from '../storage/watchlist-store.ts';
import { listCost } from './cost.ts';
import { JD_SCALE } from './units.ts';

@ObjectType('WatchlistTarget', { description: 'A position watched, with its match radius.' })
export class WatchlistTargetType {
  @Field(() => Float, { description: 'Degrees (ICRS), [0, 360).' })
  ra!: number;

  @Field(() => Float, { description: 'Degrees (ICRS), [-90, 90].' })
  dec!: number;

  @Field(() => Float, { description: 'An alert within this many arcseconds is a hit.' })
  radiusArcsec!: number;

  @Field(() => String)
  label!: string;
}

@ObjectType({
  description: "A user's list of sky positions; the pipeline records every alert that falls in one.",
})
export class Watchlist {
  @Field(() => String)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'User who created it; only they (or an admin) may change it.' })
  owner!: string;

  @Field(() => Boolean, { description: 'Visible to everyone; otherwise only to its owner.' })
  public!: boolean;

  @Field(() => Int)
  targetCount!: number;

  @Field(() => String, { description: 'ISO 8601, UTC.' })
  createdAt!: string;

  @Field(() => String, { description: 'When it last changed (ISO 8601, UTC).' })
  updatedAt!: string;

  /** The stored version, for the field resolvers (targets at its targetsVersion); not in the schema. */
  record!: WatchlistRecord;
}

@ObjectType({ description: 'An alert within the radius of one of the targets of a watchlist.' })
export class WatchlistHit {
  @Field(() => String, { description: 'candid (ZTF) or diaSourceId (Rubin), decimal.' })
  alertId!: string;

  @Field(() => String)
  objectId!: string;

  @Field(() => String, { description: 'ztf or lsst.' })
  survey!: string;

  @Field(() => String, { description: 'Label of the nearest target within its radius.' })
  targetLabel!: string;

  @Field(() => Float, { description: 'Distance from the alert to that target, arcseconds.' })
  distanceArcsec!: number;

  @Field(() => Float, { description: `Julian date of the alert. ${JD_SCALE}` })
  jd!: number;

  @Field(() => Float)
  ra!: number;

  @Field(() => Float)
  dec!: number;
}

@ObjectType({ description: 'A page of hits, newest first; pass endCursor as `after` for the next page.' })
export class WatchlistHitConnection {
  @Field(() => [WatchlistHit], { complexity: listCost(1), description: 'The hits of this page.' })
  nodes!: WatchlistHit[];

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last hit of this page; null when empty.',
  })
  endCursor!: string | null;

  @Field(() => Boolean)
  hasNextPage!: boolean;
}

export function toWatchlist(record: WatchlistRecord): Watchlist {
  return Object.assign(new Watchlist(), {
    id: record.id,
    name: record.name,
    owner: record.owner,
    public: record.public,
    targetCount: record.targetCount,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    record,
  });
}

export function toWatchlistHit(hit: WatchlistHitRecord): WatchlistHit {
  return {
    alertId: hit.alertId.toString(),
    objectId: hit.objectId,
    survey: hit.survey,
    targetLabel: hit.targetLabel,
    distanceArcsec: hit.distanceArcsec,
    jd: hit.jd,
    ra: hit.ra,
    dec: hit.dec,
  };
}
