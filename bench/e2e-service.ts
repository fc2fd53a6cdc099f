// One pipeline service for `npm run bench e2e`, in a process of its own as `fink start` runs it (so that its
// CPU and peak RSS are its own), started by bench/e2e.bench.ts with fork(): `e2e-service.ts <service>`, the
// config in FINK_CONFIG.
//
// The service is the production one (runServiceIn, unchanged). Its exact per-alert receipt-to-stored latencies
// are taken from the observations it already makes: after each acknowledged batch, stream2raw and raw2science
// observe (now - receivedAt) per alert in the fink_receipt_to_stored_seconds histogram (distribution: per
// science message, once its matches are published), whose buckets are too coarse for a p50/p99. Histogram's observe is wrapped here, in this process only, to keep each value with the
// time it was observed.
//
// IPC to the parent: { type: 'ready' } once the consumer joined its group; on SIGTERM the service stops, then
// sends { type: 'report', ... } (E2eServiceReport) and the process exits.
import { readdirSync } from 'node:fs';
import { Histogram } from 'prom-client';
import { runServiceIn } from '../src/cli/run.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { envInteger } from './env.ts';
import { statCpuSeconds } from './proc.ts';

const LATENCY_METRIC = 'fink_receipt_to_stored_seconds';

export interface E2eServiceReport {
  type: 'report';
  service: string;
  /** Receipt-to-stored latency of every stored alert [ms]. */
  latenciesMs: number[];
  /** Earliest receipt of a stored alert and latest acknowledged write [ms since epoch]; 0 when none. */
  firstReceivedAt: number;
  lastStoredAt: number;
  /** CPU time from ready to stop [s], this process (all threads). */
  userSeconds: number;
  systemSeconds: number;
  /** Peak resident set size over the process's life [bytes]. */
  maxRssBytes: number;
  /** Minor page faults from ready to stop: fresh memory touched (each costs kernel time on this VM). */
  minorPageFaults: number;
  /**
   * CPU time [s] (all threads) from the moment BENCH_E2E_WARMUP alerts were stored to stop, and the alerts stored
   * in that span: the service once warm (V8 has compiled its hot code), without its first minutes' JIT work.
   * Absent when fewer alerts than that were stored.
   */
  warm?: {
    cpuSeconds: number;
    alerts: number;
    afterAlerts: number;
    /** The same span's CPU seconds of the main thread and of the other threads; absent where /proc is not. */
    threads?: ThreadCpu;
  };
  /**
   * CPU seconds over the process's life of its main thread and of all its other threads (V8's helpers: parallel
   * and concurrent GC, the optimising compiler; libuv's pool), from /proc; absent where there is none.
   */
  threads?: ThreadCpu;
}

/** CPU seconds of a process's main thread and of all its other threads. */
export interface ThreadCpu {
  mainSeconds: number;
  otherSeconds: number;
}

export type E2eServiceMessage = { type: 'ready' } | E2eServiceReport;

const service = process.argv[2];
if (service !== 'stream2raw' && service !== 'raw2science' && service !== 'distribution') {
  throw new Error(`usage: e2e-service.ts stream2raw|raw2science|distribution (got ${String(service)})`);
}
const send = (message: E2eServiceMessage, then?: () => void): void => {
  if (process.send === undefined) throw new Error('e2e-service.ts runs under fork() only (no IPC channel)');
  process.send(message, undefined, {}, () => then?.());
};

const latenciesMs: number[] = [];
/** Stored alerts after which the service counts as warm (see E2eServiceReport.warm). */
const WARMUP_ALERTS = envInteger('BENCH_E2E_WARMUP', 10_000, 1);
let warmAt: { cpu: NodeJS.CpuUsage; alerts: number; threads: ThreadCpu | undefined } | undefined;
let firstReceivedAt = Infinity;
let lastStoredAt = 0;
type Observe = (this: Histogram, ...args: unknown[]) => void;
// prom-client's constructor sets `this.observe = this.observeWithoutExemplar` (no exemplars configured).
const observe = Object.getOwnPropertyDescriptor(Histogram.prototype, 'observeWithoutExemplar')
  ?.value as Observe;
(Histogram.prototype as unknown as { observeWithoutExemplar: Observe }).observeWithoutExemplar =
  function observeAndKeep(this: Histogram, ...args) {
    // The service calls observe(seconds), without labels, right after the write that stores the alert.
    if ((this as unknown as { name: string }).name === LATENCY_METRIC && typeof args[0] === 'number') {
      const now = Date.now();
      const ms = args[0] * 1000;
      latenciesMs.push(ms);
      if (warmAt === undefined && latenciesMs.length >= WARMUP_ALERTS) {
        warmAt = { cpu: process.cpuUsage(), alerts: latenciesMs.length, threads: threadCpu() };
      }
      firstReceivedAt = Math.min(firstReceivedAt, now - ms);
      lastStoredAt = Math.max(lastStoredAt, now);
    }
    observe.apply(this, args);
  };

const config = loadConfig();
const controller = new AbortController();
process.once('SIGTERM', () => controller.abort());
let cpuAtReady: NodeJS.CpuUsage | undefined;
let faultsAtReady = 0;
await runServiceIn({
  name: service,
  config,
  logger: createLogger(config.log).child({ service }),
  signal: controller.signal,
  markReady: () => {
    if (cpuAtReady === undefined) {
      cpuAtReady = process.cpuUsage();
      faultsAtReady = process.resourceUsage().minorPageFault;
    }
    send({ type: 'ready' });
  },
});
const cpu = process.cpuUsage(cpuAtReady);
const threads = threadCpu();

/** CPU seconds of this process's main thread and of its other threads (Linux /proc; undefined elsewhere). */
function threadCpu(): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  let mainSeconds = 0;
  let otherSeconds = 0;
  for (const tid of tids) {
    const seconds = statCpuSeconds(`/proc/self/task/${tid}/stat`) ?? 0;
    if (Number(tid) === process.pid) mainSeconds += seconds;
    else otherSeconds += seconds;
  }
  return { mainSeconds, otherSeconds };
}

/** What the service used from the warm-up point on (E2eServiceReport.warm). */
function warmSpan(at: NonNullable<typeof warmAt>): NonNullable<E2eServiceReport['warm']> {
  const used = process.cpuUsage(at.cpu);
  const span: NonNullable<E2eServiceReport['warm']> = {
    cpuSeconds: (used.user + used.system) / 1e6,
    alerts: latenciesMs.length - at.alerts,
    afterAlerts: at.alerts,
  };
  if (threads !== undefined && at.threads !== undefined) {
    span.threads = {
      mainSeconds: threads.mainSeconds - at.threads.mainSeconds,
      otherSeconds: threads.otherSeconds - at.threads.otherSeconds,
    };
  }
  return span;
}

send(
  {
    type: 'report',
    service,
    latenciesMs,
    firstReceivedAt: latenciesMs.length === 0 ? 0 : Math.round(firstReceivedAt),
    lastStoredAt,
    userSeconds: cpu.user / 1e6,
    systemSeconds: cpu.system / 1e6,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    minorPageFaults: process.resourceUsage().minorPageFault - faultsAtReady,
    ...(threads === undefined ? {} : { threads }),
    ...(warmAt === undefined ? {} : { warm: warmSpan(warmAt) }),
  },
  () => process.disconnect(),
);
