-- The event log: every accepted event, once. Append-only; rows are never
-- updated. Duplicates of an id that race past the repository's pre-check
-- collapse on (tenant, subject_key, occurred_at, event_id) and are never
-- visible: readers use FINAL and LIMIT 1 BY event_id.
--
-- Raw identifiers are never stored: identifier_hashes are keyed HMACs of the
-- normalised values. Element values are removed from `data` and kept only as
-- ciphertext in sealed_values, under the data key sealed_key_id.
CREATE TABLE IF NOT EXISTS events{{.OnCluster}}
(
    tenant                LowCardinality(String),
    subject_key           String COMMENT 'smallest identifier hash of the event; groups a person''s events for reads',
    occurred_at           DateTime64(3, 'UTC'),
    event_id              UUID,
    type                  LowCardinality(String),
    source                LowCardinality(String),
    spec_version          LowCardinality(String),
    recorded_at           DateTime64(3, 'UTC'),
    identifier_kinds      Array(LowCardinality(String)),
    identifier_namespaces Array(String),
    identifier_hashes     Array(String),
    data                  String COMMENT 'type-specific JSON without element values',
    sealed_key_id         String COMMENT 'data key that sealed the values; empty when there are none',
    sealed_values         String COMMENT 'AES-256-GCM ciphertext of the element values',
    INDEX idx_identifier identifier_hashes TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = {{engine "ReplacingMergeTree"}}
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, subject_key, occurred_at, event_id);

-- event_ids answers "have we stored this id?" and "where is it?" through its
-- primary key. Filled by the view below in the same INSERT as events, so an
-- id is never recorded here without its event.
CREATE TABLE IF NOT EXISTS event_ids{{.OnCluster}}
(
    event_id    UUID,
    tenant      LowCardinality(String),
    subject_key String,
    occurred_at DateTime64(3, 'UTC'),
    recorded_at DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree"}}
ORDER BY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_mv{{.OnCluster}} TO event_ids AS
SELECT event_id, tenant, subject_key, occurred_at, recorded_at FROM events;

-- event_identifiers finds a person's events by any of their identifiers.
CREATE TABLE IF NOT EXISTS event_identifiers{{.OnCluster}}
(
    tenant          LowCardinality(String),
    identifier_hash String,
    identifier_kind LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    event_id        UUID,
    subject_key     String
)
ENGINE = {{engine "ReplacingMergeTree"}}
ORDER BY (tenant, identifier_hash, occurred_at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS event_identifiers_mv{{.OnCluster}} TO event_identifiers AS
SELECT tenant, identifier_hash, identifier_kind, occurred_at, event_id, subject_key
FROM events
ARRAY JOIN identifier_hashes AS identifier_hash, identifier_kinds AS identifier_kind;
