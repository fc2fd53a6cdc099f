// Watchlists: create, update (name, visibility, targets), delete (owner or admin), list (mine + public), one by
// id with its targets and hits, and the watchlists an object hit. A private watchlist of someone else answers
// NOT_FOUND, exactly like an id that does not exist, so that its existence does not leak; FORBIDDEN is only for
// a watchlist the viewer can see but not change (someone else's public one).
import { randomUUID } from 'node:crypto';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { badInput, forbidden, notFound } from './errors.ts';
import type { Viewer } from './viewer.ts';
import type { HitCursor, Watchlist as WatchlistRecord } from '../storage/watchlist-store.ts';
import { pageSizeArg } from './arguments.ts';
import { AstroObject } from './object.type.ts';
import {
  CreateWatchlistArgs,
  UpdateWatchlistArgs,
  watchlistNameArg,
  watchlistTargetsArg,
} from './watchlist.input.ts';
import {
  toWatchlist,
  toWatchlistHit,
  Watchlist,
  WatchlistHitConnection,
  WatchlistTargetType,
} from './watchlist.type.ts';
import { canEditWatchlist, canSeeWatchlist, type WatchlistContext } from './watchlist-loaders.ts';
import { listCost, OWNED_ITEMS, pageCost, TARGETS_PER_WATCHLIST, WATCHLISTS_PER_OBJECT } from './cost.ts';

const WATCHLIST_ID = /^[A-Za-z0-9_-]{1,64}$/;

@Resolver(() => Watchlist)
export class WatchlistResolver {
  @Query(() => [Watchlist], {
    description: "The viewer's own watchlists and every public one, by name.",
    complexity: listCost(OWNED_ITEMS),
  })
  async watchlists(@Ctx() ctx: WatchlistContext): Promise<Watchlist[]> {
    const records = await ctx.stores.watchlists.visibleTo(ctx.viewer?.user ?? null);
    return records.map(toWatchlist);
  }

  @Query(() => Watchlist, {
    description: 'A watchlist by id: NOT_FOUND when it does not exist or is private.',
  })
  async watchlist(@Arg('id', () => String) id: string, @Ctx() ctx: WatchlistContext): Promise<Watchlist> {
    return toWatchlist(await visibleWatchlist(ctx, id, 'id'));
  }

  @Authorized('annotator')
  @Mutation(() => Watchlist, { description: 'Creates a watchlist owned by the viewer.' })
  async createWatchlist(
    @Args(() => CreateWatchlistArgs) args: CreateWatchlistArgs,
    @Ctx() ctx: WatchlistContext,
  ): Promise<Watchlist> {
    const viewer = requireViewer(ctx);
    const name = watchlistNameArg(args.name, 'name');
    const targets = watchlistTargetsArg(args.targets, 'targets');
    const [saved] = await ctx.stores.watchlists.save([
      { id: randomUUID(), owner: viewer.user, name, public: args.public, previous: null, targets },
    ]);
    ctx.logger.info(
      { watchlistId: saved!.id, user: viewer.user, targets: targets.length },
      'watchlist created',
    );
    return toWatchlist(saved!);
  }

  @Authorized('annotator')
  @Mutation(() => Watchlist, {
    description:
      'Changes the name, the visibility and/or replaces the targets (absent arguments: unchanged).',
  })
  async updateWatchlist(
    @Args(() => UpdateWatchlistArgs) args: UpdateWatchlistArgs,
    @Ctx() ctx: WatchlistContext,
  ): Promise<Watchlist> {
    const viewer = requireViewer(ctx);
    const name = args.name === undefined || args.name === null ? null : watchlistNameArg(args.name, 'name');
    const targets =
      args.targets === undefined || args.targets === null
        ? null
        : watchlistTargetsArg(args.targets, 'targets');
    const current = await editableWatchlist(ctx, viewer, args.id);
    const [saved] = await ctx.stores.watchlists.save([
      {
        id: current.id,
        owner: current.owner,
        name: name ?? current.name,
        public: args.public ?? current.public,
        previous: current,
        targets,
      },
    ]);
    ctx.logger.info({ watchlistId: current.id, user: viewer.user }, 'watchlist updated');
    return toWatchlist(saved!);
  }

  @Authorized('annotator')
  @Mutation(() => Boolean, {
    description: 'Deletes a watchlist (owner or admin); its recorded hits stay stored.',
  })
  async deleteWatchlist(@Arg('id', () => String) id: string, @Ctx() ctx: WatchlistContext): Promise<boolean> {
    const viewer = requireViewer(ctx);
    const current = await editableWatchlist(ctx, viewer, id);
    await ctx.stores.watchlists.save([
      {
        id: current.id,
        owner: current.owner,
        name: current.name,
        public: current.public,
        previous: current,
        targets: [],
        deleted: true,
      },
    ]);
    ctx.logger.info({ watchlistId: current.id, user: viewer.user }, 'watchlist deleted');
    return true;
  }

  @FieldResolver(() => [WatchlistTargetType], {
    description: 'Every target, in the order given.',
    complexity: listCost(TARGETS_PER_WATCHLIST),
  })
  async targets(@Root() watchlist: Watchlist, @Ctx() ctx: WatchlistContext): Promise<WatchlistTargetType[]> {
    return ctx.loaders.watchlists.targets.load(watchlist.record);
  }

  @FieldResolver(() => WatchlistHitConnection, {
    description: 'Alerts that fell in a target, newest first.',
    complexity: pageCost(10),
  })
  async hits(
    @Root() watchlist: Watchlist,
    @Arg('first', () => Int, { nullable: true, description: 'Page size (server default when absent).' })
    first: number | null | undefined,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' })
    after: string | null | undefined,
    @Ctx() ctx: WatchlistContext,
  ): Promise<WatchlistHitConnection> {
    const size = pageSizeArg(first, 'first', ctx.config);
    const cursor = after === undefined || after === null ? null : decodeHitCursor(after, 'after');
    const page = await ctx.stores.watchlists.hits(watchlist.id, { first: size, after: cursor });
    const last = page.hits.at(-1);
    return {
      nodes: page.hits.map(toWatchlistHit),
      endCursor: last === undefined ? null : encodeHitCursor({ jd: last.jd, alertId: last.alertId }),
      hasNextPage: page.hasNextPage,
    };
  }
}

@Resolver(() => AstroObject)
export class ObjectWatchlistsResolver {
  @FieldResolver(() => [Watchlist], {
    description: 'Watchlists visible to the viewer that this object hit.',
    complexity: listCost(WATCHLISTS_PER_OBJECT),
  })
  async watchlists(@Root() object: AstroObject, @Ctx() ctx: WatchlistContext): Promise<Watchlist[]> {
    const records = await ctx.loaders.watchlists.byObject.load(object.objectId);
    return records.filter((record) => canSeeWatchlist(ctx.viewer, record)).map(toWatchlist);
  }
}

/** Opaque to clients: base64url of "jd:alertId" (jd as JavaScript prints it, which reads back exactly). */
export function encodeHitCursor(cursor: HitCursor): string {
  return Buffer.from(`${cursor.jd}:${cursor.alertId}`).toString('base64url');
}

export function decodeHitCursor(value: string, argument: string): HitCursor {
  const match = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?):(\d{1,20})$/.exec(
    Buffer.from(value, 'base64url').toString(),
  );
  const jd = Number(match?.[1]);
  if (match === null || !Number.isFinite(jd) || BigInt(match[2]!) >= 2n ** 64n) {
    throw badInput(argument, 'is not a cursor this API returned');
  }
  return { jd, alertId: BigInt(match[2]!) };
}

/** @Authorized has run: a viewer is there; this narrows the type. */
function requireViewer(ctx: WatchlistContext): Viewer {
  if (ctx.viewer === null) throw new Error('an @Authorized resolver ran without a viewer');
  return ctx.viewer;
}

/** The watchlist when the viewer may see it; NOT_FOUND otherwise (never FORBIDDEN: existence must not leak). */
async function visibleWatchlist(
  ctx: WatchlistContext,
  id: string,
  argument: string,
): Promise<WatchlistRecord> {
  if (!WATCHLIST_ID.test(id)) throw badInput(argument, 'is not a watchlist id');
  // Read fresh, not through the request's loader: a mutation must act on the latest version.
  const [record] = await ctx.stores.watchlists.byIds([id]);
  if (record === undefined || !canSeeWatchlist(ctx.viewer, record)) throw notFound(`watchlist ${id}`);
  return record;
}

async function editableWatchlist(
  ctx: WatchlistContext,
  viewer: Viewer,
  id: string,
): Promise<WatchlistRecord> {
  const record = await visibleWatchlist(ctx, id, 'id');
  if (!canEditWatchlist(viewer, record)) throw forbidden('only the owner or an admin may change a watchlist');
  return record;
}
