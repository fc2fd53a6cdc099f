// Arguments of createWatchlist / updateWatchlist, and their checks. Each failure is BAD_USER_INPUT naming the
// argument as the client wrote it (`targets[12].radiusArcsec`).
import { ArgsType, Field, Float, InputType } from 'type-graphql';
import { badInput } from './errors.ts';
import { WATCHLIST_LIMITS, type WatchlistTarget } from '../storage/watchlist-store.ts';

@InputType({ description: 'A position to watch.' })
export class WatchlistTargetInput {
  @Field(() => Float, { description: 'Degrees (ICRS), [0, 360).' })
  ra!: number;

  @Field(() => Float, { description: 'Degrees (ICRS), [-90, 90].' })
  dec!: number;

  @Field(() => Float, { description: 'Match radius in arcseconds, above 0 and at most 3600.' })
  radiusArcsec!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Up to 100 characters; defaults to the position ("ra dec" in degrees).',
  })
  label?: string | null;
}

@ArgsType()
export class CreateWatchlistArgs {
  @Field(() => String, { description: '1 to 100 characters.' })
  name!: string;

  @Field(() => Boolean, { defaultValue: false, description: 'Visible to everyone.' })
  public!: boolean;

  @Field(() => [WatchlistTargetInput], { description: 'At most 10,000 targets.' })
  targets!: WatchlistTargetInput[];
}

@ArgsType()
export class UpdateWatchlistArgs {
  @Field(() => String)
  id!: string;

  @Field(() => String, { nullable: true, description: 'A new name; unchanged when absent.' })
  name?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'New visibility; unchanged when absent.',
  })
  public?: boolean | null;

  @Field(() => [WatchlistTargetInput], {
    nullable: true,
    description: 'Replaces every target; unchanged when absent.',
  })
  targets?: WatchlistTargetInput[] | null;
}

/** Trimmed, 1 to 100 characters, no control characters. */
export function watchlistNameArg(value: string, argument: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > WATCHLIST_LIMITS.maxNameLength) {
    throw badInput(argument, `must be 1 to ${WATCHLIST_LIMITS.maxNameLength} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badInput(argument, 'must not contain control characters');
  return name;
}

export function watchlistTargetsArg(
  values: readonly WatchlistTargetInput[],
  argument: string,
): WatchlistTarget[] {
  if (values.length > WATCHLIST_LIMITS.maxTargets) {
    throw badInput(argument, `at most ${WATCHLIST_LIMITS.maxTargets} targets`);
  }
  return values.map((target, i) => {
    const at = `${argument}[${i}]`;
    const { ra, dec, radiusArcsec } = target;
    if (!Number.isFinite(ra) || ra < 0 || ra >= 360) throw badInput(`${at}.ra`, 'must be in [0, 360)');
    if (!Number.isFinite(dec) || dec < -90 || dec > 90) throw badInput(`${at}.dec`, 'must be in [-90, 90]');
    if (
      !Number.isFinite(radiusArcsec) ||
      radiusArcsec <= 0 ||
      radiusArcsec > WATCHLIST_LIMITS.maxRadiusArcsec
    ) {
      throw badInput(`${at}.radiusArcsec`, `must be above 0 and at most ${WATCHLIST_LIMITS.maxRadiusArcsec}`);
    }
    const label = target.label?.trim() ?? '';
    if (label.length > WATCHLIST_LIMITS.maxLabelLength) {
      throw badInput(`${at}.label`, `must be at most ${WATCHLIST_LIMITS.maxLabelLength} characters`);
    }
    return { ra, dec, radiusArcsec, label: label === '' ? `${ra.toFixed(5)} ${dec.toFixed(5)}` : label };
  });
}
