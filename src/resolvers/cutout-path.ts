// The URLs of an alert's cutouts, as the API returns them; the server's cutout routes (src/server/cutout-routes.ts)
// answer them.
import type { CutoutKind } from '../storage/cutout-store.ts';

export const CUTOUT_FORMATS = ['fits', 'fits.gz', 'png'] as const;
export type CutoutFormat = (typeof CUTOUT_FORMATS)[number];

export const CUTOUT_PATH_PREFIX = '/cutouts/';

/** The path of a cutout endpoint, relative to the server's base URL (which has no trailing slash). */
export function cutoutPath(alertId: bigint, kind: CutoutKind, format: CutoutFormat): string {
  return `${CUTOUT_PATH_PREFIX}${alertId}/${kind}.${format}`;
}
