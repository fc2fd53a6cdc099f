-- Saved alert filters (GraphQL createSavedFilter ...; src/storage/saved-filter-store.ts). `definition` is the
-- validated filter as JSON text (src/filters/filter.ts AlertFilterSpec), stored, never parsed by SQL. A filter
-- with `distribute` = 1 is also run by the distribution service, to the topics <prefix>_<name>_<survey>.
-- Every create, update and delete inserts the whole row again with a higher `version`; readers take the row
-- with max(version) per id (no FINAL, so no merge timing is involved) and skip it when `deleted` = 1.
CREATE TABLE IF NOT EXISTS saved_filters (
  id String,
  owner String,
  name String,
  definition String,
  distribute UInt8,
  deleted UInt8,
  created_at DateTime,
  updated_at DateTime,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;
