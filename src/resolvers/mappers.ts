// Storage records -> GraphQL shapes. 64-bit ids become decimal strings here and nowhere else.
import type { AlertRecord, ClassificationRecord, ObjectRecord } from '../storage/alert-store.ts';
import { cutoutPath } from './cutout-path.ts';
import type { CutoutKind } from '../storage/cutout-store.ts';
import type { Alert, CutoutLink, CutoutLinks } from './alert.type.ts';
import type { AstroObject } from './object.type.ts';
import type { Classification } from './object-parts.type.ts';
import { groupBy } from '../util/group-by.ts';

/** The classifier row that holds the final label (src/pipeline/steps/classification.step.ts). */
export const FINAL_CLASSIFIER = 'fink';

/**
 * The GraphQL alert. Its JSON fields (a few KB: the survey's whole candidate record) are parsed when a query
 * selects them, once: a page of alerts or a live alert seldom asks for them.
 */
export function toAlert(record: AlertRecord, baseUrl: string): Alert {
  const alert = {
    ...record,
    alertId: record.alertId.toString(),
    ssName: record.ssName === '' ? null : record.ssName,
  } as unknown as Alert;
  lazy(alert, 'features', () => parseObject(record.features));
  lazy(alert, 'candidate', () => parseObject(record.candidate));
  lazy(alert, 'cutouts', () => cutoutLinks(record.alertId, baseUrl));
  return alert;
}

/** Defines `key` as computed on first read, then kept. */
function lazy<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): void {
  Object.defineProperty(target, key, {
    configurable: true,
    enumerable: true,
    get() {
      const value = compute();
      Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
      return value;
    },
  });
}

export function toAstroObject(record: ObjectRecord): AstroObject {
  return {
    ...record,
    lastAlertId: record.lastAlertId.toString(),
    ssName: record.ssName === '' ? null : record.ssName,
  };
}

export function cutoutLinks(alertId: bigint, baseUrl: string): CutoutLinks {
  const link = (kind: CutoutKind): CutoutLink => ({
    fits: baseUrl + cutoutPath(alertId, kind, 'fits'),
    png: baseUrl + cutoutPath(alertId, kind, 'png'),
  });
  return { science: link('science'), template: link('template'), difference: link('difference') };
}

/** Rows of one object -> one Classification per alert (final label + every classifier score), oldest first. */
export function toClassifications(rows: readonly ClassificationRecord[]): Classification[] {
  const byAlert = groupBy(rows, (row) => row.alertId);
  const result: Classification[] = [];
  for (const [alertId, alertRows] of byAlert) {
    const final = alertRows.find((row) => row.classifier === FINAL_CLASSIFIER);
    const first = alertRows[0]!;
    result.push({
      alertId: alertId.toString(),
      jd: first.jd,
      label: final?.label ?? 'Unknown',
      version: final?.version ?? first.version,
      processedAt: (final ?? first).processedAt.toISOString(),
      scores: alertRows
        .filter((row) => row.classifier !== FINAL_CLASSIFIER)
        .map((row) => ({
          classifier: row.classifier,
          version: row.version,
          label: row.label,
          score: row.score,
          // '' in the table (rows without a model, rows older than the columns) is null in the API.
          modelFile: row.modelFile || null,
          modelSha256: row.modelSha256 || null,
          finkScienceVersion: row.finkScienceVersion || null,
        })),
    });
  }
  return result.sort((a, b) => a.jd - b.jd);
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
