-- The science tables written by raw2science. Every table is a ReplacingMergeTree keyed so that replaying an
-- alert replaces its rows instead of adding new ones (at-least-once delivery, idempotent writes); queries that
-- must see each row once read with FINAL or group by the key. Sort keys serve the GraphQL queries:
-- by object (alerts, lightcurve, objects, crossmatches, classifications), by HEALPix cell (cone search:
-- alerts_by_hpx), by class and time (alerts_by_class), by night (alerts_by_night).

-- One row per alert that passed the quality cuts, with its enrichment. `candidate` is the survey's own record
-- of the triggering detection as JSON text (every field, for clients), stored, never parsed by SQL.
CREATE TABLE IF NOT EXISTS alerts (
  survey String,
  alert_id UInt64,
  object_id String,
  jd Float64,
  night Date,
  ra Float64,
  dec Float64,
  hpx UInt64,
  band String,
  mag Nullable(Float64),
  mag_err Nullable(Float64),
  roid UInt8,
  ss_name String,
  class String,
  ndet UInt32,
  nlim UInt32,
  first_jd Float64,
  last_jd Float64,
  peak_mag Nullable(Float64),
  color_gr Nullable(Float64),
  rate Nullable(Float64),
  rising Nullable(UInt8),
  features String,
  candidate String,
  topic String,
  partition UInt32,
  offset UInt64,
  processed_at DateTime
) ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toYYYYMM(night)
ORDER BY (object_id, jd, alert_id);

-- Light-curve points, deduplicated across alerts: the same exposure of an object arrives in every later alert's
-- history, and collapses to one row per (object, time, band).
CREATE TABLE IF NOT EXISTS lightcurve (
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
ORDER BY (object_id, jd, band);

-- Latest state of each object: the row from its most recent alert wins (version = time of that alert in ms).
CREATE TABLE IF NOT EXISTS objects (
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
ORDER BY object_id;

-- Cutouts as received (gzipped FITS for ZTF), apart from the alerts so that scans never read them.
CREATE TABLE IF NOT EXISTS cutouts (
  survey String,
  alert_id UInt64,
  object_id String,
  science String,
  template String,
  difference String
) ENGINE = ReplacingMergeTree
ORDER BY alert_id;

CREATE TABLE IF NOT EXISTS crossmatches (
  survey String,
  alert_id UInt64,
  object_id String,
  jd Float64,
  catalog String,
  source_id String,
  distance_arcsec Float64,
  type String
) ENGINE = ReplacingMergeTree
ORDER BY (object_id, catalog, alert_id);

-- Classification history with provenance: one row per classifier score, and one row (classifier 'fink') for the
-- final label, each with the classifier's version.
CREATE TABLE IF NOT EXISTS classifications (
  survey String,
  alert_id UInt64,
  object_id String,
  jd Float64,
  classifier String,
  version String,
  label String,
  score Nullable(Float64),
  processed_at DateTime
) ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (object_id, jd, alert_id, classifier, version);

-- Access paths kept by the server from every insert into alerts.
CREATE MATERIALIZED VIEW IF NOT EXISTS alerts_by_hpx
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toYYYYMM(night)
ORDER BY (hpx, alert_id)
AS SELECT survey, alert_id, object_id, jd, night, ra, dec, hpx, band, mag, class, processed_at FROM alerts;

CREATE MATERIALIZED VIEW IF NOT EXISTS alerts_by_class
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toYYYYMM(night)
ORDER BY (class, jd, alert_id)
AS SELECT survey, alert_id, object_id, jd, night, ra, dec, band, mag, rate, rising, class, processed_at FROM alerts;

CREATE MATERIALIZED VIEW IF NOT EXISTS alerts_by_night
ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (night, survey, class, alert_id)
AS SELECT survey, alert_id, object_id, jd, night, class, processed_at FROM alerts;
