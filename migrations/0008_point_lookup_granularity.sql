-- Point lookups read whole granules: with the default index_granularity of 8192, fetching one object's row or its
-- 13 light-curve points reads and merges (FINAL) 8,192 rows of every part. Measured on 10 million alerts
-- (BENCHMARKS.md, GraphQL API): 256 takes 50 objects by id from 113-288 ms to 26-29 ms, one light curve from
-- 12-16 ms to 4-4.6 ms. The index grows from 1 to 32 marks per 8,192 rows, a few MB at that scale.
-- ClickHouse cannot change the granularity of an existing table: each table is rebuilt and swapped. Run it with
-- the pipeline stopped (`fink demo` and the tests migrate before any service starts): rows written between the
-- copy and the swap would be lost with the old table.

CREATE TABLE IF NOT EXISTS objects_rebuilt (
  survey String,
  object_id String,
  version UInt64,
  last_alert_id UInt64,
  ra Float64,
  dec Float64,
  hpx UInt64,
  first_jd Float64,
  last_jd Float64,
  band String,
  mag Nullable(Float64),
  roid UInt8,
  ss_name String,
  class String,
  ndet UInt32,
  nlim UInt32,
  peak_mag Nullable(Float64),
  color_gr Nullable(Float64),
  rate Nullable(Float64),
  rising Nullable(UInt8),
  features String,
  updated_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY object_id
SETTINGS index_granularity = 256;

INSERT INTO objects_rebuilt SELECT * FROM objects;

RENAME TABLE objects TO objects_replaced, objects_rebuilt TO objects;

DROP TABLE objects_replaced;

CREATE TABLE IF NOT EXISTS lightcurve_rebuilt (
  survey String,
  object_id String,
  jd Float64,
  band String,
  kind String,
  mag Nullable(Float64),
  mag_err Nullable(Float64),
  limit_mag Nullable(Float64),
  flux Nullable(Float64),
  flux_err Nullable(Float64),
  negative UInt8,
  source_id UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (object_id, jd, band)
SETTINGS index_granularity = 256;

INSERT INTO lightcurve_rebuilt SELECT * FROM lightcurve;

RENAME TABLE lightcurve TO lightcurve_replaced, lightcurve_rebuilt TO lightcurve;

DROP TABLE lightcurve_replaced;

-- The cone search's access path: the same granularity, and no monthly partitions, so that a 10" disc reads a
-- few small granules of a few parts instead of a granule in each of ~23 parts.
DROP TABLE IF EXISTS alerts_by_hpx;

CREATE MATERIALIZED VIEW IF NOT EXISTS alerts_by_hpx
ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (hpx, alert_id)
SETTINGS index_granularity = 256
AS SELECT survey, alert_id, object_id, jd, night, ra, dec, hpx, band, mag, class, processed_at FROM alerts;

INSERT INTO alerts_by_hpx SELECT survey, alert_id, object_id, jd, night, ra, dec, hpx, band, mag, class, processed_at
FROM alerts;
