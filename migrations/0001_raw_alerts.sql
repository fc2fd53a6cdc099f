-- The lossless archive written by stream2raw: every alert as received (raw Avro bytes) plus the key fields
-- needed to find it again. ReplacingMergeTree on (survey, alert_id): replaying an alert keeps one visible row.
CREATE TABLE IF NOT EXISTS raw_alerts (
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
  payload String
) ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (survey, alert_id);
