// A saved filter with `distribute: true` that reads `watchlist` publishes exactly the alerts that hit the
// watchlist: raw2science records the hits in each alert's record, and distribution evaluates the filter on it
// (before, nothing implemented the lookup and such a filter never published anything).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZtfDecoder, type ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { decodeDistributionMessage } from '../../src/pipeline/encode/distribution.ts';
import { distributionTopic } from '../../src/pipeline/filters/builtin.ts';
import { angularDistanceArcsec } from '../../src/sky/angles.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { ClickHouseSavedFilterStore } from '../../src/storage/saved-filter-store.ts';
import { sql } from '../../src/storage/sql.ts';
import { ClickHouseWatchlistStore } from '../../src/storage/watchlist-store.ts';
import { consumeMessages, testKafka } from '../helpers/kafka.ts';
import { createPipelineSandbox, readAll, type PipelineSandbox } from '../helpers/pipeline.ts';
import { committedOffsets, endOffsets } from '../helpers/processes.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

let sandbox: PipelineSandbox;
/** The candids of the alerts passing the cuts that fall within a target. */
const watched = new Set<string>();
let topic: string;

beforeAll(async () => {
  const payloads = readAll(ztfAlertFiles());
  const decoder = createZtfDecoder();
  const passing = payloads
    .map((payload) => decoder.decode(payload))
    .filter(({ candidate: { rb, nbad } }) => rb !== null && rb >= 0.55 && nbad === 0);
  const within = (target: ZtfAlert, alert: ZtfAlert) =>
    angularDistanceArcsec(
      target.candidate.ra,
      target.candidate.dec,
      alert.candidate.ra,
      alert.candidate.dec,
    ) < 2;
  // Targets (2") on three objects with few neighbours (many datasim alerts share one position): the alerts
  // passing the cuts within a target are the hits.
  const objects = [...new Map(passing.map((a) => [a.objectId, a])).values()]
    .filter((target) => passing.filter((alert) => within(target, alert)).length <= 4)
    .slice(0, 3);
  for (const alert of passing) {
    if (objects.some((target) => within(target, alert))) watched.add(alert.candid.toString());
  }
  sandbox = await createPipelineSandbox('dwl');
  const [watchlist] = await new ClickHouseWatchlistStore(sandbox.db.client).save([
    {
      id: 'wl-distributed',
      owner: 'ann',
      name: 'Distributed',
      public: true,
      previous: null,
      targets: objects.map((o) => ({
        ra: o.candidate.ra,
        dec: o.candidate.dec,
        radiusArcsec: 2,
        label: o.objectId,
      })),
    },
  ]);
  const [filter] = await new ClickHouseSavedFilterStore(sandbox.db.client).create([
    { owner: 'ann', name: 'on_my_list', definition: { watchlist: watchlist!.id }, distribute: true },
  ]);
  topic = distributionTopic(sandbox.config.pipeline.distributionPrefix, filter!.name, 'ztf');
  await sandbox.start('stream2raw');
  await sandbox.start('raw2science');
  await sandbox.start('distribution');
  await sandbox.publish(payloads);
  const distinct = new Set(passing.map((a) => a.candid)).size;
  await waitFor(async () => {
    const [row] = await queryRows<{ n: string }>(
      sandbox.db.client,
      sql`SELECT count() AS n FROM alerts FINAL`,
    );
    return Number(row?.n) === distinct;
  }, 120_000);
}, 300_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe('a distributed saved filter on a watchlist', () => {
  it('publishes exactly the alerts that hit the watchlist', async () => {
    expect(watched.size).toBeGreaterThan(2);
    // Hits are written after the alerts (raw2science records them once the science tables acknowledged).
    await waitFor(async () => {
      const [hits] = await queryRows<{ n: string }>(
        sandbox.db.client,
        sql`SELECT uniqExact(alert_id) AS n FROM watchlist_hits WHERE watchlist_id = 'wl-distributed'`,
      );
      return Number(hits?.n) === watched.size;
    }, 60_000);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const published = async () =>
        (await endOffsets(admin, topic).catch(() => [0])).reduce((a, b) => a + b, 0);
      // The topic is created with its first message.
      await waitFor(async () => (await published()) >= watched.size, 60_000);
      const messages = await consumeMessages(testKafka(), topic, watched.size, 60_000);
      const ids = messages.map((m) => String(decodeDistributionMessage(m.key!, m.value!).record.candid));
      expect(new Set(ids)).toEqual(watched);
      // Nothing more: once distribution committed the whole science topic, the filter's topic holds these alone.
      const { groupPrefix, scienceTopic } = sandbox.config.pipeline;
      const end = JSON.stringify(await endOffsets(admin, scienceTopic));
      await waitFor(
        async () =>
          JSON.stringify(await committedOffsets(admin, `${groupPrefix}-distribution`, scienceTopic)) === end,
        60_000,
      );
      expect(await published()).toBe(messages.length);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
