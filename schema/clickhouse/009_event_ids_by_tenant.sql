-- event_ids_v2 replaces event_ids as the index the append checks every id
-- against (its only reader), for two reasons:
--
--   * an event is identified by (tenant, event_id): the same id sent by two
--     tenants is two events. event_ids was sorted and collapsed by event_id
--     alone, so one tenant's id hid the other's (issue 17: "the same event
--     id in another tenant is dropped as duplicate");
--   * smaller granules: the check looks up the ids of one append (hundreds
--     to thousands) among every id ever stored. Random ids hit one granule
--     each, so the engine reads about ids × granule rows. Measured with
--     10,000,000 ids stored, 1,000 ids looked up: 89 ms with 8,192-row
--     granules, 27 ms with 1,024; 10,000 ids: ~100 ms either way. The
--     primary index costs 16 bytes per 1,024 ids in memory (~160 KB per
--     10,000,000).
--
-- The new view fills event_ids_v2 from every insert from now on; the ids
-- stored before are copied once from event_ids (a row in both collapses,
-- and the check reads DISTINCT ids). Then the old view stops. The old table
-- is left for processes of the previous version still reading it during a
-- rolling upgrade; a later migration drops it. Every statement can run
-- again: the copy only adds rows that collapse.
CREATE TABLE IF NOT EXISTS event_ids_v2{{.OnCluster}}
(
    event_id    UUID,
    tenant      LowCardinality(String),
    subject_key String,
    occurred_at DateTime64(3, 'UTC'),
    recorded_at DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree"}}
ORDER BY (event_id, tenant)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_v2_mv{{.OnCluster}} TO event_ids_v2 AS
SELECT event_id, tenant, subject_key, occurred_at, recorded_at FROM events;

{{if .Sharded}}
CREATE TABLE IF NOT EXISTS event_ids_v2_all{{.OnCluster}} AS event_ids_v2
ENGINE = {{distributed "event_ids_v2" "cityHash64(subject_key)"}};

INSERT INTO event_ids_v2_all SETTINGS distributed_foreground_insert = 1
SELECT event_id, tenant, subject_key, occurred_at, recorded_at FROM event_ids_all;
{{else}}
INSERT INTO event_ids_v2 SELECT event_id, tenant, subject_key, occurred_at, recorded_at FROM event_ids;
{{end}}

DROP VIEW IF EXISTS event_ids_mv{{.OnCluster}};
