// The alert filter language as plain data: what a GraphQL `AlertFilter` input becomes once validated, what a
// saved filter stores as JSON, and what the predicate (live feed, distribution) and the SQL (archive search)
// compilers read. One definition, so the three uses cannot drift apart.
//
// Semantics: the keys of one node are AND-ed, an empty node matches everything. A condition on a value that is
// unknown (a null magnitude, rate, colour, rising flag) is unknown, as in SQL: it is never selected, not even
// under `not` (three-valued logic; see filters/predicate.ts and alert-filter-sql.ts).

/** Fields `compare` accepts. The value is the GraphQL enum name (and its internal value). */
export const FilterField = {
  JD: 'JD',
  RA: 'RA',
  DEC: 'DEC',
  MAG: 'MAG',
  MAG_ERR: 'MAG_ERR',
  NDET: 'NDET',
  NLIM: 'NLIM',
  FIRST_JD: 'FIRST_JD',
  LAST_JD: 'LAST_JD',
  PEAK_MAG: 'PEAK_MAG',
  COLOR_GR: 'COLOR_GR',
  RATE: 'RATE',
  ROID: 'ROID',
} as const;
export type FilterField = (typeof FilterField)[keyof typeof FilterField];

export const ComparisonOp = { EQ: 'EQ', NE: 'NE', LT: 'LT', LTE: 'LTE', GT: 'GT', GTE: 'GTE' } as const;
export type ComparisonOp = (typeof ComparisonOp)[keyof typeof ComparisonOp];

export const FILTER_BANDS: readonly string[] = ['u', 'g', 'r', 'i', 'z', 'y'];
export const FILTER_SURVEYS: readonly string[] = ['ztf', 'lsst'];

export interface FieldComparisonSpec {
  field: FilterField;
  op: ComparisonOp;
  value: number;
}

export interface ConeSpec {
  ra: number;
  dec: number;
  radiusArcsec: number;
}

/** Inclusive bounds; at least one is present. */
export interface RangeSpec {
  min?: number;
  max?: number;
}

export interface CrossmatchSpec {
  /** Absent: any catalog. */
  catalog?: string;
  /** Absent: any type (the catalog's own class of the counterpart; '' when the catalog has none). */
  type?: string;
}

/** A validated filter node: only present keys, no nulls (validate.ts builds it). */
export interface AlertFilterSpec {
  and?: AlertFilterSpec[];
  or?: AlertFilterSpec[];
  not?: AlertFilterSpec;
  compare?: FieldComparisonSpec[];
  cone?: ConeSpec;
  band?: string[];
  survey?: string[];
  mag?: RangeSpec;
  /** mag/day, negative = brightening. */
  rate?: RangeSpec;
  /** The Fink label (the `class` column). */
  label?: string[];
  roid?: number[];
  crossmatch?: CrossmatchSpec;
  /** jd - firstJd, days. */
  sinceFirstDetectionDays?: RangeSpec;
  /** Id of a watchlist the alert hit. */
  watchlist?: string;
  rising?: boolean;
}

/** The node keys, in the order conditions are compiled (cheap, selective ones first). */
export const FILTER_KEYS = [
  'survey',
  'band',
  'roid',
  'label',
  'compare',
  'mag',
  'rate',
  'sinceFirstDetectionDays',
  'rising',
  'cone',
  'crossmatch',
  'watchlist',
  'and',
  'or',
  'not',
] as const satisfies readonly (keyof AlertFilterSpec)[];
