-- Rejected events: every event that failed validation (over HTTP or in the
-- pipeline), kept with its field errors for inspection and replay
-- (package rejected).
--
-- The payload is the event's bytes as received, so it holds raw identifiers
-- and values: it is stored only sealed (AES-256-GCM under the tenant's
-- "rejected:<tenant>" data key, the rejection id bound as AAD). The other
-- columns hold no values: `errors` reasons never echo them.
--
-- Rows are never updated in place: a status change (replayed,
-- still_rejected) inserts the row again with a higher `version`, and readers
-- use FINAL, so the latest status wins.
CREATE TABLE IF NOT EXISTS rejected_events{{.OnCluster}}
(
    tenant         LowCardinality(String) COMMENT 'the event''s tenant when readable, else default',
    rejection_id   UUID,
    rejected_at    DateTime64(3, 'UTC'),
    stage          LowCardinality(String) COMMENT 'where it was rejected: http or pipeline',
    batch_index    UInt32 COMMENT 'position of the event in the batch it arrived in',
    event_id       String COMMENT 'the id as sent; may be missing or invalid',
    event_type     String COMMENT 'the type as sent, when readable',
    errors         String COMMENT 'JSON array of {path, reason}; reasons never contain values',
    sealed_key_id  String COMMENT 'data key that sealed the payload',
    sealed_payload String COMMENT 'AES-256-GCM ciphertext of the event bytes as received',
    status         LowCardinality(String) COMMENT 'rejected, replayed or still_rejected',
    replayed_at    DateTime64(3, 'UTC') DEFAULT 0 COMMENT 'last replay attempt; 0 if never',
    version        UInt64 COMMENT 'ReplacingMergeTree version: the latest status row wins',
    INDEX idx_rejection_id rejection_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = {{engine "ReplacingMergeTree" "version"}}
PARTITION BY toYYYYMM(rejected_at)
ORDER BY (tenant, rejected_at, rejection_id);
