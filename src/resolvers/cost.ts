// What each field costs, declared next to the field with type-graphql's `complexity` option and read by the one
// analyzer in the server (src/server/limits.ts). A unit is about one value the server produces (a field of a
// row); a list multiplies the cost of one item by the number of items it is expected to hold:
//
//   field without a rule            1 + children
//   list of known size n            n x (1 + children)
//   page (`first`)                  base + first x (1 + children), first as asked (default page size when absent,
//                                   capped at server.maxPageSize: a larger one is refused by the resolver)
//   id list (`alertIds`, ...)       length x (1 + children)
//   cone search                     base + ceil(pi (r / 60")^2) + first x (1 + children): ClickHouse reads every
//                                   alert in the disc, about 1 unit per square arcminute (a 3600" cone: 11,310)
//   night statistics                nights in [fromNight, toNight] x (1 + children)
//
// Lists read per parent (a light curve, an object's alerts, ...) have no page: their sizes below are what an
// object is expected to hold, not a maximum. What bounds a request that reads more is the per-request row budget
// (server.maxRowsPerRequest) and the deadline (server.requestTimeoutMs).
import type { ComplexityEstimator, ComplexityEstimatorArgs } from 'graphql-query-complexity';

/** What an estimator needs of the configuration: the analyzer passes it as the estimator's `context`. */
export interface CostContext {
  defaultPageSize: number;
  maxPageSize: number;
  maxIds: number;
  maxConeRadiusArcsec: number;
}

/** A query that may scan a table (search, latest objects by class, solar-system names): ClickHouse's work. */
export const SCAN_COST = 100;
/** Expected sizes of lists read per parent. */
export const LIGHT_CURVE_POINTS = 200;
export const BANDS_PER_OBJECT = 3;
export const ALERTS_PER_OBJECT = 50;
export const SCORES_PER_CLASSIFICATION = 10;
export const CROSSMATCHES_PER_OBJECT = 20;
export const WATCHLISTS_PER_OBJECT = 10;
/** Labels (Fink classes, catalog types that override them) counted per night or overall. */
export const LABELS = 10;
/** Lists of one user's things (watchlists, saved filters, webhooks, follow-ups of an object). */
export const OWNED_ITEMS = 100;
/** Targets of one watchlist: the most one may have (a listing of every watchlist with its targets is refused). */
export const TARGETS_PER_WATCHLIST = 10_000;
/** Night statistics refuse ranges past this many nights' worth of cost (100 years). */
const MAX_NIGHTS = 36_525;

function contextOf(args: ComplexityEstimatorArgs): CostContext {
  return args.context as unknown as CostContext;
}

/** A list of about `size` items per parent. */
export function listCost(size: number): ComplexityEstimator {
  return ({ childComplexity }) => size * (1 + childComplexity);
}

/** The page size a `first` argument asks for, as the resolver will read it (pageSizeArg). */
export function pageSize(first: unknown, context: CostContext): number {
  if (typeof first !== 'number' || !Number.isFinite(first) || first < 1) return context.defaultPageSize;
  return Math.min(Math.floor(first), context.maxPageSize);
}

/** A page of `first` items after `base` units of work (a scan). */
export function pageCost(base: number, argument = 'first'): ComplexityEstimator {
  return (estimator) =>
    base + pageSize(estimator.args[argument], contextOf(estimator)) * (1 + estimator.childComplexity);
}

/** One item per id of `argument` (capped at server.maxIds: a longer list is refused by the resolver). */
export function idListCost(argument: string): ComplexityEstimator {
  return (estimator) => {
    const ids: unknown = estimator.args[argument];
    const length = Array.isArray(ids) ? Math.min(ids.length, contextOf(estimator).maxIds) : 1;
    return length * (1 + estimator.childComplexity);
  };
}

/**
 * Expected alerts ClickHouse reads for a disc of `radiusArcsec`: one unit per square arcminute. A radius beyond
 * the largest allowed is priced at the largest: the resolver refuses it with a clearer error than the cost's.
 */
export function coneScanCost(radiusArcsec: unknown, maxRadiusArcsec = Infinity): number {
  const radius =
    typeof radiusArcsec === 'number' && Number.isFinite(radiusArcsec) ? Math.abs(radiusArcsec) : 0;
  return Math.ceil(Math.PI * (Math.min(radius, maxRadiusArcsec) / 60) ** 2);
}

export const coneSearchCost: ComplexityEstimator = (estimator) =>
  10 +
  coneScanCost(estimator.args.radiusArcsec, contextOf(estimator).maxConeRadiusArcsec) +
  pageSize(estimator.args.first, contextOf(estimator)) * (1 + estimator.childComplexity);

/** Nights from `fromNight` to `toNight` (YYYY-MM-DD, inclusive); 1 when they do not parse (the resolver refuses). */
export function nightsBetween(fromNight: unknown, toNight: unknown): number {
  const from = typeof fromNight === 'string' ? Date.parse(fromNight) : NaN;
  const to = typeof toNight === 'string' ? Date.parse(toNight) : NaN;
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) return 1;
  return Math.min(MAX_NIGHTS, Math.floor((to - from) / 86_400_000) + 1);
}

export const nightStatsCost: ComplexityEstimator = ({ args, childComplexity }) =>
  10 + nightsBetween(args.fromNight, args.toNight) * (1 + childComplexity);
