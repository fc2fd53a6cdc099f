// CPU time from Linux's /proc, for the benchmarks that measure processes and threads.
import { readFileSync } from 'node:fs';

/** Linux reports CPU time in USER_HZ ticks, 100 per second on every architecture Node supports. */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU seconds from a /proc stat file (`/proc/<pid>/stat`: the process and its threads;
 * `/proc/<pid>/task/<tid>/stat`: one thread): fields 14 and 15. Undefined when it cannot be read.
 */
export function statCpuSeconds(statPath: string): number | undefined {
  try {
    const stat = readFileSync(statPath, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
