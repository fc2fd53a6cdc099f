-- Access paths for the GraphQL server. `alerts` is sorted by object; an alert looked up by its own id would
-- otherwise scan the whole table. alerts_by_id maps alert id -> object id (tiny rows) so the lookup reads one
-- granule here and one object's rows in `alerts`. Filled by every insert into alerts from now on, and once from
-- the alerts already stored (a database migrated before this view existed).
CREATE MATERIALIZED VIEW IF NOT EXISTS alerts_by_id
ENGINE = ReplacingMergeTree
ORDER BY alert_id
AS SELECT alert_id, object_id, survey FROM alerts;

INSERT INTO alerts_by_id SELECT alert_id, object_id, survey FROM alerts;
