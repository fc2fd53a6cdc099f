// Queries over the whole archive: cone search, latest objects by class, classes, nights, solar-system objects
// by name, loaded catalogs.
import {
  ArgsType,
  Args,
  Arg,
  Ctx,
  Field,
  FieldResolver,
  Float,
  Int,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import type { ServerContext } from './context.ts';
import { badInput } from './errors.ts';
import { classArg } from './classes.ts';
import { coneArgs, finiteArg, pageSizeArg } from './arguments.ts';
import { toAstroObject } from './mappers.ts';
import { AstroObject } from './object.type.ts';
import { ConeResult } from './object-parts.type.ts';
import type { ConeCursor } from '../storage/alert-store.ts';
import { coneSearchCost, LABELS, listCost, nightStatsCost, pageCost, SCAN_COST } from './cost.ts';

@ArgsType()
class ConeSearchArgs {
  @Field(() => Float, { description: 'Right ascension of the centre, degrees [0, 360].' })
  ra!: number;

  @Field(() => Float, { description: 'Declination of the centre, degrees [-90, 90].' })
  dec!: number;

  @Field(() => Float, { description: 'Radius in arcsec (> 0, at most server.maxConeRadiusArcsec).' })
  radiusArcsec!: number;

  @Field(() => Float, { nullable: true, description: 'Only objects first detected at or after this JD.' })
  firstDetectedAfterJd?: number;

  @Field(() => Float, { nullable: true, description: 'Only objects first detected at or before this JD.' })
  firstDetectedBeforeJd?: number;

  @Field(() => Int, { nullable: true, description: 'Page size (default server.defaultPageSize).' })
  first?: number;
}

@ArgsType()
class ConeSearchPageArgs extends ConeSearchArgs {
  @Field(() => String, {
    nullable: true,
    description: 'The `endCursor` of the previous page of the same cone.',
  })
  after?: string;
}

@ObjectType({ description: 'A page of objects found by a cone search, nearest first.' })
class ConePage {
  @Field(() => [ConeResult], { complexity: listCost(1), description: 'The objects of this page.' })
  items!: ConeResult[];

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor!: string | null;

  @Field(() => Boolean, { description: 'Whether more objects lie in the cone beyond this page.' })
  hasNextPage!: boolean;
}

/** The cone's keyset cursor: the last hit's distance key (µas) and objectId. */
export function encodeConeCursor(cursor: ConeCursor): string {
  return Buffer.from(`${cursor.distanceMicroArcsec}:${cursor.objectId}`, 'utf8').toString('base64url');
}

export function decodeConeCursor(text: string, argument: string): ConeCursor {
  const match = /^(\d{1,15}):([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (match === null) throw badInput(argument, 'is not a cursor this API returned');
  return { distanceMicroArcsec: Number(match[1]), objectId: match[2]! };
}

@ObjectType({ description: 'Alerts and distinct objects of one class.' })
class ClassCountType {
  @Field(() => String)
  label!: string;

  @Field(() => Int)
  alerts!: number;

  @Field(() => Int)
  objects!: number;
}

@ObjectType({ description: 'What one observing night brought.' })
class NightStatsType {
  @Field(() => String, { description: 'YYYY-MM-DD' })
  night!: string;

  @Field(() => Int)
  alerts!: number;

  @Field(() => Int)
  objects!: number;

  @Field(() => [ClassCountType], { complexity: listCost(LABELS) })
  byClass!: ClassCountType[];
}

@ObjectType({ description: 'A loaded cross-match catalog.' })
class CatalogType {
  @Field(() => String)
  name!: string;

  @Field(() => Int)
  rows!: number;

  @Field(() => Float)
  radiusArcsec!: number;

  @Field(() => Boolean, { description: 'Its type replaces the classification label.' })
  overriding!: boolean;

  @Field(() => String)
  loadedAt!: string;
}

/** The cone and first-detection window of coneSearch and coneSearchPage, checked. */
function coneQueryArgs(args: ConeSearchArgs, ctx: ServerContext) {
  return {
    ...coneArgs(args, '', ctx.config),
    firstJdMin:
      args.firstDetectedAfterJd == null
        ? undefined
        : finiteArg(args.firstDetectedAfterJd, 'firstDetectedAfterJd'),
    firstJdMax:
      args.firstDetectedBeforeJd == null
        ? undefined
        : finiteArg(args.firstDetectedBeforeJd, 'firstDetectedBeforeJd'),
  };
}

export const TRENDS = ['RISING', 'FADING'] as const;
const NIGHT = /^\d{4}-\d{2}-\d{2}$/;
/** JD of the Unix epoch: converts "now" into the time axis of the alerts. */
const UNIX_EPOCH_JD = 2440587.5;

@Resolver(() => ConeResult)
export class SkyResolver {
  @Query(() => [ConeResult], {
    description:
      'Objects with an alert within the radius, nearest first: the first `first` only, with no sign of more. ' +
      'coneSearchPage pages through all of them.',
    deprecationReason: 'Use coneSearchPage: it pages with a cursor and says when there are more objects.',
    complexity: coneSearchCost,
  })
  async coneSearch(@Args(() => ConeSearchArgs) args: ConeSearchArgs, @Ctx() ctx: ServerContext) {
    const hits = await ctx.stores.alerts.cone({
      ...coneQueryArgs(args, ctx),
      limit: pageSizeArg(args.first, 'first', ctx.config),
    });
    return hits.map((hit): ConeResult => ({ objectId: hit.objectId, distanceArcsec: hit.distanceArcsec }));
  }

  @Query(() => ConePage, {
    description:
      'Objects with an alert within the radius, nearest first, by pages: `hasNextPage` says whether more lie ' +
      'beyond, `endCursor` (as `after`) reads them. Keyset pages: each costs the same however deep.',
    complexity: coneSearchCost,
  })
  async coneSearchPage(
    @Args(() => ConeSearchPageArgs) args: ConeSearchPageArgs,
    @Ctx() ctx: ServerContext,
  ): Promise<ConePage> {
    const query = coneQueryArgs(args, ctx);
    const size = pageSizeArg(args.first, 'first', ctx.config);
    const after = args.after == null ? undefined : decodeConeCursor(args.after, 'after');
    // One hit more than the page tells whether another page follows.
    const hits = await ctx.stores.alerts.cone({ ...query, after, limit: size + 1 });
    const page = hits.slice(0, size);
    const last = page.at(-1);
    return {
      items: page.map((hit) => ({ objectId: hit.objectId, distanceArcsec: hit.distanceArcsec })),
      endCursor: last === undefined ? null : encodeConeCursor(last),
      hasNextPage: hits.length > size,
    };
  }

  @FieldResolver(() => AstroObject)
  async object(@Root() result: ConeResult, @Ctx() ctx: ServerContext): Promise<AstroObject> {
    const record = await ctx.loaders.object.load(result.objectId);
    // The cone reads alerts; an object row is written in the same batch, so it exists.
    if (record === null) throw new Error(`object ${result.objectId} has alerts but no object row`);
    return toAstroObject(record);
  }

  @Query(() => [AstroObject], {
    description:
      'Objects of a class with an alert in the time window, most recent first. Window: sinceJd..untilJd, ' +
      'or the last `lastDays` days (default 7).',
    complexity: pageCost(SCAN_COST),
  })
  async latestObjects(
    @Arg('label', () => String) label: string,
    @Arg('sinceJd', () => Float, { nullable: true }) sinceJd: number | null,
    @Arg('untilJd', () => Float, { nullable: true }) untilJd: number | null,
    @Arg('lastDays', () => Float, { nullable: true }) lastDays: number | null,
    @Arg('trend', () => String, { nullable: true, description: 'RISING or FADING' }) trend: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Ctx() ctx: ServerContext,
  ): Promise<AstroObject[]> {
    if (trend != null && !(TRENDS as readonly string[]).includes(trend)) {
      throw badInput('trend', `must be one of ${TRENDS.join(', ')}`);
    }
    const nowJd = Date.now() / 86_400_000 + UNIX_EPOCH_JD;
    const until = untilJd == null ? nowJd : finiteArg(untilJd, 'untilJd');
    const since =
      sinceJd != null ? finiteArg(sinceJd, 'sinceJd') : until - finiteArg(lastDays ?? 7, 'lastDays', 0, 3650);
    if (since > until) throw badInput('sinceJd', 'must not be after untilJd');
    const limit = pageSizeArg(first, 'first', ctx.config);
    await classArg(label, 'label', ctx);
    const ids = await ctx.stores.alerts.latestByClass({
      label,
      jdMin: since,
      jdMax: until,
      rising: trend == null ? undefined : trend === 'RISING',
      limit,
    });
    const records = await ctx.loaders.object.loadMany(ids);
    return records.flatMap((record) =>
      record === null || record instanceof Error ? [] : [toAstroObject(record)],
    );
  }

  @Query(() => [ClassCountType], {
    description: 'Every class with its numbers of alerts and objects.',
    complexity: ({ childComplexity }) => SCAN_COST + LABELS * (1 + childComplexity),
  })
  async classes(@Ctx() ctx: ServerContext): Promise<ClassCountType[]> {
    return ctx.stores.alerts.classCounts();
  }

  @Query(() => [NightStatsType], {
    description: 'Alerts and objects per night (and per class), oldest first.',
    complexity: nightStatsCost,
  })
  async nightStats(
    @Arg('fromNight', () => String, { description: 'YYYY-MM-DD' }) fromNight: string,
    @Arg('toNight', () => String, { description: 'YYYY-MM-DD' }) toNight: string,
    @Ctx() ctx: ServerContext,
  ): Promise<NightStatsType[]> {
    for (const [name, value] of [
      ['fromNight', fromNight],
      ['toNight', toNight],
    ] as const) {
      if (!NIGHT.test(value) || Number.isNaN(Date.parse(value)))
        throw badInput(name, 'must be a date YYYY-MM-DD');
    }
    if (fromNight > toNight) throw badInput('fromNight', 'must not be after toNight');
    return ctx.stores.alerts.nightStats(fromNight, toNight);
  }

  @Query(() => [AstroObject], {
    description: 'Objects whose alerts were matched to this solar-system object.',
    complexity: pageCost(SCAN_COST),
  })
  async solarSystemObjects(
    @Arg('name', () => String, { description: 'MPC name or number, as in ssnamenr' }) name: string,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Ctx() ctx: ServerContext,
  ): Promise<AstroObject[]> {
    if (name.trim().length === 0 || name.length > 100) throw badInput('name', 'must be 1 to 100 characters');
    const ids = await ctx.stores.alerts.objectIdsBySolarSystemName(
      name.trim(),
      pageSizeArg(first, 'first', ctx.config),
    );
    const records = await ctx.loaders.object.loadMany(ids);
    return records.flatMap((record) =>
      record === null || record instanceof Error ? [] : [toAstroObject(record)],
    );
  }

  @Query(() => [CatalogType], {
    description: 'Catalogs loaded for cross-matching, with their sizes.',
    complexity: listCost(LABELS),
  })
  async catalogs(@Ctx() ctx: ServerContext): Promise<CatalogType[]> {
    const catalogs = await ctx.stores.catalogs.list();
    return catalogs.map((catalog) => ({
      name: catalog.name,
      rows: catalog.rowCount,
      radiusArcsec: catalog.radiusArcsec,
      overriding: catalog.overriding,
      loadedAt: catalog.loadedAt.toISOString(),
    }));
  }
}
