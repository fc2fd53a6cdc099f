// Cross-matches every alert of a batch against every loaded static catalog (GCVS, SPICY, 3HSP, ...).
// One call to the matcher per batch: the store turns it into one query per catalog, not one per alert.
//
// Adds `crossmatches`: at most one entry per catalog, the nearest source within that catalog's radius, ordered
// by catalog name; empty when nothing is near. The classification stage reads `type` and `overriding`: an
// overriding catalog's type replaces the classification label (like SIMBAD in Fink).
import type { BatchStep } from '../framework.ts';
import { ok } from '../framework.ts';
import type { CatalogMatcher } from '../../storage/catalog-store.ts';

export interface Crossmatch {
  /** The catalog's name as loaded (`fink catalog load <name>`). */
  catalog: string;
  sourceId: string;
  /** Great-circle distance from the alert to the source, in arcseconds. */
  distanceArcsec: number;
  /** The source's value in the catalog's type column; null when the catalog has none or the cell is empty. */
  type: string | null;
  overriding: boolean;
}

export type WithCrossmatches<T> = T & { crossmatches: Crossmatch[] };

export interface CrossmatchDeps {
  catalogs: CatalogMatcher;
}

/** Positions in degrees; the alert's own fields are passed through untouched. */
export function createCrossmatchStep<In extends { ra: number; dec: number }>(
  deps: CrossmatchDeps,
): BatchStep<In, WithCrossmatches<In>> {
  const { catalogs } = deps;
  return async function crossmatch(inputs) {
    if (inputs.length === 0) return [];
    const matches = await catalogs.match(inputs.map(({ ra, dec }) => ({ ra, dec })));
    if (matches.length !== inputs.length) {
      throw new Error(`catalog matcher returned ${matches.length} results for ${inputs.length} positions`);
    }
    return inputs.map((input, i) =>
      ok({
        ...input,
        crossmatches: matches[i]!.map(
          ({ catalog, sourceId, distanceArcsec, type, overriding }): Crossmatch => ({
            catalog,
            sourceId,
            distanceArcsec,
            type,
            overriding,
          }),
        ),
      }),
    );
  };
}
