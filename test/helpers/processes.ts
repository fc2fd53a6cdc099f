// Pipeline services as real processes, the way `fink start` runs them: `fink run <service>` detached in its own
// process group, its JSON log in a file, a ready file once it joined its consumer group. Each process gets its
// own state dir, so two workers of one service do not share a ready file or a log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { findService } from '../../src/cli/services.ts';
import { groupAlive, Supervisor } from '../../src/cli/supervisor.ts';
import type { Config } from '../../src/config.ts';
import { waitFor } from './wait.ts';

/** One line of a service's pino log. */
export interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

export class ServiceProcess {
  /** undefined while the process runs; then its exit code (null when a signal ended it). */
  private code: number | null | undefined;

  constructor(
    readonly name: string,
    /** Also the process group id: the service was spawned detached. */
    readonly pid: number,
    readonly logFile: string,
    private readonly readyFile: string,
    exit: Promise<number | null>,
  ) {
    void exit.then((code) => (this.code = code));
  }

  get exitCode(): number | null | undefined {
    return this.code;
  }

  /** True while the leader has not exited and some process of its group is alive. */
  get running(): boolean {
    return this.code === undefined && groupAlive(this.pid);
  }

  /** The JSON lines of its log so far (the ClickHouse client's own plain-text warnings are skipped). */
  lines(): LogLine[] {
    return readText(this.logFile)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** The log lines with this message. */
  logged(msg: string): LogLine[] {
    return this.lines().filter((line) => line.msg === msg);
  }

  tail(lines = 30): string {
    return readText(this.logFile).trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Resolves once the service joined its consumer group; fails at once, with the log, if it exits first. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await this.waitUntil(() => readText(this.readyFile) !== '', timeoutMs, 'ready');
  }

  /** Polls `condition` while the process runs; fails, with the log, if it exits or the deadline passes. */
  async waitUntil(
    condition: () => boolean | Promise<boolean>,
    timeoutMs: number,
    what: string,
    everyMs = 200,
  ): Promise<void> {
    try {
      await waitFor(
        async () => {
          if (this.code !== undefined) throw new Error(`exited with code ${this.code}`);
          return condition();
        },
        timeoutMs,
        everyMs,
      );
    } catch (err) {
      throw new Error(
        `${this.name} (pid ${this.pid}) not ${what}: ${(err as Error).message}\n${this.tail()}`,
      );
    }
  }

  signal(name: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** kill -9 of the whole group; resolves once none of it is left. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await waitFor(() => !groupAlive(this.pid), 10_000);
  }

  /** Waits for the exit (any code); resolves with it, or fails after the deadline. */
  async exited(timeoutMs: number): Promise<number | null> {
    await waitFor(() => this.code !== undefined && !groupAlive(this.pid), timeoutMs);
    return this.code ?? null;
  }
}

/** Processes started here, so that a failed test leaves none behind. */
const started: { child: ServiceProcess; stateDir: string }[] = [];

/** Starts `fink run <service>` with exactly `config` (passed down as FINK_* variables), as `fink start` does. */
export function startServiceProcess(service: string, config: Config): ServiceProcess {
  const definition = findService(service);
  const stateDir = mkdtempSync(path.join(tmpdir(), `fink-${service}-`));
  const spec = definition?.prepare({ ...config, stateDir });
  if (spec === undefined) throw new Error(`${service} is not a service fink runs itself`);
  const supervisor = new Supervisor(stateDir);
  const { record, exit } = supervisor.spawn(service, spec);
  const child = new ServiceProcess(service, record.pid, record.log, supervisor.readyPath(service), exit);
  started.push({ child, stateDir });
  return child;
}

/** SIGKILLs whatever is still running, removes the state dirs; resolves once no process of theirs is left. */
export async function killServiceProcesses(): Promise<void> {
  for (const { child } of started) child.signal('SIGKILL');
  await waitFor(() => started.every(({ child }) => !groupAlive(child.pid)), 10_000);
  for (const { stateDir } of started.splice(0)) rmSync(stateDir, { recursive: true, force: true });
}

/** Committed offset per partition of `topic` for `groupId` (-1: nothing committed), by partition. */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<number[]> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const offsets: number[] = [];
  for (const { partition, offset } of entry?.partitions ?? []) offsets[partition] = Number(offset);
  return offsets;
}

/** End offset (high watermark) per partition of `topic`. */
export async function endOffsets(admin: Admin, topic: string): Promise<number[]> {
  const offsets: number[] = [];
  for (const { partition, high } of await admin.fetchTopicOffsets(topic)) offsets[partition] = Number(high);
  return offsets;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
