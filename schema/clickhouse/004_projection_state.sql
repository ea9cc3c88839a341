-- Where each stored projection stands: which version is live, when it was
-- last built from the log, how many events that build folded and how fast.
-- One row per (name, version); the latest write wins. The projections'
-- own tables are created by the code that defines them (see
-- internal/projectionstore), because a rebuild must create them again.
CREATE TABLE IF NOT EXISTS projection_state{{.OnCluster}}
(
    name          LowCardinality(String),
    version       UInt32,
    table_name    String,
    state         LowCardinality(String) COMMENT 'building or live',
    built_at      DateTime64(3, 'UTC'),
    built_through DateTime64(3, 'UTC') COMMENT 'latest recorded_at the build folded; later events arrive through the view',
    events        UInt64,
    seconds       Float64,
    updated_at    DateTime64(6, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "updated_at"}}
ORDER BY (name, version);
