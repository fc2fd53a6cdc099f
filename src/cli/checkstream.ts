// checkstream, as a foreground command (`fink checkstream`) and as a service (`fink start checkstream`).
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { PipelineMetrics } from '../metrics.ts';
import {
  sampleStream,
  watchedTopics,
  type StreamSample,
  type TopicStatus,
} from '../pipeline/services/checkstream.ts';
import { formatTable } from './table.ts';

export const PIPELINE_GROUPS = ['stream2raw', 'raw2science', 'distribution'];

export function formatStreamStatus(rows: TopicStatus[]): string {
  return formatTable(
    ['TOPIC', 'TOTAL', 'MSG/S', 'LAG BY GROUP'],
    rows.map((row) => [
      row.topic,
      String(row.total),
      row.rate === null ? '-' : row.rate.toFixed(1),
      Object.entries(row.lag)
        .map(([group, lag]) => `${group}=${lag}`)
        .join(' ') || '-',
    ]),
  );
}

export interface CheckstreamOptions {
  kafka: Kafka;
  config: Config;
  intervalMs: number;
  signal: AbortSignal;
  /** Each sample, after the first (which has no rate yet) unless `once`. */
  onSample: (rows: TopicStatus[]) => void;
  once?: boolean;
}

/** Samples the stream every interval until aborted (or once). */
export async function watchStream(options: CheckstreamOptions): Promise<void> {
  const { kafka, config, intervalMs, signal, onSample } = options;
  const groups = PIPELINE_GROUPS.map((name) => `${config.pipeline.groupPrefix}-${name}`);
  const upstream = [...config.pipeline.topics, config.simulator.topic, config.simulator.rubinTopic];
  const admin = kafka.admin();
  await admin.connect();
  try {
    let previous: StreamSample | undefined;
    while (!signal.aborted) {
      const topics = await watchedTopics(admin, upstream);
      const { rows, sample } = await sampleStream(admin, topics, groups, previous);
      if (options.once === true || previous !== undefined) onSample(rows);
      if (options.once === true) return;
      previous = sample;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** The service: the same samples as gauges on /metrics and as one log line each. */
export function reportToMetrics(metrics: PipelineMetrics, logger: Logger) {
  return (rows: TopicStatus[]): void => {
    for (const row of rows) {
      for (const [group, lag] of Object.entries(row.lag))
        metrics.lag.set({ group, topic: row.topic, partition: 'all' }, lag);
    }
    logger.info(
      { topics: rows.map((row) => ({ topic: row.topic, total: row.total, rate: row.rate, lag: row.lag })) },
      'stream sample',
    );
  };
}
