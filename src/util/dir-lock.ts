// An exclusive lock between processes on one machine: mkdir is atomic, so the first process to create the
// directory holds the lock. The owner's pid is written inside, so a lock left by a process that died (a killed
// test run) is taken over instead of waited on until the timeout.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DirLockOptions {
  timeoutMs: number;
  pollMs: number;
  /** The error thrown when the lock is still held at the deadline (owner: its pid, 0 when unknown). */
  timedOut: (owner: number) => Error;
}

/** Waits for the lock; resolves with its release. */
export async function acquireDirLock(
  lockDir: string,
  { timeoutMs, pollMs, timedOut }: DirLockOptions,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  const ownerFile = path.join(lockDir, 'pid');
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(ownerFile, String(process.pid));
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(await readFile(ownerFile, 'utf8').catch(() => ''));
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw timedOut(Number.isInteger(owner) ? owner : 0);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
