// The filter as a condition on the `alerts` table, for archive search:
//
//   sql`SELECT ... FROM alerts FINAL WHERE ${compileFilterSql(filter)}`
//
// Null semantics match predicate.ts (a condition on NULL is unknown; only a definite true selects) without ever
// letting a NULL into the boolean expression: ClickHouse 18.16 has no three-valued logic (`NULL AND 0` is NULL,
// which would turn `not (a and b)` into NULL where it must be true). So every node compiles to two NULL-free
// conditions, "definitely true" and "definitely false"; `not` swaps them, `and`/`or` combine them by De Morgan,
// and a leaf on a Nullable column wraps its comparison in ifNull(..., 0). The WHERE uses "definitely true".
import { DEG_TO_RAD, conePlan } from '../sky/cone.ts';
import { join, sql, type Sql } from './sql.ts';
import { ALERTS, type AlertRow } from './science-store.ts';
import {
  FILTER_KEYS,
  type AlertFilterSpec,
  type ComparisonOp,
  type ConeSpec,
  type CrossmatchSpec,
  type FilterField,
  type RangeSpec,
} from './alert-filter.ts';

type Field = keyof AlertRow;

/** The `alerts` field each comparable filter field names. */
const FIELD: Record<FilterField, Field> = {
  JD: 'jd',
  RA: 'ra',
  DEC: 'dec',
  MAG: 'mag',
  MAG_ERR: 'magErr',
  NDET: 'ndet',
  NLIM: 'nlim',
  FIRST_JD: 'firstJd',
  LAST_JD: 'lastJd',
  PEAK_MAG: 'peakMag',
  COLOR_GR: 'colorGr',
  RATE: 'rate',
  ROID: 'roid',
};

const NULLABLE = new Set(ALERTS.columns.filter((c) => c.nullable).map((c) => c.field));

const OPERATOR: Record<ComparisonOp, Sql> = {
  EQ: sql`=`,
  NE: sql`!=`,
  LT: sql`<`,
  LTE: sql`<=`,
  GT: sql`>`,
  GTE: sql`>=`,
};

const TRUE = sql`1`;
const FALSE = sql`0`;

/** A node as two NULL-free conditions: when it is definitely true, and when it is definitely false. */
interface Compiled {
  t: Sql;
  f: Sql;
}

function column(field: Field): Sql {
  return ALERTS.column(field);
}

/** A condition that is NULL exactly when `nullable` is: ifNull(.., 0) makes both polarities definite. */
function leaf(condition: Sql, nullable: boolean): Compiled {
  return nullable
    ? { t: sql`ifNull(${condition}, 0)`, f: sql`ifNull(NOT (${condition}), 0)` }
    : { t: sql`(${condition})`, f: sql`(NOT (${condition}))` };
}

/**
 * Operands of one AND / OR: longer lists are grouped in nested parentheses. ClickHouse 18.16 analyses an
 * expression in time quadratic in the length of its argument lists: 2,000 conditions took 8.7 s as one AND,
 * 3.3 s in groups of 8.
 */
const GROUP = 8;

function grouped(parts: readonly Sql[], separator: ' AND ' | ' OR '): Sql {
  let level: readonly Sql[] = parts;
  while (level.length > GROUP) {
    const next: Sql[] = [];
    for (let i = 0; i < level.length; i += GROUP) {
      const group = level.slice(i, i + GROUP);
      next.push(group.length === 1 ? group[0]! : sql`(${join(group, separator)})`);
    }
    level = next;
  }
  return sql`(${join(level, separator)})`;
}

function all(parts: readonly Sql[]): Sql {
  return parts.length === 0 ? TRUE : parts.length === 1 ? parts[0]! : grouped(parts, ' AND ');
}

function any(parts: readonly Sql[]): Sql {
  return parts.length === 0 ? FALSE : parts.length === 1 ? parts[0]! : grouped(parts, ' OR ');
}

function conjunction(nodes: readonly Compiled[]): Compiled {
  return { t: all(nodes.map((n) => n.t)), f: any(nodes.map((n) => n.f)) };
}

function disjunction(nodes: readonly Compiled[]): Compiled {
  return { t: any(nodes.map((n) => n.t)), f: all(nodes.map((n) => n.f)) };
}

/** `x IN (a, b)`: a tuple, because 18.16 has no IN [array]. */
function inList(name: Field, values: readonly (string | number)[]): Compiled {
  const items = join(
    values.map((v) => sql`${v}`),
    ', ',
  );
  return leaf(sql`${column(name)} IN (${items})`, false);
}

function rangeOf(value: Sql, nullable: boolean, { min, max }: RangeSpec): Compiled {
  const bounds: Sql[] = [];
  if (min !== undefined) bounds.push(sql`${value} >= ${min}`);
  if (max !== undefined) bounds.push(sql`${value} <= ${max}`);
  return leaf(join(bounds, ' AND '), nullable);
}

function cone(spec: ConeSpec): Compiled {
  const plan = conePlan(spec);
  const ra = column('ra');
  const dec = column('dec');
  const parts: Sql[] = [sql`${dec} >= ${plan.decMin}`, sql`${dec} <= ${plan.decMax}`];
  if (plan.raRanges !== null) {
    parts.push(any(plan.raRanges.map(([lo, hi]) => sql`(${ra} >= ${lo} AND ${ra} <= ${hi})`)));
  }
  // The same expression as sky/cone.ts inCone, operation for operation.
  const sinDdec = sql`sin(((${dec} * ${DEG_TO_RAD}) - ${plan.decRad}) / 2)`;
  const sinDra = sql`sin(((${ra} * ${DEG_TO_RAD}) - ${plan.raRad}) / 2)`;
  parts.push(
    sql`((${sinDdec} * ${sinDdec}) + ((${plan.cosDec} * cos(${dec} * ${DEG_TO_RAD})) * (${sinDra} * ${sinDra}))) <= ${plan.havRadius}`,
  );
  return leaf(join(parts, ' AND '), false);
}

function crossmatch({ catalog, type }: CrossmatchSpec): Compiled {
  const where: Sql[] = [];
  if (catalog !== undefined) where.push(sql`catalog = ${catalog}`);
  if (type !== undefined) where.push(sql`type = ${type}`);
  // By (survey, alert_id): ZTF candids and Rubin diaSourceIds are separate id spaces.
  return leaf(
    sql`(survey, alert_id) IN (SELECT survey, alert_id FROM crossmatches WHERE ${all(where)})`,
    false,
  );
}

function compileNode(filter: AlertFilterSpec): Compiled {
  const parts: Compiled[] = [];
  for (const key of FILTER_KEYS) {
    switch (key) {
      case 'survey':
        if (filter.survey) parts.push(inList('survey', filter.survey));
        break;
      case 'band':
        if (filter.band) parts.push(inList('band', filter.band));
        break;
      case 'roid':
        if (filter.roid) parts.push(inList('roid', filter.roid));
        break;
      case 'label':
        if (filter.label) parts.push(inList('label', filter.label));
        break;
      case 'compare':
        for (const { field, op, value } of filter.compare ?? []) {
          const name = FIELD[field];
          parts.push(leaf(sql`${column(name)} ${OPERATOR[op]} ${value}`, NULLABLE.has(name)));
        }
        break;
      case 'mag':
        if (filter.mag) parts.push(rangeOf(column('mag'), true, filter.mag));
        break;
      case 'rate':
        if (filter.rate) parts.push(rangeOf(column('rate'), true, filter.rate));
        break;
      case 'sinceFirstDetectionDays':
        if (filter.sinceFirstDetectionDays) {
          const since = sql`(${column('jd')} - ${column('firstJd')})`;
          parts.push(rangeOf(since, false, filter.sinceFirstDetectionDays));
        }
        break;
      case 'rising':
        if (filter.rising !== undefined) {
          parts.push(leaf(sql`${column('rising')} = ${filter.rising ? 1 : 0}`, true));
        }
        break;
      case 'cone':
        if (filter.cone) parts.push(cone(filter.cone));
        break;
      case 'crossmatch':
        if (filter.crossmatch) parts.push(crossmatch(filter.crossmatch));
        break;
      case 'watchlist':
        if (filter.watchlist !== undefined) {
          parts.push(
            leaf(
              sql`alert_id IN (SELECT alert_id FROM watchlist_hits WHERE watchlist_id = ${filter.watchlist})`,
              false,
            ),
          );
        }
        break;
      case 'and':
        if (filter.and) parts.push(conjunction(filter.and.map(compileNode)));
        break;
      case 'or':
        if (filter.or) parts.push(disjunction(filter.or.map(compileNode)));
        break;
      case 'not':
        if (filter.not) {
          const inner = compileNode(filter.not);
          parts.push({ t: inner.f, f: inner.t });
        }
        break;
    }
  }
  return conjunction(parts);
}

/** The condition selecting the alerts the filter matches (never NULL), over `alerts` columns. */
export function compileFilterSql(filter: AlertFilterSpec): Sql {
  return compileNode(filter).t;
}
