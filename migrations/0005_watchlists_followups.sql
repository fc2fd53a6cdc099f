-- Watchlists (positions users want to hear about), the pipeline's hits on them, follow-up requests and the
-- webhooks follow-ups are posted to (src/storage/watchlist-store.ts, src/storage/followup-store.ts).

-- One visible row per watchlist: every create, update or delete inserts a row with a higher `version`, and
-- readers take the latest (FINAL). `targets_version` names the rows of watchlist_targets that hold its targets:
-- an update that changes only the name or visibility keeps them, one that replaces the targets writes a new set
-- first, so a reader that sees the header always finds complete targets. Bounds (checked by the API): name
-- <= 100 characters, <= 10,000 targets, radius <= 3600".
CREATE TABLE IF NOT EXISTS watchlists (
  watchlist_id String,
  owner String,
  name String,
  public UInt8,
  target_count UInt32,
  targets_version UInt64,
  created_at DateTime,
  updated_at DateTime,
  deleted UInt8,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY watchlist_id;

-- The targets of each (watchlist, targets_version), in the order they were given (`idx`). Readers join on the
-- header's targets_version. Superseded sets are never read again and are not removed (a mutation per update
-- would rewrite parts on 18.16); they are small (updates are human actions) and a maintenance
-- `ALTER TABLE watchlist_targets DELETE WHERE ...` can drop them.
CREATE TABLE IF NOT EXISTS watchlist_targets (
  watchlist_id String,
  targets_version UInt64,
  idx UInt32,
  ra Float64,
  dec Float64,
  radius_arcsec Float64,
  label String
) ENGINE = ReplacingMergeTree
ORDER BY (watchlist_id, targets_version, idx);

-- One row per (watchlist, alert) within a target's radius, written by raw2science after the science tables;
-- replaying an alert replaces its row. `target_label` is the nearest matching target's label.
CREATE TABLE IF NOT EXISTS watchlist_hits (
  watchlist_id String,
  alert_id UInt64,
  object_id String,
  survey String,
  target_label String,
  distance_arcsec Float64,
  jd Float64,
  ra Float64,
  dec Float64,
  recorded_at DateTime
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (watchlist_id, alert_id);

-- Which watchlists an object hit (AstroObject.watchlists): keyed by object, collapsing to one row per pair.
CREATE MATERIALIZED VIEW IF NOT EXISTS watchlist_hits_by_object
ENGINE = ReplacingMergeTree
ORDER BY (object_id, watchlist_id)
AS SELECT object_id, watchlist_id FROM watchlist_hits;

-- Follow-up requests, as stored when the mutation accepted them (priority is LOW, NORMAL, HIGH or URGENT).
CREATE TABLE IF NOT EXISTS followups (
  request_id String,
  object_id String,
  facility String,
  priority String,
  note String,
  user String,
  created_at DateTime
) ENGINE = ReplacingMergeTree
ORDER BY (object_id, request_id);

-- Webhooks follow-ups are POSTed to. The secret is stored in clear because it is needed to sign each delivery
-- (HMAC-SHA256); the API never returns it. `facilities` empty: every facility. Latest `version` wins (FINAL).
CREATE TABLE IF NOT EXISTS webhooks (
  webhook_id String,
  owner String,
  url String,
  secret String,
  facilities Array(String),
  active UInt8,
  created_at DateTime,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY webhook_id;
