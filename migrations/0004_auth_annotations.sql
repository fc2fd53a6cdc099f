-- API tokens, annotations and community votes (src/storage/token-store.ts, src/storage/collab-store.ts).
--
-- `api_tokens`: one visible row per token. The token itself is never stored: only the SHA-256 (hex) of its
-- secret part, compared in constant time. Revoking inserts the same token with `revoked` = 1 and a higher
-- `version`; readers take the latest row per token_id with argMax(.., version), not FINAL, so the answer does
-- not depend on merge timing. ReplacingMergeTree(version) lets merges discard the superseded rows.
CREATE TABLE IF NOT EXISTS api_tokens (
  token_id String,
  user_name String,
  role String,
  secret_hash String,
  created_at DateTime,
  revoked UInt8,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY token_id;

-- `annotations`: every version of every annotation is a row of its own (the history is kept and queryable).
-- An edit or a retraction writes version + 1; the current state of an annotation is its highest version.
-- The key includes the version, so a retried insert of the same version collapses into one row (read with FINAL).
-- Citations are two parallel arrays (kind, value) of the same length: 18.16 reads and writes these in VALUES
-- without tuple literals. `classification` is '' when the author gave none.
CREATE TABLE IF NOT EXISTS annotations (
  annotation_id String,
  version UInt32,
  object_id String,
  author String,
  text String,
  tags Array(String),
  classification String,
  citation_kinds Array(String),
  citation_values Array(String),
  retracted UInt8,
  created_at DateTime
) ENGINE = ReplacingMergeTree
ORDER BY (object_id, annotation_id, version);

-- `votes`: one current vote per user per object. A new vote replaces the previous one (same key, higher
-- `version`, microseconds since the epoch); readers take argMax(.., version) per (object_id, user_name).
-- `comment` is '' when none.
CREATE TABLE IF NOT EXISTS votes (
  object_id String,
  user_name String,
  label String,
  confidence Float64,
  comment String,
  created_at DateTime,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (object_id, user_name);
