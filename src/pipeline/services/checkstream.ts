// checkstream: a live view of the stream. Per topic: messages in total and per second; per consumer group:
// committed position and lag. Sampled from the brokers' offsets, so it watches without consuming.
import type { Admin } from 'kafkajs';

export interface TopicStatus {
  topic: string;
  /** Sum of the partitions' high watermarks: messages ever written (while retained). */
  total: number;
  /** Messages per second since the previous sample; null on the first. */
  rate: number | null;
  /** Lag per consumer group that has committed offsets on this topic. */
  lag: Record<string, number>;
}

export interface StreamSample {
  at: number;
  totals: Map<string, number>;
}

/** Topics worth watching: the given ones plus every `fink_*` topic (science, dead letters, distribution). */
export async function watchedTopics(admin: Admin, topics: string[]): Promise<string[]> {
  const existing = await admin.listTopics();
  const wanted = new Set([
    ...topics.filter((t) => existing.includes(t)),
    ...existing.filter((t) => t.startsWith('fink_')),
  ]);
  return [...wanted].sort();
}

export async function sampleStream(
  admin: Admin,
  topics: string[],
  groups: string[],
  previous: StreamSample | undefined,
): Promise<{ rows: TopicStatus[]; sample: StreamSample }> {
  const at = Date.now();
  const totals = new Map<string, number>();
  const rows: TopicStatus[] = [];
  const highs = new Map<string, Map<number, number>>();
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const byPartition = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    highs.set(topic, byPartition);
    totals.set(
      topic,
      [...byPartition.values()].reduce((a, b) => a + b, 0),
    );
  }
  const lags = new Map<string, Record<string, number>>(topics.map((t) => [t, {}]));
  for (const groupId of groups) {
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const { topic, partitions } of committed) {
      const high = highs.get(topic);
      if (high === undefined || partitions.every((p) => Number(p.offset) < 0)) continue;
      let lag = 0;
      for (const { partition, offset } of partitions) {
        const position = Number(offset) < 0 ? 0 : Number(offset);
        lag += Math.max(0, (high.get(partition) ?? 0) - position);
      }
      lags.get(topic)![groupId] = lag;
    }
  }
  for (const topic of topics) {
    const total = totals.get(topic) ?? 0;
    const before = previous?.totals.get(topic);
    const seconds = previous === undefined ? 0 : (at - previous.at) / 1000;
    rows.push({
      topic,
      total,
      rate: before === undefined || seconds <= 0 ? null : (total - before) / seconds,
      lag: lags.get(topic) ?? {},
    });
  }
  return { rows, sample: { at, totals } };
}
