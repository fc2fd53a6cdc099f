-- Cutouts stored once: the images travel inside each alert's bytes, which raw_alerts keeps as received, so the
-- second copy in `cutouts` goes, and the cutout endpoints read the raw archive (src/pipeline/archive-cutouts.ts).
-- A point lookup reads whole granules: with the default index_granularity of 8192 rows of ~50 KB, one cutout
-- request read ~400 MB (measured p50 1.2 s on 20,000 alerts, BENCHMARKS.md "Cutouts"); at 64 rows a granule is
-- ~3 MB (p50 27 ms). 64 and not less: the primary index is held in memory, one entry per granule, and at
-- Rubin's ~10 million alerts a night a year of 64-row granules is ~56 million entries (~1 GB).
-- ClickHouse cannot change the granularity of an existing table: it is rebuilt and swapped. Run it with the
-- pipeline stopped (rows written between the copy and the swap would be lost with the old table).

CREATE TABLE IF NOT EXISTS raw_alerts_rebuilt (
  survey String,
  alert_id UInt64,
  object_id String,
  ra Float64,
  dec Float64,
  jd Float64,
  topic String,
  partition UInt32,
  offset UInt64,
  received_at DateTime,
  payload String,
  problem String DEFAULT ''
) ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (survey, alert_id)
SETTINGS index_granularity = 64;

INSERT INTO raw_alerts_rebuilt SELECT survey, alert_id, object_id, ra, dec, jd, topic, partition, offset,
  received_at, payload, problem FROM raw_alerts;

RENAME TABLE raw_alerts TO raw_alerts_replaced, raw_alerts_rebuilt TO raw_alerts;

DROP TABLE raw_alerts_replaced;

DROP TABLE IF EXISTS cutouts;
