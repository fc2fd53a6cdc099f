-- Static catalogs for cross-matching (`fink catalog load|list|drop`, src/storage/catalog-store.ts).
--
-- `catalogs`: one visible row per catalog. Every load or drop inserts a row with a higher `version`; readers
-- take the latest row per name (max(version), not FINAL, so no merge timing is involved) and skip it when
-- `dropped` = 1. ReplacingMergeTree(version) lets merges discard the superseded rows.
-- `hpx_order` is the HEALPix order the catalog's sources are indexed at: the deepest order (at most 15, the
-- library's limit) whose pixels are at least as wide as `radius_arcsec`, so a match disc fits in the 3x3
-- neighbourhood of its centre's pixel and touches a handful of pixels (GCVS 1.5" and SPICY 1.2": order 15,
-- 6.4" pixels; 3HSP 60": order 11, 103" pixels).
CREATE TABLE IF NOT EXISTS catalogs (
  name String,
  file String,
  ra_column String,
  dec_column String,
  id_column String,
  type_column String,
  extra_columns Array(String),
  radius_arcsec Float64,
  hpx_order UInt8,
  overriding UInt8,
  row_count UInt64,
  generation UInt64,
  loaded_at DateTime,
  dropped UInt8,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY name;

-- `catalog_sources`: the sources, keyed by (catalog, hpx) where hpx is the NESTED pixel at the catalog's order.
-- A match reads `catalog = X AND generation = G AND hpx IN (...)`: a primary-key range per pixel. A small index
-- granularity keeps each such point lookup to a few hundred rows instead of 8192.
-- PARTITION BY (catalog, generation): a reload writes a new generation and switches `catalogs` to it; old
-- generations go with ALTER TABLE DROP PARTITION, which is immediate (no mutation) on 18.16 and on current
-- servers alike. `type` is '' when the catalog has no type column; `extra` is the JSON text of the extra
-- columns ('' when none), stored and returned, never parsed by SQL.
CREATE TABLE IF NOT EXISTS catalog_sources (
  catalog String,
  generation UInt64,
  hpx UInt64,
  source_id String,
  ra Float64,
  dec Float64,
  type String,
  extra String
) ENGINE = MergeTree
PARTITION BY (catalog, generation)
ORDER BY (catalog, hpx)
SETTINGS index_granularity = 1024;
