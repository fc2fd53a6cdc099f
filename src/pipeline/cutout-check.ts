// Which of an alert's cutouts cannot be read as a FITS image (a corrupt upstream stamp). The alert is still
// science: raw2science stores and publishes it whatever its cutouts, and only counts the unreadable ones
// (fink_cutouts_unreadable_total{kind}); the cutout endpoint answers such a cutout 422 with the reason.
import type { Cutouts } from './alert.ts';
import { checkFitsStructure, parseFitsImage } from './decode/fits.ts';

export const CUTOUT_KIND_NAMES = ['science', 'template', 'difference'] as const;

export interface UnreadableCutout {
  kind: (typeof CUTOUT_KIND_NAMES)[number];
  reason: string;
}

/**
 * `full`: everything the cutout endpoint reads (inflate and every pixel); `structure`: the headers and the sizes
 * only (checkFitsStructure: a stream corrupt inside its compressed pixels is found when the cutout is served),
 * a fifth of the CPU.
 */
export type CutoutCheck = 'structure' | 'full';

/** Why `bytes` is not a readable FITS image, or null when it is one as far as `check` looks. */
export function cutoutProblem(bytes: Uint8Array, check: CutoutCheck = 'full'): string | null {
  try {
    if (check === 'full') parseFitsImage(bytes);
    else checkFitsStructure(bytes);
    return null;
  } catch (err) {
    // FitsError says what is wrong; anything else (a DataView out of range) is as much the data's fault.
    return err instanceof Error ? err.message : String(err);
  }
}

/** The cutouts an alert carries that do not decode; absent (null or empty) ones are not unreadable. */
export function unreadableCutouts(cutouts: Cutouts, check: CutoutCheck = 'full'): UnreadableCutout[] {
  const found: UnreadableCutout[] = [];
  for (const kind of CUTOUT_KIND_NAMES) {
    const bytes = cutouts[kind];
    if (bytes === null || bytes.length === 0) continue;
    const reason = cutoutProblem(bytes, check);
    if (reason !== null) found.push({ kind, reason });
  }
  return found;
}
