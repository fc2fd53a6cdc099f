// Alerts and objects by id (single and bulk), and what an object carries: light curve, alerts, classification
// history, cross-matches, cutouts. Every field goes through the request's DataLoaders (no N+1).
import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { ServerContext } from './context.ts';
import { alertIdArg, idListArg, objectIdArg } from './arguments.ts';
import { Alert, CutoutLinks } from './alert.type.ts';
import { cutoutLinks, toAlert, toAstroObject, toClassifications } from './mappers.ts';
import { AstroObject } from './object.type.ts';
import { BandLightCurve, Classification, Crossmatch, LightCurvePointType } from './object-parts.type.ts';
import { groupBy } from '../util/group-by.ts';
import {
  ALERTS_PER_OBJECT,
  BANDS_PER_OBJECT,
  CROSSMATCHES_PER_OBJECT,
  idListCost,
  LIGHT_CURVE_POINTS,
  listCost,
} from './cost.ts';

@Resolver(() => Alert)
export class AlertResolver {
  @Query(() => Alert, { nullable: true, description: 'An alert by its candid (ZTF) or diaSourceId (Rubin).' })
  async alert(
    @Arg('alertId', () => String) alertId: string,
    @Ctx() ctx: ServerContext,
  ): Promise<Alert | null> {
    const record = await ctx.loaders.alert.load(alertIdArg(alertId, 'alertId'));
    return record === null ? null : toAlert(record, ctx.baseUrl);
  }

  @Query(() => [Alert], {
    description: 'Alerts by id, in the order asked; unknown ids are left out.',
    complexity: idListCost('alertIds'),
  })
  async alerts(
    @Arg('alertIds', () => [String]) alertIds: string[],
    @Ctx() ctx: ServerContext,
  ): Promise<Alert[]> {
    const ids = idListArg(alertIds, 'alertIds', ctx.config, alertIdArg);
    const records = await ctx.loaders.alert.loadMany(ids);
    return records.flatMap((record) =>
      record === null || record instanceof Error ? [] : [toAlert(record, ctx.baseUrl)],
    );
  }

  @FieldResolver(() => AstroObject, { nullable: true, description: 'The object this alert belongs to.' })
  async object(@Root() alert: Alert, @Ctx() ctx: ServerContext): Promise<AstroObject | null> {
    const record = await ctx.loaders.object.load(alert.objectId);
    return record === null ? null : toAstroObject(record);
  }
}

@Resolver(() => AstroObject)
export class ObjectResolver {
  @Query(() => AstroObject, { nullable: true, description: 'An object by its objectId / diaObjectId.' })
  async object(
    @Arg('objectId', () => String) objectId: string,
    @Ctx() ctx: ServerContext,
  ): Promise<AstroObject | null> {
    const record = await ctx.loaders.object.load(objectIdArg(objectId, 'objectId'));
    return record === null ? null : toAstroObject(record);
  }

  @Query(() => [AstroObject], {
    description: 'Objects by id (bulk), in the order asked; unknown ids left out.',
    complexity: idListCost('objectIds'),
  })
  async objects(
    @Arg('objectIds', () => [String]) objectIds: string[],
    @Ctx() ctx: ServerContext,
  ): Promise<AstroObject[]> {
    const ids = idListArg(objectIds, 'objectIds', ctx.config, objectIdArg);
    const records = await ctx.loaders.object.loadMany(ids);
    return records.flatMap((record) =>
      record === null || record instanceof Error ? [] : [toAstroObject(record)],
    );
  }

  @FieldResolver(() => [LightCurvePointType], {
    description: 'Every point, all bands, by time (detections, upper limits, forced photometry).',
    complexity: listCost(LIGHT_CURVE_POINTS),
  })
  async lightCurve(@Root() object: AstroObject, @Ctx() ctx: ServerContext): Promise<LightCurvePointType[]> {
    const points = await ctx.loaders.lightCurve.load(object.objectId);
    return points.map((point) => ({ ...point, sourceId: point.sourceId?.toString() ?? null }));
  }

  @FieldResolver(() => [BandLightCurve], {
    description: 'The light curve split per band.',
    complexity: listCost(BANDS_PER_OBJECT),
  })
  async lightCurveByBand(@Root() object: AstroObject, @Ctx() ctx: ServerContext): Promise<BandLightCurve[]> {
    const points = await this.lightCurve(object, ctx);
    return [...groupBy(points, (point) => point.band)].map(([band, inBand]) => ({
      band,
      detections: inBand.filter((point) => point.kind === 'detection'),
      upperLimits: inBand.filter((point) => point.kind !== 'detection'),
    }));
  }

  @FieldResolver(() => [Alert], {
    description: 'Every alert of the object, oldest first.',
    complexity: listCost(ALERTS_PER_OBJECT),
  })
  async alerts(@Root() object: AstroObject, @Ctx() ctx: ServerContext): Promise<Alert[]> {
    const records = await ctx.loaders.alertsOfObject.load(object.objectId);
    return records.map((record) => toAlert(record, ctx.baseUrl));
  }

  @FieldResolver(() => Classification, {
    nullable: true,
    description: 'The classification of the latest alert: label and every classifier score.',
  })
  async classification(
    @Root() object: AstroObject,
    @Ctx() ctx: ServerContext,
  ): Promise<Classification | null> {
    const history = await this.classificationHistory(object, ctx);
    return history.at(-1) ?? null;
  }

  @FieldResolver(() => [Classification], {
    description: 'Classification of every alert, oldest first, with classifier names and versions.',
    complexity: listCost(ALERTS_PER_OBJECT),
  })
  async classificationHistory(
    @Root() object: AstroObject,
    @Ctx() ctx: ServerContext,
  ): Promise<Classification[]> {
    return toClassifications(await ctx.loaders.classifications.load(object.objectId));
  }

  @FieldResolver(() => [Crossmatch], {
    description: 'Catalog counterparts found for its alerts.',
    complexity: listCost(CROSSMATCHES_PER_OBJECT),
  })
  async crossmatches(@Root() object: AstroObject, @Ctx() ctx: ServerContext): Promise<Crossmatch[]> {
    const rows = await ctx.loaders.crossmatches.load(object.objectId);
    return rows.map((row) => ({
      ...row,
      alertId: row.alertId.toString(),
      type: row.type === '' ? null : row.type,
    }));
  }

  @FieldResolver(() => CutoutLinks, { description: 'Cutouts of the latest alert.' })
  cutouts(@Root() object: AstroObject, @Ctx() ctx: ServerContext): CutoutLinks {
    return cutoutLinks(BigInt(object.lastAlertId), ctx.baseUrl);
  }
}
