// Prometheus metrics for every service: counters and histograms from prom-client, served at /metrics.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './logger.ts';

export interface PipelineMetrics {
  registry: Registry;
  /** Messages received from Kafka, by topic. */
  received: Counter<'topic'>;
  /** Alerts written, by table. */
  written: Counter<'table'>;
  /** Alerts dropped by a stage (a quality cut), by stage and reason. */
  dropped: Counter<'step' | 'reason'>;
  /** Messages sent to the dead-letter topic, by reason. */
  deadLetters: Counter<'reason'>;
  /**
   * Messages this service does not process and leaves to another's dead letters (raw2science skips what
   * stream2raw cannot decode: each bad message is dead-lettered once), by reason.
   */
  skipped: Counter<'reason'>;
  /** Messages archived with a problem flag (stream2raw: out of bounds, dead-lettered by raw2science), by reason. */
  flagged: Counter<'reason'>;
  /** Classifier runs that failed on one alert (its score stored as null), by classifier and reason. */
  classifierFailures: Counter<'classifier' | 'reason'>;
  /**
   * Cutouts of stored alerts that are not a readable FITS image (corrupt upstream stamps), by kind (science,
   * template, difference). The alert is stored all the same; the cutout endpoint answers them 422.
   */
  cutoutsUnreadable: Counter<'kind'>;
  /** Messages published, by topic. */
  published: Counter<'topic'>;
  /** Seconds to process and write one batch. */
  batchSeconds: Histogram<string>;
  /** Seconds from receipt to acknowledged write, per alert. */
  latencySeconds: Histogram<string>;
  /** Retries of a failed write (ClickHouse or Kafka unavailable). */
  retries: Counter<'target'>;
  /** Consumer lag per topic and partition (checkstream). */
  lag: Gauge<'group' | 'topic' | 'partition'>;
}

export function createMetrics(service: string): PipelineMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    received: new Counter({
      name: 'fink_messages_received_total',
      help: 'Messages received',
      labelNames: ['topic'],
      registers,
    }),
    written: new Counter({
      name: 'fink_rows_written_total',
      help: 'Rows written',
      labelNames: ['table'],
      registers,
    }),
    dropped: new Counter({
      name: 'fink_alerts_dropped_total',
      help: 'Alerts dropped by a stage',
      labelNames: ['step', 'reason'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'fink_dead_letters_total',
      help: 'Messages sent to the dead-letter topic',
      labelNames: ['reason'],
      registers,
    }),
    skipped: new Counter({
      name: 'fink_messages_skipped_total',
      help: "Messages left to another service's dead letters",
      labelNames: ['reason'],
      registers,
    }),
    flagged: new Counter({
      name: 'fink_messages_flagged_total',
      help: 'Messages archived with a problem flag',
      labelNames: ['reason'],
      registers,
    }),
    classifierFailures: new Counter({
      name: 'fink_classifier_failures_total',
      help: 'Classifier runs that failed on one alert (score stored as null)',
      labelNames: ['classifier', 'reason'],
      registers,
    }),
    cutoutsUnreadable: new Counter({
      name: 'fink_cutouts_unreadable_total',
      help: 'Cutouts of stored alerts that are not a readable FITS image',
      labelNames: ['kind'],
      registers,
    }),
    published: new Counter({
      name: 'fink_messages_published_total',
      help: 'Messages published',
      labelNames: ['topic'],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'fink_batch_seconds',
      help: 'Time to process and write one batch',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    latencySeconds: new Histogram({
      name: 'fink_receipt_to_stored_seconds',
      help: 'Time from receipt to acknowledged write, per alert',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30],
      registers,
    }),
    retries: new Counter({
      name: 'fink_write_retries_total',
      help: 'Retried writes',
      labelNames: ['target'],
      registers,
    }),
    lag: new Gauge({
      name: 'fink_consumer_lag',
      help: 'Consumer lag in messages',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    }),
  };
}

/**
 * Serves /metrics on `host`:`port` (port 0: no server). When the port is taken (a second worker of the same service on this
 * machine), an ephemeral port is used instead and logged.
 */
export async function serveMetrics(
  registry: Registry,
  port: number,
  logger: Logger,
  host = '127.0.0.1',
): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => response.writeHead(500).end(String(err)),
    );
  });
  const listen = (p: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    await listen(0);
  }
  const address = server.address();
  logger.info(
    { port: typeof address === 'object' && address !== null ? address.port : port },
    'metrics at /metrics',
  );
  server.unref();
  return server;
}
