// Runs services in the background, one process group each, with a pid record and a log file in the state dir.
//
//   <stateDir>/run/<service>.json   { pid, startedAt, log, cmdline }
//   <stateDir>/logs/<service>.log   the service's stdout and stderr
//
// A record is trusted only while /proc/<pid>/cmdline still matches what was started, so a recycled pid is
// never signalled. Stopping sends SIGTERM to the whole group, then SIGKILL after the timeout.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface ServiceRecord {
  pid: number;
  startedAt: string;
  log: string;
  cmdline: string[];
}

export type ServiceStatus =
  | { state: 'running'; record: ServiceRecord }
  | { state: 'exited'; record: ServiceRecord }
  | { state: 'stopped' };

export interface SpawnSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class Supervisor {
  constructor(private readonly stateDir: string) {}

  logPath(service: string): string {
    return path.join(this.stateDir, 'logs', `${service}.log`);
  }

  readyPath(service: string): string {
    return path.join(this.stateDir, 'run', `${service}.ready`);
  }

  status(service: string): ServiceStatus {
    const record = this.readRecord(service);
    if (record === undefined) return { state: 'stopped' };
    return isSameProcess(record) ? { state: 'running', record } : { state: 'exited', record };
  }

  /**
   * Spawns the service detached, in its own process group, and records it. `exit` resolves with the exit code
   * if it ends while this process still runs.
   */
  spawn(service: string, spec: SpawnSpec): { record: ServiceRecord; exit: Promise<number | null> } {
    const log = this.logPath(service);
    mkdirSync(path.dirname(log), { recursive: true });
    mkdirSync(path.join(this.stateDir, 'run'), { recursive: true });
    rmSync(this.readyPath(service), { force: true });
    const fd = openSync(log, 'a');
    try {
      writeFileSync(
        fd,
        `\n--- ${new Date().toISOString()} starting ${service}: ${spec.command} ${spec.args.join(' ')}\n`,
      );
      const child = spawn(spec.command, spec.args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: spec.env ?? process.env,
        cwd: spec.cwd,
      });
      const exit = new Promise<number | null>((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.once('error', () => resolve(null));
      });
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
      const record: ServiceRecord = {
        pid: child.pid,
        startedAt: new Date().toISOString(),
        log,
        cmdline: [spec.command, ...spec.args],
      };
      writeFileSync(this.recordPath(service), JSON.stringify(record, null, 2));
      return { record, exit };
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM to the group, SIGKILL after `timeoutMs`; resolves once no process of the group is left. */
  async stop(service: string, timeoutMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
    const status = this.status(service);
    this.forget(service);
    if (status.state !== 'running') return 'not-running';
    const { pid, log } = status.record;
    const started = performance.now();
    signal(-pid, 'SIGTERM');
    const outcome = (await waitUntil(() => !groupAlive(pid), timeoutMs)) ? 'stopped' : 'killed';
    if (outcome === 'killed') {
      signal(-pid, 'SIGKILL');
      await waitUntil(() => !groupAlive(pid), 10_000);
    }
    // How it ended, in its log: a service that needs SIGKILL has a shutdown to fix.
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const how = outcome === 'stopped' ? 'exited after SIGTERM' : `killed with SIGKILL after ${timeoutMs} ms`;
    try {
      appendFileSync(log, `--- ${new Date().toISOString()} ${service} ${how} (${seconds} s)\n`);
    } catch {
      // The log was removed: nothing to record it in.
    }
    return outcome;
  }

  forget(service: string): void {
    rmSync(this.recordPath(service), { force: true });
    rmSync(this.readyPath(service), { force: true });
  }

  private recordPath(service: string): string {
    return path.join(this.stateDir, 'run', `${service}.json`);
  }

  private readRecord(service: string): ServiceRecord | undefined {
    const file = this.recordPath(service);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ServiceRecord;
    } catch {
      return undefined;
    }
  }
}

/** True while the pid is alive and still runs the command that was recorded (not a recycled pid). */
export function isSameProcess(record: ServiceRecord): boolean {
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return false;
  }
  if (isZombie(record.pid)) return false;
  return record.cmdline.every((arg, i) => i === 0 || cmdline[i] === arg);
}

/** Parsed /proc/<pid>/stat: state and process group. The command name before them may contain spaces. */
function procStat(pid: number | string): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  return procStat(pid)?.state === 'Z';
}

/** True while any process of the group is alive. Zombies do not count: whoever reaps them is not us. */
export function groupAlive(pgid: number): boolean {
  return readdirSync('/proc').some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const stat = procStat(entry);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}

function signal(group: number, name: NodeJS.Signals): void {
  try {
    process.kill(group, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Polls `condition` every 100 ms until it holds (true) or the deadline passes (false). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await delay(100);
  }
}
