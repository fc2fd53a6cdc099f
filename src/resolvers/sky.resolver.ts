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
import { JD_SCALE } from './units.ts';
import { healpixCenter, healpixResolutionArcsec } from '../sky/healpix.ts';

@ArgsType()
class ConeSearchArgs {
  @Field(() => Float, { description: 'Right ascension of the centre, degrees [0, 360].' })
  ra!: number;

  @Field(() => Float, { description: 'Declination of the centre, degrees [-90, 90].' })
  dec!: number;

  @Field(() => Float, { description: 'Radius in arcsec (> 0, at most server.maxConeRadiusArcsec).' })
  radiusArcsec!: number;

  @Field(() => Float, {
    nullable: true,
    description: `Only objects first detected at or after this JD. ${JD_SCALE}`,
  })
  firstDetectedAfterJd?: number;

  @Field(() => Float, {
    nullable: true,
    description: `Only objects first detected at or before this JD. ${JD_SCALE}`,
  })
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

/** Non-empty cells a sky map is priced at: a night's alerts cover a fraction of the sky. */
const SKY_MAP_CELLS = 1000;

@ObjectType({ description: 'Alerts in one HEALPix cell of a sky map.' })
class SkyCellType {
  @Field(() => Int, { description: 'NESTED pixel at the map order.' })
  pixel!: number;

  @Field(() => Float, { description: 'Centre of the cell, degrees.' })
  ra!: number;

  @Field(() => Float)
  dec!: number;

  @Field(() => Int)
  alerts!: number;
}

@ObjectType({ description: 'Stored alerts counted per HEALPix (NESTED) cell: the non-empty cells only.' })
class SkyMapType {
  @Field(() => Int)
  order!: number;

  @Field(() => Int)
  nside!: number;

  @Field(() => Float, { description: 'Mean cell width, arcsec.' })
  cellArcsec!: number;

  @Field(() => Int, { description: 'Alerts in every cell.' })
  alerts!: number;

  @Field(() => [SkyCellType], { complexity: listCost(SKY_MAP_CELLS) })
  cells!: SkyCellType[];
}

/** Deepest sky-map order: 49,152 cells of 0.9 degree, enough for a map drawn in a browser. */
export const SKY_MAP_MAX_ORDER = 6;
const SKY_MAP_DEFAULT_ORDER = 5;

export const TRENDS = ['RISING', 'FADING'] as const;

export const WINDOW_ENDS = ['GIVEN', 'NEWEST_ALERT', 'NOW'] as const;

@ObjectType({ description: 'The objects of latestObjects, with the window they were read in.' })
class LatestObjectsWindow {
  @Field(() => [AstroObject], { complexity: listCost(1) })
  objects!: AstroObject[];

  @Field(() => Float, { description: 'Window start, JD (as Alert.jd: UTC for ZTF, TAI for Rubin).' })
  sinceJd!: number;

  @Field(() => Float, { description: 'Window end, JD (as Alert.jd: UTC for ZTF, TAI for Rubin).' })
  untilJd!: number;

  @Field(() => String, {
    description:
      'Where the end came from: GIVEN (untilJd), NEWEST_ALERT (the newest stored alert), NOW (the wall clock: ' +
      'the archive holds no alert).',
  })
  untilFrom!: (typeof WINDOW_ENDS)[number];

  @Field(() => Float, {
    nullable: true,
    description: 'JD (as Alert.jd: UTC for ZTF, TAI for Rubin) of the newest stored alert; null: none.',
  })
  newestAlertJd!: number | null;

  @Field(() => String, { nullable: true, description: 'Why `objects` is empty; null when it is not.' })
  emptyReason!: string | null;
}

@ArgsType()
class LatestObjectsArgs {
  @Field(() => String, { description: 'A class (see alertClasses).' })
  label!: string;

  @Field(() => Float, {
    nullable: true,
    description: 'Window start, JD (as Alert.jd: UTC for ZTF, TAI for Rubin).',
  })
  sinceJd!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Window end, JD (as Alert.jd: UTC for ZTF, TAI for Rubin).',
  })
  untilJd!: number | null;

  @Field(() => Float, { nullable: true, description: 'Days before the window end (default 7).' })
  lastDays!: number | null;

  @Field(() => String, { nullable: true, description: 'RISING or FADING' })
  trend!: string | null;

  @Field(() => Int, { nullable: true })
  first!: number | null;
}

async function latestObjectsIn(args: LatestObjectsArgs, ctx: ServerContext): Promise<LatestObjectsWindow> {
  const { label, trend } = args;
  if (trend != null && !(TRENDS as readonly string[]).includes(trend)) {
    throw badInput('trend', `must be one of ${TRENDS.join(', ')}`);
  }
  const givenSince = args.sinceJd == null ? null : finiteArg(args.sinceJd, 'sinceJd');
  const givenUntil = args.untilJd == null ? null : finiteArg(args.untilJd, 'untilJd');
  const lastDays = finiteArg(args.lastDays ?? 7, 'lastDays', 0, 3650);
  if (givenSince !== null && givenUntil !== null && givenSince > givenUntil) {
    throw badInput('sinceJd', 'must not be after untilJd');
  }
  const limit = pageSizeArg(args.first, 'first', ctx.config);
  await classArg(label, 'label', ctx);

  const newestAlertJd = await ctx.stores.alerts.newestAlertJd();
  const untilFrom = givenUntil !== null ? 'GIVEN' : newestAlertJd !== null ? 'NEWEST_ALERT' : 'NOW';
  // A window given only by its start that begins after the newest alert ends where it begins: empty, said why.
  const until =
    givenUntil ?? Math.max(newestAlertJd ?? Date.now() / 86_400_000 + UNIX_EPOCH_JD, givenSince ?? -Infinity);
  const since = givenSince ?? until - lastDays;
  const ids = await ctx.stores.alerts.latestByClass({
    label,
    jdMin: since,
    jdMax: until,
    rising: trend == null ? undefined : trend === 'RISING',
    limit,
  });
  const records = await ctx.loaders.object.loadMany(ids);
  const objects = records.flatMap((record) =>
    record === null || record instanceof Error ? [] : [toAstroObject(record)],
  );
  const window = { sinceJd: since, untilJd: until, untilFrom, newestAlertJd } as const;
  if (objects.length > 0) return { objects, ...window, emptyReason: null };
  return { objects, ...window, emptyReason: await whyEmpty(label, trend, window, ctx) };
}

/** Why a window holds no object of the class: no alerts at all, a window after them, or none of the class in it. */
async function whyEmpty(
  label: string,
  trend: string | null,
  window: { sinceJd: number; untilJd: number; newestAlertJd: number | null },
  ctx: ServerContext,
): Promise<string> {
  const range = `JD ${window.sinceJd} to ${window.untilJd}`;
  if (window.newestAlertJd === null) return 'the archive holds no alert yet';
  if (window.sinceJd > window.newestAlertJd) {
    return `the window (${range}) starts after the newest stored alert (JD ${window.newestAlertJd})`;
  }
  const newestOfClass = await ctx.stores.alerts.newestJdOfClass(label);
  const kind = trend == null ? `'${label}'` : `${trend.toLowerCase()} '${label}'`;
  if (newestOfClass === null) return `no alert of class '${label}' is stored`;
  return `no ${kind} alert in the window (${range}); the newest '${label}' alert is at JD ${newestOfClass}`;
}
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
      'Objects of a class with an alert in the time window, most recent first. Window (JD, as Alert.jd): ' +
      'sinceJd..untilJd; without untilJd it ends at the newest stored alert (not the wall clock: a replay or an ' +
      'archive ends long ago), and without sinceJd it starts `lastDays` (default 7) before its end. An unknown ' +
      'class is BAD_USER_INPUT. latestObjectsWindow answers the same with the window used and, when empty, why.',
    complexity: pageCost(SCAN_COST),
  })
  async latestObjects(
    @Args(() => LatestObjectsArgs) args: LatestObjectsArgs,
    @Ctx() ctx: ServerContext,
  ): Promise<AstroObject[]> {
    return (await latestObjectsIn(args, ctx)).objects;
  }

  @Query(() => LatestObjectsWindow, {
    description:
      "latestObjects with its window: the JD range read, what its end was taken from, the archive's newest " +
      'alert, and why the answer is empty when it is.',
    complexity: pageCost(SCAN_COST),
  })
  async latestObjectsWindow(
    @Args(() => LatestObjectsArgs) args: LatestObjectsArgs,
    @Ctx() ctx: ServerContext,
  ): Promise<LatestObjectsWindow> {
    return latestObjectsIn(args, ctx);
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

  @Query(() => SkyMapType, {
    description:
      'Stored alerts per HEALPix cell (NESTED, order 0 to 6, default 5), of one night and/or one class when given.',
    complexity: ({ childComplexity }) => SCAN_COST + childComplexity,
  })
  async skyMap(
    @Arg('order', () => Int, { nullable: true }) order: number | null,
    @Arg('night', () => String, { nullable: true, description: 'YYYY-MM-DD' }) night: string | null,
    @Arg('label', () => String, { nullable: true, description: 'A class, as in classes' })
    label: string | null,
    @Ctx() ctx: ServerContext,
  ): Promise<SkyMapType> {
    const depth = order ?? SKY_MAP_DEFAULT_ORDER;
    if (!Number.isInteger(depth) || depth < 0 || depth > SKY_MAP_MAX_ORDER) {
      throw badInput('order', `must be an integer from 0 to ${SKY_MAP_MAX_ORDER}`);
    }
    if (night != null && (!NIGHT.test(night) || Number.isNaN(Date.parse(night)))) {
      throw badInput('night', 'must be a date YYYY-MM-DD');
    }
    if (label != null && (label.length === 0 || label.length > 100)) {
      throw badInput('label', 'must be 1 to 100 characters');
    }
    const cells = await ctx.stores.alerts.skyMap({
      order: depth,
      night: night ?? undefined,
      label: label ?? undefined,
    });
    return {
      order: depth,
      nside: 2 ** depth,
      cellArcsec: healpixResolutionArcsec(depth),
      alerts: cells.reduce((sum, cell) => sum + cell.alerts, 0),
      cells: cells.map((cell) => ({ ...cell, ...healpixCenter(depth, cell.pixel) })),
    };
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
