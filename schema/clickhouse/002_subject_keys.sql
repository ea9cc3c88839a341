-- Per-subject data keys, wrapped by a master key. A subject may have several
-- keys (two writers racing to create the first); every ciphertext names its
-- key. The version column is `destroyed`, so a destroyed row always wins
-- over any live row of the same key (a late re-wrap cannot resurrect it),
-- and among live rows the last inserted (the newest wrapping) wins.
-- Shredding writes destroyed rows, then deletes the wrapped bytes physically
-- with a mutation.
CREATE TABLE IF NOT EXISTS subject_keys{{.OnCluster}}
(
    tenant        LowCardinality(String),
    subject_key   String,
    key_id        String,
    master_key_id LowCardinality(String),
    wrapped       String,
    created_at    DateTime64(3, 'UTC'),
    destroyed     UInt8,
    updated_at    DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "destroyed"}}
ORDER BY (tenant, subject_key, key_id);
