-- Sharded mode (clickhouse.cluster.sharded): a Distributed table
-- <table>_all ON CLUSTER over each local table, through which Custody reads
-- and writes. On a single node and on an unsharded cluster this file
-- renders no statement, so it is not applied there (and is applied when
-- sharding is turned on later).
--
-- The local tables keep their names, Replicated engines and materialized
-- views: an INSERT into events_all lands in the local events table of the
-- shard its sharding key picks, and fires that shard's views, so event_ids,
-- event_identifiers and the projection tables are filled on the shard of
-- the event they come from.
--
-- Sharding keys are hashes of columns that ReplacingMergeTree collapses
-- on, so every copy of a row (a retried event, a newer status) lands on
-- one shard, where FINAL and merges can collapse it:
--   * every table holding subject_key shards by it: one person's events,
--     ids, identifiers and data keys live on one shard, and a person's
--     reads touch one shard's rows. event_ids and event_identifiers are
--     only ever written by views on the events shard, so their key states
--     where their rows are rather than routing inserts;
--   * rejected_events has no subject (a rejection may have no readable
--     identifier): it shards by rejection_id, which every status version of
--     a rejection shares;
--   * projection_state shards by projection name. It is not left as a plain
--     replicated table read by its own name because its replica path holds
--     {shard}: each shard would keep its own copy, and a process would see
--     the state written through whichever shard it happened to reach.
{{if .Sharded}}
CREATE TABLE IF NOT EXISTS events_all{{.OnCluster}} AS events
ENGINE = {{distributed "events" "cityHash64(subject_key)"}};

CREATE TABLE IF NOT EXISTS event_ids_all{{.OnCluster}} AS event_ids
ENGINE = {{distributed "event_ids" "cityHash64(subject_key)"}};

CREATE TABLE IF NOT EXISTS event_identifiers_all{{.OnCluster}} AS event_identifiers
ENGINE = {{distributed "event_identifiers" "cityHash64(subject_key)"}};

CREATE TABLE IF NOT EXISTS subject_keys_all{{.OnCluster}} AS subject_keys
ENGINE = {{distributed "subject_keys" "cityHash64(subject_key)"}};

CREATE TABLE IF NOT EXISTS rejected_events_all{{.OnCluster}} AS rejected_events
ENGINE = {{distributed "rejected_events" "cityHash64(rejection_id)"}};

CREATE TABLE IF NOT EXISTS projection_state_all{{.OnCluster}} AS projection_state
ENGINE = {{distributed "projection_state" "cityHash64(name)"}};
{{end}}
