// The filter as a function of one alert, for the live feed and distribution. Three-valued like SQL: a condition
// on a null value is unknown (null), `not` of unknown is unknown, and only `true` selects an alert. The property
// test (test/integration/filter-property.test.ts) checks that it selects exactly what storage/alert-filter-sql.ts selects.
import { conePlan, inCone } from '../sky/cone.ts';
import {
  FILTER_KEYS,
  type AlertFilterSpec,
  type ComparisonOp,
  type FilterField,
  type RangeSpec,
} from '../storage/alert-filter.ts';
import type { AlertColumns } from '../storage/alert-store.ts';

/**
 * What a filter reads of an alert: the columns of `alerts` the SQL compiler reads, its cross-matches and the
 * watchlists it hit. An alert's ScienceRecord (src/storage/science-store.ts) is one, as it arrives: the live
 * feed and distribution evaluate filters on the record raw2science computed, the archive search on its rows.
 */
export type FilterRecord = AlertColumns & {
  crossmatches: readonly { catalog: string; type: string | null }[];
  watchlistHits: readonly { watchlistId: string }[];
};

/** true, false, or null for unknown. */
type Truth = boolean | null;
type Test = (record: FilterRecord) => Truth;

const FIELD_VALUE: Record<FilterField, (r: FilterRecord) => number | null> = {
  JD: (r) => r.jd,
  RA: (r) => r.ra,
  DEC: (r) => r.dec,
  MAG: (r) => r.mag,
  MAG_ERR: (r) => r.magErr,
  NDET: (r) => r.ndet,
  NLIM: (r) => r.nlim,
  FIRST_JD: (r) => r.firstJd,
  LAST_JD: (r) => r.lastJd,
  PEAK_MAG: (r) => r.peakMag,
  COLOR_GR: (r) => r.colorGr,
  RATE: (r) => r.rate,
  ROID: (r) => r.roid,
};

const COMPARE: Record<ComparisonOp, (a: number, b: number) => boolean> = {
  EQ: (a, b) => a === b,
  NE: (a, b) => a !== b,
  LT: (a, b) => a < b,
  LTE: (a, b) => a <= b,
  GT: (a, b) => a > b,
  GTE: (a, b) => a >= b,
};

function and(tests: readonly Test[]): Test {
  if (tests.length === 1) return tests[0]!;
  return (record) => {
    let result: Truth = true;
    for (const test of tests) {
      const value = test(record);
      if (value === false) return false;
      if (value === null) result = null;
    }
    return result;
  };
}

function or(tests: readonly Test[]): Test {
  return (record) => {
    let result: Truth = false;
    for (const test of tests) {
      const value = test(record);
      if (value === true) return true;
      if (value === null) result = null;
    }
    return result;
  };
}

function inRange(pick: (r: FilterRecord) => number | null, { min, max }: RangeSpec): Test {
  return (record) => {
    const value = pick(record);
    if (value === null) return null;
    return (min === undefined || value >= min) && (max === undefined || value <= max);
  };
}

function compileNode(filter: AlertFilterSpec): Test {
  const tests: Test[] = [];
  for (const key of FILTER_KEYS) {
    switch (key) {
      case 'survey': {
        const surveys = filter.survey;
        if (surveys) tests.push((r) => surveys.includes(r.survey));
        break;
      }
      case 'band': {
        const bands = filter.band;
        if (bands) tests.push((r) => bands.includes(r.band));
        break;
      }
      case 'roid': {
        const roids = filter.roid;
        if (roids) tests.push((r) => roids.includes(r.roid));
        break;
      }
      case 'label': {
        const labels = filter.label;
        if (labels) tests.push((r) => labels.includes(r.label));
        break;
      }
      case 'compare':
        for (const { field, op, value } of filter.compare ?? []) {
          const pick = FIELD_VALUE[field];
          const compare = COMPARE[op];
          tests.push((r) => {
            const actual = pick(r);
            return actual === null ? null : compare(actual, value);
          });
        }
        break;
      case 'mag':
        if (filter.mag) tests.push(inRange((r) => r.mag, filter.mag));
        break;
      case 'rate':
        if (filter.rate) tests.push(inRange((r) => r.rate, filter.rate));
        break;
      case 'sinceFirstDetectionDays':
        if (filter.sinceFirstDetectionDays) {
          tests.push(inRange((r) => r.jd - r.firstJd, filter.sinceFirstDetectionDays));
        }
        break;
      case 'rising': {
        const rising = filter.rising;
        if (rising !== undefined) tests.push((r) => (r.rising === null ? null : r.rising === rising));
        break;
      }
      case 'cone':
        if (filter.cone) {
          const plan = conePlan(filter.cone);
          tests.push((r) => inCone(plan, r.ra, r.dec));
        }
        break;
      case 'crossmatch': {
        const match = filter.crossmatch;
        if (match) {
          tests.push((r) =>
            r.crossmatches.some(
              (m) =>
                (match.catalog === undefined || m.catalog === match.catalog) &&
                // A counterpart without a class is stored as '' (what the SQL compares with).
                (match.type === undefined || (m.type ?? '') === match.type),
            ),
          );
        }
        break;
      }
      case 'watchlist': {
        const id = filter.watchlist;
        if (id !== undefined) tests.push((r) => r.watchlistHits.some((hit) => hit.watchlistId === id));
        break;
      }
      case 'and':
        if (filter.and) tests.push(and(filter.and.map(compileNode)));
        break;
      case 'or':
        if (filter.or) tests.push(or(filter.or.map(compileNode)));
        break;
      case 'not':
        if (filter.not) {
          const inner = compileNode(filter.not);
          tests.push((r) => {
            const value = inner(r);
            return value === null ? null : !value;
          });
        }
        break;
    }
  }
  return tests.length === 0 ? () => true : and(tests);
}

/** The filter's three-valued truth for one alert: true, false or null (unknown). */
export function compileFilterTruth(filter: AlertFilterSpec): (record: FilterRecord) => boolean | null {
  return compileNode(filter);
}

/** Whether the filter selects the alert: only a definite true does, as in a SQL WHERE. */
export function compileFilterPredicate(filter: AlertFilterSpec): (record: FilterRecord) => boolean {
  const truth = compileNode(filter);
  return (record) => truth(record) === true;
}
