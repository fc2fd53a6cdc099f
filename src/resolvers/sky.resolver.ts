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
import { coneArgs, finiteArg, pageSizeArg } from './arguments.ts';
import { toAstroObject } from './mappers.ts';
import { AstroObject } from './object.type.ts';
import { ConeResult } from './object-parts.type.ts';
import { coneSearchCost, LABELS, listCost, nightStatsCost, pageCost, SCAN_COST } from './cost.ts';
import { healpixCenter, healpixResolutionArcsec } from '../sky/healpix.ts';

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

  @Field(() => Int, { nullable: true })
  first?: number;
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
const NIGHT = /^\d{4}-\d{2}-\d{2}$/;
/** JD of the Unix epoch: converts "now" into the time axis of the alerts. */
const UNIX_EPOCH_JD = 2440587.5;

@Resolver(() => ConeResult)
export class SkyResolver {
  @Query(() => [ConeResult], {
    description: 'Objects with an alert within the radius, nearest first.',
    complexity: coneSearchCost,
  })
  async coneSearch(@Args(() => ConeSearchArgs) args: ConeSearchArgs, @Ctx() ctx: ServerContext) {
    const cone = coneArgs(args, '', ctx.config);
    const firstJdMin =
      args.firstDetectedAfterJd == null
        ? undefined
        : finiteArg(args.firstDetectedAfterJd, 'firstDetectedAfterJd');
    const firstJdMax =
      args.firstDetectedBeforeJd == null
        ? undefined
        : finiteArg(args.firstDetectedBeforeJd, 'firstDetectedBeforeJd');
    const hits = await ctx.stores.alerts.cone({
      ...cone,
      firstJdMin,
      firstJdMax,
      limit: pageSizeArg(args.first, 'first', ctx.config),
    });
    return hits.map((hit): ConeResult => ({ objectId: hit.objectId, distanceArcsec: hit.distanceArcsec }));
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
    if (label.length === 0 || label.length > 100) throw badInput('label', 'must be 1 to 100 characters');
    if (trend != null && !(TRENDS as readonly string[]).includes(trend)) {
      throw badInput('trend', `must be one of ${TRENDS.join(', ')}`);
    }
    const nowJd = Date.now() / 86_400_000 + UNIX_EPOCH_JD;
    const until = untilJd == null ? nowJd : finiteArg(untilJd, 'untilJd');
    const since =
      sinceJd != null ? finiteArg(sinceJd, 'sinceJd') : until - finiteArg(lastDays ?? 7, 'lastDays', 0, 3650);
    if (since > until) throw badInput('sinceJd', 'must not be after untilJd');
    const ids = await ctx.stores.alerts.latestByClass({
      label,
      jdMin: since,
      jdMax: until,
      rising: trend == null ? undefined : trend === 'RISING',
      limit: pageSizeArg(first, 'first', ctx.config),
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
