// What the cutout endpoints read: an alert's three images as the alert carried them. They are stored once, in
// the raw archive (src/pipeline/archive-cutouts.ts reads them from there).

export const CUTOUT_KINDS = ['science', 'template', 'difference'] as const;
export type CutoutKind = (typeof CUTOUT_KINDS)[number];

export interface StoredCutouts {
  survey: string;
  alertId: bigint;
  objectId: string;
  /**
   * The bytes exactly as the alert carried them: gzipped FITS for ZTF, FITS for Rubin. null when the alert had
   * none (Rubin cutouts are optional).
   */
  science: Buffer | null;
  template: Buffer | null;
  difference: Buffer | null;
}

export interface CutoutStore {
  /** The cutouts of each alert id that is stored; ids without one are absent from the map. */
  byAlertIds(ids: readonly bigint[]): Promise<Map<bigint, StoredCutouts>>;
}
