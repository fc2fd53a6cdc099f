// start / stop / show: what the `fink` command does with services, as functions the tests and `fink test` reuse.
import { readFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { isListening } from './probes.ts';
import { findService, SERVICES, type ServiceDefinition } from './services.ts';
import { Supervisor, waitUntil } from './supervisor.ts';
import { formatTable } from './table.ts';

export class ServiceError extends Error {
  override name = 'ServiceError';
}

export type StartOutcome = 'started' | 'already-running' | 'external' | 'finished';

/** Starts `name` in the background and waits until it is ready; says so instead of starting a second one. */
export async function startService(
  name: string,
  config: Config,
  say: (line: string) => void = console.log,
): Promise<StartOutcome> {
  const service = requireService(name);
  const supervisor = new Supervisor(config.stateDir);
  const status = supervisor.status(name);
  if (status.state === 'running') {
    say(`${name} is already running (pid ${status.record.pid}, log ${status.record.log})`);
    return 'already-running';
  }

  for (const { host, port } of service.listens?.(config) ?? []) {
    if (await isListening(host, port)) {
      throw new ServiceError(
        `${name} cannot start: ${host}:${port} is already in use by another process ` +
          `(stop it, or choose another port in the config)`,
      );
    }
  }

  const spec = service.prepare(config);
  if (spec === undefined) {
    const ready = await waitUntil(() => service.isReady(config, ''), 10_000);
    if (!ready) throw new ServiceError(`${name} is configured as external and does not answer`);
    say(`${name} is external and answers; nothing to start`);
    return 'external';
  }

  const { record, exit } = supervisor.spawn(name, spec);
  let exitCode: number | null | undefined;
  void exit.then((code) => (exitCode = code));
  const readyFile = supervisor.readyPath(name);
  const ready = await waitUntil(
    async () => exitCode !== undefined || (await service.isReady(config, readyFile)),
    config.services.startTimeoutMs,
  );
  if (exitCode === 0 && service.finite === true) {
    supervisor.forget(name);
    say(`${name} ran and finished (log ${record.log})`);
    return 'finished';
  }
  if (exitCode !== undefined) {
    supervisor.forget(name);
    throw new ServiceError(
      `${name} exited with code ${exitCode} while starting; log ${record.log}:\n${tail(record.log)}`,
    );
  }
  if (!ready) {
    await supervisor.stop(name, config.services.stopTimeoutMs);
    throw new ServiceError(
      `${name} was not ready after ${config.services.startTimeoutMs} ms and was stopped; log ${record.log}:\n` +
        tail(record.log),
    );
  }
  say(`${name} started (pid ${record.pid}, log ${record.log})`);
  return 'started';
}

export interface StopResult {
  /** stopped: it exited after SIGTERM; killed: it needed SIGKILL after services.stopTimeoutMs. */
  outcome: 'stopped' | 'killed' | 'not-running';
  /** From SIGTERM to the last process of the service gone. */
  seconds: number;
}

/** Stops `name` and says how: `<name> stopped (SIGTERM, 1.6 s)`, or that SIGKILL was needed. */
export async function stopService(
  name: string,
  config: Config,
  say: (line: string) => void = console.log,
): Promise<StopResult> {
  const service = requireService(name);
  const supervisor = new Supervisor(config.stateDir);
  if (supervisor.status(name).state === 'running') {
    await service.beforeStop?.(config).catch(() => undefined);
  }
  const started = performance.now();
  const outcome = await supervisor.stop(name, config.services.stopTimeoutMs);
  const seconds = (performance.now() - started) / 1000;
  const messages = {
    stopped: `${name} stopped (SIGTERM, ${seconds.toFixed(1)} s)`,
    killed: `${name} did not stop within ${config.services.stopTimeoutMs} ms of SIGTERM and was killed`,
    'not-running': `${name} is not running`,
  };
  say(messages[outcome]);
  return { outcome, seconds };
}

/** Stops every service, the ones that depend on others first. */
export async function stopAll(config: Config, say: (line: string) => void = console.log): Promise<void> {
  const supervisor = new Supervisor(config.stateDir);
  const started = [...SERVICES].reverse().filter(({ name }) => supervisor.status(name).state !== 'stopped');
  await stopServices(
    started.map(({ name }) => name),
    config,
    say,
  );
}

/**
 * Stops `names` in this order, except that consecutive nodes of one quorum (ServiceDefinition.quorum) are
 * stopped at the same time.
 */
export async function stopServices(
  names: readonly string[],
  config: Config,
  say: (line: string) => void = console.log,
): Promise<void> {
  const batches: ServiceDefinition[][] = [];
  for (const service of names.map(requireService)) {
    const last = batches.at(-1);
    if (service.quorum !== undefined && last?.[0]?.quorum === service.quorum) last.push(service);
    else batches.push([service]);
  }
  for (const batch of batches) {
    await Promise.all(batch.map(({ name }) => stopService(name, config, say)));
  }
}

export interface ServiceRow {
  name: string;
  state: 'running' | 'exited' | 'stopped';
  pid: number | undefined;
  uptimeSeconds: number | undefined;
  log: string | undefined;
}

export function showServices(config: Config): ServiceRow[] {
  const supervisor = new Supervisor(config.stateDir);
  return SERVICES.map(({ name }) => {
    const status = supervisor.status(name);
    if (status.state === 'stopped') {
      return { name, state: 'stopped', pid: undefined, uptimeSeconds: undefined, log: undefined };
    }
    const { pid, startedAt, log } = status.record;
    const uptimeSeconds =
      status.state === 'running' ? Math.round((Date.now() - Date.parse(startedAt)) / 1000) : undefined;
    return { name, state: status.state, pid, uptimeSeconds, log };
  });
}

export function formatServiceTable(rows: ServiceRow[]): string {
  return formatTable(
    ['SERVICE', 'STATE', 'PID', 'UPTIME', 'LOG'],
    rows.map((row) => [
      row.name,
      row.state,
      row.pid === undefined ? '-' : String(row.pid),
      row.uptimeSeconds === undefined ? '-' : formatDuration(row.uptimeSeconds),
      row.log ?? '-',
    ]),
  );
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(s).padStart(2, '0')}s`
      : `${s}s`;
}

function requireService(name: string): ServiceDefinition {
  const service = findService(name);
  if (service === undefined) {
    throw new ServiceError(`unknown service '${name}'; known: ${SERVICES.map((s) => s.name).join(', ')}`);
  }
  return service;
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
