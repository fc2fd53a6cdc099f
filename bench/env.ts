// Benchmark settings come from BENCH_* environment variables (benchmarks are not configured by fink's config).

/** An integer setting: `fallback` when unset or empty; anything else not an integer >= min stops the run. */
export function envInteger(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
  return value;
}
