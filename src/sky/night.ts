// When an exposure was taken, as the observing night it belongs to.

/**
 * The night an exposure belongs to, as the UTC date at which it began. ZTF (Palomar, UTC-8) observes from about
 * 03:00 to 13:00 UTC, inside one UTC day; Rubin (Cerro Pachón, UTC-4) from about 23:00 to 10:00 UTC, across
 * midnight, so its night is the UTC date twelve hours earlier.
 */
export function nightOf(survey: 'ztf' | 'lsst', jd: number): Date {
  const ms = (jd - 2440587.5) * 86_400_000;
  const shifted = survey === 'lsst' ? ms - 12 * 3_600_000 : ms;
  const day = new Date(shifted);
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
}
