// Class names in arguments: a class the archive cannot hold is BAD_USER_INPUT listing the valid ones, instead of
// an empty answer that looks like "nothing of that class happened". The valid classes are Fink's labels and the
// types of the loaded overriding catalogs (src/pipeline/classifiers/vocabulary.ts alertClasses).
import type { AlertFilterSpec } from '../storage/alert-filter.ts';
import { filterNamesClass, unknownClassReason } from '../filters/validate.ts';
import { alertClasses } from '../pipeline/classifiers/vocabulary.ts';
import type { FilterLimits } from '../filters/validate.ts';
import type { CatalogStore } from '../storage/catalog-store.ts';
import { filterArg } from './arguments.ts';
import { badInput } from './errors.ts';

/** What reading the valid classes needs: the catalog store's overriding types. */
export interface ClassStores {
  catalogs: Pick<CatalogStore, 'overridingTypes'>;
}

/** Fink's labels, then the overriding catalogs' types. */
export async function validClasses(stores: ClassStores): Promise<string[]> {
  return alertClasses(await stores.catalogs.overridingTypes());
}

/** A filter argument, validated; the classes it names are checked only when it names one. */
export async function classFilterArg(
  filter: unknown,
  argument: string,
  ctx: { config: FilterLimits; stores: ClassStores },
): Promise<AlertFilterSpec> {
  const spec = filterArg(filter, argument, ctx.config);
  if (!filterNamesClass(spec)) return spec;
  return filterArg(filter, argument, { ...ctx.config, classes: await validClasses(ctx.stores) });
}

/** One class argument (latestObjects' `label`). */
export async function classArg(
  label: string,
  argument: string,
  ctx: { stores: ClassStores },
): Promise<string> {
  const classes = await validClasses(ctx.stores);
  if (!classes.includes(label)) throw badInput(argument, unknownClassReason(label, classes));
  return label;
}
