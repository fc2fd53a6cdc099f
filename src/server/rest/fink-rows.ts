// Stored alerts -> rows of Fink's flat table (one row per alert, i:/d:/v: columns), and an object's upper limits
// and lower-quality detections as the extra rows of `withupperlim` (d:tag valid / upperlim / badquality).
import type {
  AlertRecord,
  ClassificationRecord,
  CrossmatchRecord,
  LightCurvePoint,
} from '../../storage/alert-store.ts';
import type { Cell, ExportColumn, ExportRow, ExportTable } from '../../export/table.ts';
import { FINK_RUBIN_SCORES, FINK_ZTF_SCORES } from '../../pipeline/classifiers/fink/index.ts';
import { groupBy } from '../../util/group-by.ts';
import {
  candidateColumn,
  catalogColumn,
  DERIVED_COLUMNS,
  SCIENCE_COLUMNS,
  scoreColumn,
  TAG_COLUMN,
  ZTF_CANDIDATE_COLUMNS,
} from './fink-columns.ts';

/** The classifier row holding the final label (src/pipeline/steps/classification.step.ts). */
const LABEL_CLASSIFIER = 'fink';
/** ZTF's filter ids. */
const FID: Record<string, number> = { g: 1, r: 2, i: 3 };

export interface CatalogRef {
  name: string;
  overriding: boolean;
}

export interface AlertTableInput {
  alerts: readonly AlertRecord[];
  classifications: readonly ClassificationRecord[];
  crossmatches: readonly CrossmatchRecord[];
  catalogs: readonly CatalogRef[];
}

/** Julian date -> Fink's date text, 'YYYY-MM-DD hh:mm:ss.sss' (UTC). */
export function jdToIso(jd: number): string {
  return new Date((jd - 2440587.5) * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
}

function parseCandidate(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function asCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value;
  return JSON.stringify(value);
}

/** Rows of alerts, with each row's alert id (Rubin's rows have no i:candid). */
export interface AlertTable extends ExportTable {
  /** The alert id of each row, in the rows' order. */
  alertIds: readonly bigint[];
}

/** One row per alert, newest first, with the columns every row shares (i: in the survey's order). */
export function alertTable(input: AlertTableInput): AlertTable {
  const scoresByAlert = groupBy(input.classifications, (row) => row.alertId);
  const matchesByAlert = groupBy(input.crossmatches, (row) => row.alertId);
  // Fink's scores of each survey present are columns even when no row has them (a stable table); others as seen.
  const surveys = new Set(input.alerts.map((alert) => alert.survey));
  const classifiers = [
    ...new Set([
      ...(surveys.has('ztf') ? FINK_ZTF_SCORES : []),
      ...(surveys.has('lsst') ? FINK_RUBIN_SCORES : []),
      ...input.classifications.map((row) => row.classifier).filter((name) => name !== LABEL_CLASSIFIER),
    ]),
  ].sort();
  const candidateColumns = new Map<string, ExportColumn>();
  // ZTF's columns in their order whenever a ZTF alert is among the rows; other surveys' after, as they come.
  if (input.alerts.some((alert) => alert.survey === 'ztf')) {
    for (const column of ZTF_CANDIDATE_COLUMNS) candidateColumns.set(column.name, column);
  }
  const rows: Record<string, Cell>[] = [];
  const sorted = [...input.alerts].sort((a, b) => b.jd - a.jd || (a.alertId < b.alertId ? 1 : -1));
  for (const alert of sorted) {
    const candidate = parseCandidate(alert.candidate);
    const row: Record<string, Cell> = { 'i:objectId': alert.objectId };
    if (!candidateColumns.has('i:objectId')) {
      candidateColumns.set('i:objectId', candidateColumn('i:objectId', alert.objectId));
    }
    for (const [key, value] of Object.entries(candidate)) {
      const name = `i:${key}`;
      if (!candidateColumns.has(name)) candidateColumns.set(name, candidateColumn(name, value));
      row[name] = asCell(value);
    }
    if (alert.survey === 'ztf') row['i:candid'] = alert.alertId;

    const matches = matchesByAlert.get(alert.alertId) ?? [];
    row['d:cdsxmatch'] = cdsxmatch(matches, input.catalogs);
    row['d:roid'] = alert.roid;
    row['d:nalerthist'] = alert.ndet;
    for (const score of scoresByAlert.get(alert.alertId) ?? []) {
      if (score.classifier !== LABEL_CLASSIFIER) row[`d:${score.classifier}`] = score.score;
    }
    for (const catalog of input.catalogs) {
      const nearest = nearestOf(matches.filter((match) => match.catalog === catalog.name));
      row[`d:${catalog.name}`] =
        nearest === undefined ? 'Unknown' : nearest.type !== '' ? nearest.type : nearest.sourceId;
    }
    row['v:classification'] = alert.label;
    row['v:firstdate'] = alert.firstJd > 0 ? jdToIso(alert.firstJd) : null;
    row['v:lastdate'] = alert.lastJd > 0 ? jdToIso(alert.lastJd) : null;
    row['v:lapse'] = alert.firstJd > 0 && alert.lastJd > 0 ? alert.lastJd - alert.firstJd : null;
    row['v:g-r'] = alert.colorGr;
    row['v:rate'] = alert.rate;
    rows.push(row);
  }
  const columns: ExportColumn[] = [
    ...candidateColumns.values(),
    ...SCIENCE_COLUMNS,
    ...classifiers.map(scoreColumn),
    ...input.catalogs.map((catalog) => catalogColumn(catalog.name)),
    ...DERIVED_COLUMNS,
  ];
  return { columns, rows, alertIds: sorted.map((alert) => alert.alertId) };
}

function nearestOf(matches: readonly CrossmatchRecord[]): CrossmatchRecord | undefined {
  let nearest: CrossmatchRecord | undefined;
  for (const match of matches) {
    if (nearest === undefined || match.distanceArcsec < nearest.distanceArcsec) nearest = match;
  }
  return nearest;
}

/** As Fink's cdsxmatch: the type of the nearest counterpart of an overriding catalogue, else Unknown. */
function cdsxmatch(matches: readonly CrossmatchRecord[], catalogs: readonly CatalogRef[]): string {
  const overriding = new Set(catalogs.filter((c) => c.overriding).map((c) => c.name));
  const nearest = nearestOf(matches.filter((match) => overriding.has(match.catalog) && match.type !== ''));
  return nearest?.type ?? 'Unknown';
}

/**
 * `withupperlim`: the alert rows tagged valid, plus the object's upper limits (upperlim) and the detections of
 * its light curve that are not an alert stored here (badquality: their alert did not pass the quality cuts), as
 * Fink adds its ztf.upper and ztf.uppervalid tables. Their i:candid is -1, as Fink's, so that the column stays
 * an integer column in pandas. Newest first.
 */
export function withUpperLimits(table: ExportTable, points: readonly LightCurvePoint[]): ExportTable {
  const alertJds = new Set(table.rows.map((row) => row['i:jd']).filter((jd) => typeof jd === 'number'));
  const extra: ExportRow[] = [];
  for (const point of points) {
    const common = {
      'i:objectId': point.objectId,
      'i:jd': point.jd,
      'i:fid': FID[point.band] ?? null,
      'i:diffmaglim': point.limitMag,
    };
    if (point.kind === 'upper-limit') {
      extra.push({ ...common, 'i:candid': -1n, 'd:tag': 'upperlim' });
    } else if (point.kind === 'detection' && !alertJds.has(point.jd)) {
      extra.push({
        ...common,
        'i:candid': -1n,
        'i:magpsf': point.mag,
        'i:sigmapsf': point.magErr,
        'i:isdiffpos': point.negative ? 'f' : 't',
        'd:tag': 'badquality',
      });
    }
  }
  const valid: ExportRow[] = table.rows.map((row) => ({ ...row, 'd:tag': 'valid' }));
  const jd = (row: ExportRow) => (typeof row['i:jd'] === 'number' ? row['i:jd'] : 0);
  const rows = [...valid, ...extra].sort((a, b) => jd(b) - jd(a));
  const columns = [...table.columns];
  for (const name of ['i:objectId', 'i:jd', 'i:fid', 'i:diffmaglim', 'i:candid', 'i:magpsf', 'i:sigmapsf']) {
    if (!columns.some((c) => c.name === name)) columns.push(candidateColumn(name, null));
  }
  columns.push(TAG_COLUMN);
  return { columns, rows };
}
