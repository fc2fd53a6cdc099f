// The sizing tables of docs/deployment.md, computed from the figures measured in BENCHMARKS.md and a few stated
// assumptions, so that the document can be redone when a figure changes: `npx tsx scripts/sizing.ts`.

/** Measured on the 2-core machine (BENCHMARKS.md, "End to end", 100,000 synthetic ZTF alerts, 2026-12-02). */
export const MEASURED = {
  /** The synthetic alerts of those runs: 52 KB each, 41.5 KB of them cutouts. */
  packetKB: 52,
  /** CPU per alert: raw2science with Fink's classifiers; stream2raw, ClickHouse, Kafka of the issue 10 runs. */
  cpuMs: { stream2raw: 0.51, raw2science: 1.2, distribution: 0.71, clickhouse: 0.8, kafka: 0.12 },
  /** ClickHouse bytes on disk per alert (active parts: raw archive, alerts, light curves, views), one copy. */
  clickhouseKB: 42.6,
  /** The science record raw2science publishes, per alert (the issue 10 section: ~3 KB). */
  scienceRecordKB: 3,
  /** Copies distribution publishes per alert: 28,773 for 100,000 alerts with Fink's classifiers. */
  distributionCopiesPerAlert: 0.29,
  /** Peak RSS against the bytes of a batch: paced 300/s (~300-alert batches) and backlog (5,000-alert batches). */
  rss: {
    stream2raw: { smallMiB: 231, largeMiB: 825 },
    raw2science: { smallMiB: 340, largeMiB: 1100 },
    smallBatchMB: (300 * 52) / 1000,
    largeBatchMB: (5000 * 52) / 1000,
  },
};

/** Choices of this document, not measurements. */
export const POLICY = {
  /** The latency requirement: an exposure's alerts through the pipeline within this. */
  latencyS: 60,
  /** Of it, each stage's share: stream2raw and raw2science run side by side, distribution after raw2science. */
  budgetS: { stream2raw: 30, raw2science: 30, distribution: 20 },
  /** A worker is one Node process (~one core); planned at most this busy. */
  utilisation: 0.7,
  /** Workers beyond the computed number: one may be lost or restarting. */
  spareWorkers: 1,
  clickhouseReplicas: 2,
  kafkaReplication: 3,
  kafkaBrokers: 3,
  kafkaRetentionNights: 2,
  /** Disk margin over the computed bytes (merges, skew between shards, growth). */
  diskMargin: 1.3,
  /** Nights a year: every night (an upper bound; BENCHMARKS.md's "a year of Rubin, ~3.6 billion alerts"). */
  nightsPerYear: 360,
  /** raw2science's batch for each survey's packets (pipeline.batchMaxMessages). */
  batchMaxMessages: 5000,
};

export interface Survey {
  name: string;
  alertsPerNight: number;
  packetKB: number;
  /** Alerts of one exposure (visit) and the time between exposures: the burst the latency applies to. */
  alertsPerExposure: number;
  exposureIntervalS: number;
  /** Hours of observing a night: the night's average rate is alertsPerNight over them. */
  nightHours: number;
  batchMaxMessages: number;
}

export const SURVEYS: Survey[] = [
  // ZTF at 1 M alerts a night (a busy night; 200,000 is typical): real ZTF packets here are ~60 KB; a design peak
  // of 5,000 alerts in one ~40 s exposure (4x the average of such a night: an assumption, not a measurement).
  {
    name: 'ZTF, 1 M alerts/night',
    alertsPerNight: 1e6,
    packetKB: 60,
    alertsPerExposure: 5000,
    exposureIntervalS: 40,
    nightHours: 8,
    batchMaxMessages: 5000,
  },
  {
    name: 'ZTF, 200k alerts/night',
    alertsPerNight: 2e5,
    packetKB: 60,
    alertsPerExposure: 5000,
    exposureIntervalS: 40,
    nightHours: 8,
    batchMaxMessages: 5000,
  },
  // Rubin: ~10,000 alerts per visit every ~39 s, median packet ~176 KB (issue 13).
  {
    name: 'Rubin, 10 M alerts/night',
    alertsPerNight: 1e7,
    packetKB: 176,
    alertsPerExposure: 10000,
    exposureIntervalS: 39,
    // 10 M alerts at 10,000 per 39 s: 10.8 hours of visits.
    nightHours: 10.8,
    batchMaxMessages: 2000,
  },
];

type Service = 'stream2raw' | 'raw2science' | 'distribution';
const SERVICES: Service[] = ['stream2raw', 'raw2science', 'distribution'];

export interface Sizing {
  survey: Survey;
  /** Packet bytes over the measured synthetic alert's: the factor applied to CPU and bytes per alert. */
  scale: number;
  cpuMs: Record<Service | 'clickhouse' | 'kafka', number>;
  workers: Record<Service, { needed: number; replicas: number; burstS: number; catchUp: number }>;
  memoryMiB: Record<'stream2raw' | 'raw2science', number>;
  averageCores: Record<Service | 'clickhouse' | 'kafka', number>;
  clickhouse: { tbPerNight: number; tbPerYear: number; perNodeTB: number };
  kafka: {
    kbPerAlert: number;
    tbPerNight: number;
    retainedTB: number;
    perBrokerTB: number;
    averageMBps: number;
    exposureGB: number;
  };
}

export function size(survey: Survey, measured = MEASURED, policy = POLICY): Sizing {
  const scale = survey.packetKB / measured.packetKB;
  const cpuMs = {
    stream2raw: measured.cpuMs.stream2raw * scale,
    raw2science: measured.cpuMs.raw2science * scale,
    distribution: measured.cpuMs.distribution * scale,
    // Every replica writes (and merges) its copy; every Kafka replica writes the bytes.
    clickhouse: measured.cpuMs.clickhouse * scale * policy.clickhouseReplicas,
    kafka: measured.cpuMs.kafka * scale * policy.kafkaReplication,
  };
  const arrivalPerS = survey.alertsPerExposure / survey.exposureIntervalS;
  const workers = Object.fromEntries(
    SERVICES.map((service) => {
      const burstCpuS = (survey.alertsPerExposure * cpuMs[service]) / 1000;
      const needed = Math.max(1, Math.ceil(burstCpuS / (policy.budgetS[service] * policy.utilisation)));
      const replicas = needed + policy.spareWorkers;
      // Time for `needed` workers to clear one exposure, and how much faster than arrival a backlog drains.
      const burstS = burstCpuS / needed;
      const catchUp = (needed * 1000) / cpuMs[service] / arrivalPerS;
      return [service, { needed, replicas, burstS, catchUp }];
    }),
  ) as Sizing['workers'];
  const batchMB = (survey.batchMaxMessages * survey.packetKB) / 1000;
  const rssAt = (small: number, large: number): number => {
    const slope = (large - small) / (measured.rss.largeBatchMB - measured.rss.smallBatchMB);
    return small + slope * (batchMB - measured.rss.smallBatchMB);
  };
  const memoryMiB = {
    stream2raw: rssAt(measured.rss.stream2raw.smallMiB, measured.rss.stream2raw.largeMiB),
    raw2science: rssAt(measured.rss.raw2science.smallMiB, measured.rss.raw2science.largeMiB),
  };
  const nightAlertsPerS = survey.alertsPerNight / (survey.nightHours * 3600);
  const averageCores = Object.fromEntries(
    Object.entries(cpuMs).map(([k, ms]) => [k, (nightAlertsPerS * ms) / 1000]),
  ) as Sizing['averageCores'];
  const chKB = measured.clickhouseKB * scale;
  const chTBPerNight = (survey.alertsPerNight * chKB * policy.clickhouseReplicas) / 1e9;
  const chTBPerYear = chTBPerNight * policy.nightsPerYear;
  const shards = 2;
  const kafkaKB =
    survey.packetKB +
    measured.scienceRecordKB +
    measured.distributionCopiesPerAlert * (survey.packetKB + measured.scienceRecordKB);
  const kafkaTBPerNight = (survey.alertsPerNight * kafkaKB * policy.kafkaReplication) / 1e9;
  const retainedTB = kafkaTBPerNight * policy.kafkaRetentionNights;
  return {
    survey,
    scale,
    cpuMs,
    workers,
    memoryMiB,
    averageCores,
    clickhouse: {
      tbPerNight: chTBPerNight,
      tbPerYear: chTBPerYear,
      perNodeTB: (chTBPerYear * policy.diskMargin) / (shards * policy.clickhouseReplicas),
    },
    kafka: {
      kbPerAlert: kafkaKB,
      tbPerNight: kafkaTBPerNight,
      retainedTB,
      perBrokerTB: (retainedTB * policy.diskMargin) / policy.kafkaBrokers,
      averageMBps: (nightAlertsPerS * kafkaKB * policy.kafkaReplication) / 1000,
      exposureGB: (survey.alertsPerExposure * kafkaKB * policy.kafkaReplication) / 1e6,
    },
  };
}

function f(value: number, digits = 2): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatTables(sizings: Sizing[]): string {
  const head = (title: string): string =>
    `| ${title} | ${sizings.map((s) => s.survey.name).join(' | ')} |\n|---|${sizings.map(() => '---').join('|')}|`;
  const row = (label: string, cell: (s: Sizing) => string): string =>
    `| ${label} | ${sizings.map(cell).join(' | ')} |`;
  const lines = [
    head('input'),
    row('alerts per night', (s) => f(s.survey.alertsPerNight, 0)),
    row('packet KB (scale over the measured 52 KB)', (s) => `${s.survey.packetKB} (x${f(s.scale)})`),
    row(
      'alerts per exposure / every',
      (s) => `${f(s.survey.alertsPerExposure, 0)} / ${s.survey.exposureIntervalS} s`,
    ),
    row(
      'hours of observing; average alerts/s',
      (s) => `${s.survey.nightHours} h; ${f(s.survey.alertsPerNight / (s.survey.nightHours * 3600), 0)}/s`,
    ),
    '',
    head('CPU ms per alert (measured x scale; ClickHouse x2 replicas, Kafka x3)'),
    ...(['stream2raw', 'raw2science', 'distribution', 'clickhouse', 'kafka'] as const).map((k) =>
      row(k, (s) => f(s.cpuMs[k])),
    ),
    '',
    head('workers: ceil(exposure CPU s / (budget x 0.7)) + 1 spare'),
    ...SERVICES.map((k) =>
      row(
        `${k} (budget ${POLICY.budgetS[k]} s)`,
        (s) =>
          `${s.workers[k].replicas} (${s.workers[k].needed} needed: exposure in ${f(s.workers[k].burstS, 1)} s, catch-up x${f(s.workers[k].catchUp, 1)})`,
      ),
    ),
    '',
    head('cores, night average (average alerts/s x ms)'),
    ...(['stream2raw', 'raw2science', 'distribution', 'clickhouse', 'kafka'] as const).map((k) =>
      row(k, (s) => f(s.averageCores[k])),
    ),
    '',
    head('memory (RSS at the batch size, linear in batch bytes)'),
    row('batchMaxMessages', (s) => f(s.survey.batchMaxMessages, 0)),
    row('stream2raw MiB', (s) => f(s.memoryMiB.stream2raw, 0)),
    row('raw2science MiB', (s) => f(s.memoryMiB.raw2science, 0)),
    '',
    head('ClickHouse disk (42.6 KB/alert x scale, 2 replicas)'),
    row('TB per night (both replicas)', (s) => f(s.clickhouse.tbPerNight, 3)),
    row(`TB per year (${POLICY.nightsPerYear} nights)`, (s) => f(s.clickhouse.tbPerYear, 1)),
    row('TB per node, 2 shards x 2 replicas, x1.3 margin', (s) => f(s.clickhouse.perNodeTB, 1)),
    '',
    head('Kafka (packet + 3 KB record + 0.29 distribution copies, replication 3)'),
    row('KB per alert, one replica', (s) => f(s.kafka.kbPerAlert, 0)),
    row('TB per night (3 replicas)', (s) => f(s.kafka.tbPerNight, 3)),
    row(`retained, ${POLICY.kafkaRetentionNights} nights, TB`, (s) => f(s.kafka.retainedTB, 2)),
    row('TB per broker (3 brokers, x1.3)', (s) => f(s.kafka.perBrokerTB, 2)),
    row('written MB/s, night average (3 replicas)', (s) => f(s.kafka.averageMBps, 0)),
    row('written GB per exposure (3 replicas)', (s) => f(s.kafka.exposureGB, 2)),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatTables(SURVEYS.map((survey) => size(survey))));
}
