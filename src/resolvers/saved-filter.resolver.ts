// Saved filters: create, update, delete (owner or admin), the viewer's own list (plus every distributed one on
// request), one by id. A distributed filter is public (its topics are), so anyone may read it; someone else's
// private filter answers NOT_FOUND like an unknown id, so its existence does not leak, and FORBIDDEN is only
// for a filter the viewer can see but not change. The filter is validated here, once, and stored normalised.
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { badInput, forbidden, notFound } from './errors.ts';
import { hasRole, type Viewer } from './viewer.ts';
import type { SavedFilter as SavedFilterRecord, SavedFilterStore } from '../storage/saved-filter-store.ts';
import { classFilterArg, type ClassStores } from './classes.ts';
import { CreateSavedFilterArgs, UpdateSavedFilterArgs, savedFilterName } from './saved-filter.input.ts';
import { SavedFilter, toSavedFilter } from './saved-filter.type.ts';
import { listCost, OWNED_ITEMS } from './cost.ts';

/** config.pipeline's default distributionPrefix, for a context that does not say. */
const DEFAULT_DISTRIBUTION_PREFIX = 'fink';

/** What these resolvers read of the ServerContext. */
export interface SavedFilterContext {
  viewer: Viewer | null;
  config: Pick<ServerConfig, 'maxConeRadiusArcsec'>;
  /** `catalogs`: the overriding catalogs' types, which with Fink's labels are the classes a filter may name. */
  stores: { savedFilters: SavedFilterStore } & ClassStores;
  logger: Logger;
  /** config.pipeline.distributionPrefix: the topics shown for distributed filters. */
  distributionPrefix?: string;
}

@Resolver(() => SavedFilter)
export class SavedFilterResolver {
  @Query(() => [SavedFilter], {
    complexity: listCost(OWNED_ITEMS),
    description: "The viewer's saved filters, and with includeDistributed every distributed one; by name.",
  })
  async savedFilters(
    @Arg('includeDistributed', () => Boolean, { defaultValue: false }) includeDistributed: boolean,
    @Ctx() ctx: SavedFilterContext,
  ): Promise<SavedFilter[]> {
    const [own, distributed] = await Promise.all([
      ctx.viewer === null ? [] : ctx.stores.savedFilters.byOwner([ctx.viewer.user]),
      includeDistributed ? ctx.stores.savedFilters.distributed() : [],
    ]);
    const byId = new Map<string, SavedFilterRecord>();
    for (const filter of [...own, ...distributed]) byId.set(filter.id, filter);
    return [...byId.values()]
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
      .map((filter) => output(ctx, filter));
  }

  @Query(() => SavedFilter, {
    description: "A saved filter by id: NOT_FOUND when it does not exist or is someone else's private one.",
  })
  async savedFilter(
    @Arg('id', () => String) id: string,
    @Ctx() ctx: SavedFilterContext,
  ): Promise<SavedFilter> {
    return output(ctx, await visible(ctx, id));
  }

  @Authorized('annotator')
  @Mutation(() => SavedFilter, { description: 'Saves a filter owned by the viewer.' })
  async createSavedFilter(
    @Args(() => CreateSavedFilterArgs) args: CreateSavedFilterArgs,
    @Ctx() ctx: SavedFilterContext,
  ): Promise<SavedFilter> {
    const viewer = requireViewer(ctx);
    const name = savedFilterName(args.name, args.distribute, 'name');
    const definition = await classFilterArg(args.filter, 'filter', ctx);
    if (args.distribute) await assertDistributedNameFree(ctx, name, null);
    const [saved] = await ctx.stores.savedFilters.create([
      { owner: viewer.user, name, definition, distribute: args.distribute },
    ]);
    ctx.logger.info(
      { savedFilterId: saved!.id, user: viewer.user, distribute: args.distribute },
      'saved filter created',
    );
    return output(ctx, saved!);
  }

  @Authorized('annotator')
  @Mutation(() => SavedFilter, {
    description: 'Changes the name, the filter and/or distribution (absent arguments: unchanged).',
  })
  async updateSavedFilter(
    @Args(() => UpdateSavedFilterArgs) args: UpdateSavedFilterArgs,
    @Ctx() ctx: SavedFilterContext,
  ): Promise<SavedFilter> {
    const viewer = requireViewer(ctx);
    const current = await changeable(ctx, viewer, args.id);
    const distribute = args.distribute ?? current.distribute;
    // A filter that becomes distributed must have a topic-safe name even when the name itself is unchanged.
    const name = savedFilterName(
      args.name ?? current.name,
      distribute,
      args.name == null ? 'distribute' : 'name',
    );
    const definition =
      args.filter == null ? current.definition : await classFilterArg(args.filter, 'filter', ctx);
    if (distribute) await assertDistributedNameFree(ctx, name, current.id);
    const [saved] = await ctx.stores.savedFilters.update([{ ...current, name, definition, distribute }]);
    ctx.logger.info({ savedFilterId: current.id, user: viewer.user, distribute }, 'saved filter updated');
    return output(ctx, saved!);
  }

  @Authorized('annotator')
  @Mutation(() => Boolean, { description: 'Deletes a saved filter (and stops its distribution).' })
  async deleteSavedFilter(
    @Arg('id', () => String) id: string,
    @Ctx() ctx: SavedFilterContext,
  ): Promise<boolean> {
    const viewer = requireViewer(ctx);
    const current = await changeable(ctx, viewer, id);
    await ctx.stores.savedFilters.delete([current.id]);
    ctx.logger.info({ savedFilterId: current.id, user: viewer.user }, 'saved filter deleted');
    return true;
  }
}

function output(ctx: SavedFilterContext, filter: SavedFilterRecord): SavedFilter {
  return toSavedFilter(filter, ctx.distributionPrefix ?? DEFAULT_DISTRIBUTION_PREFIX);
}

function requireViewer(ctx: SavedFilterContext): Viewer {
  if (ctx.viewer === null) throw new Error('an @Authorized resolver ran without a viewer');
  return ctx.viewer;
}

function canSee(viewer: Viewer | null, filter: SavedFilterRecord): boolean {
  return filter.distribute || viewer?.user === filter.owner || hasRole(viewer, 'admin');
}

async function visible(ctx: SavedFilterContext, id: string): Promise<SavedFilterRecord> {
  const [filter] = await ctx.stores.savedFilters.byIds([id]);
  if (filter === undefined || !canSee(ctx.viewer, filter)) throw notFound(`saved filter ${id}`);
  return filter;
}

/** The filter when the viewer may change it: NOT_FOUND when they cannot see it, FORBIDDEN when not theirs. */
async function changeable(ctx: SavedFilterContext, viewer: Viewer, id: string): Promise<SavedFilterRecord> {
  const filter = await visible(ctx, id);
  if (filter.owner !== viewer.user && !hasRole(viewer, 'admin')) {
    throw forbidden('only the owner of a saved filter or an admin may change it');
  }
  return filter;
}

/**
 * Distributed names are unique: two filters would publish to the same topics. Checked before writing, so two
 * simultaneous creations may both pass; the distribution service then runs the older one under that name.
 */
async function assertDistributedNameFree(ctx: SavedFilterContext, name: string, selfId: string | null) {
  const taken = (await ctx.stores.savedFilters.distributed()).some((f) => f.name === name && f.id !== selfId);
  if (taken) throw badInput('name', `a distributed filter named '${name}' already exists`);
}
