-- The keys the stored data was written under, so that a start with a
-- missing or different key is refused instead of silently generating a
-- new one (package storage). One row per key recorded: the identifier key
-- (name 'identifier') at first start, the active master key (name
-- 'master') at first start and again at every rotation to a new active
-- key. Rows are never updated; the newest row of a name is the key in
-- use, the older ones are its history.
--
-- A fingerprint reveals nothing of its key: it is an HMAC-SHA256 keyed by
-- the key over a fixed label, truncated (keyring.Fingerprint). key_id is
-- the master key's id (mk-…, also non-secret), empty for the identifier
-- key.
CREATE TABLE IF NOT EXISTS key_fingerprints{{.OnCluster}}
(
    name        LowCardinality(String) COMMENT 'identifier or master',
    fingerprint String,
    key_id      String COMMENT 'the master key id; empty for the identifier key',
    reason      LowCardinality(String) COMMENT 'why it was recorded: first start, existing data or rotation',
    recorded_at DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree"}}
ORDER BY (name, recorded_at, fingerprint);

-- Sharded mode: every process reads the one record whatever shard it
-- reaches (see 005_distributed.sql); by name, a sorting-key column, so
-- that a row retried lands where its first copy did.
{{if .Sharded}}
CREATE TABLE IF NOT EXISTS key_fingerprints_all{{.OnCluster}} AS key_fingerprints
ENGINE = {{distributed "key_fingerprints" "cityHash64(name)"}};
{{end}}
