-- Rejected events are bounded (issue 17): twenty 9.5 MB bad bodies once
-- took 209 MB of disk in 5 s, kept whole and for ever.
--
-- Per event: package rejected keeps at most max_payload_bytes of what was
-- received (default 64 KiB). received_bytes is the size as received and
-- kept_bytes the size of what was kept and sealed, so a truncated payload
-- is one with received_bytes > kept_bytes, visible without opening it; the
-- store's total cap sums kept_bytes without reading the payloads. Rows
-- written before this migration read received_bytes 0 (unknown, never
-- truncated) and kept_bytes the length of their sealed payload.
--
-- In time: rows expire 30 days after they were rejected (the TTL, applied
-- when ClickHouse merges the table's parts, so they go within hours after
-- that). Every version of a rejection has the same rejected_at, so a
-- rejection expires whole. TTL needs ClickHouse 19.6 or later; the schema
-- already needs 20.1 (DateTime64 in 003). To keep rejections longer or
-- shorter, run ALTER TABLE rejected_events MODIFY TTL ... yourself (ON
-- CLUSTER in cluster mode): this file is applied once and its checksum is
-- recorded.
--
-- Every statement changes nothing when run again. In sharded mode the
-- Distributed table gets the new columns too (it does not store rows, so
-- it needs no TTL).
ALTER TABLE rejected_events{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS received_bytes UInt64 DEFAULT 0 COMMENT 'size of the event as received; 0 on rows from before 008',
    ADD COLUMN IF NOT EXISTS kept_bytes UInt64 DEFAULT length(sealed_payload) COMMENT 'size of the payload kept (sealed); less than received_bytes when truncated';

{{if .Sharded}}
ALTER TABLE rejected_events_all{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS received_bytes UInt64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS kept_bytes UInt64 DEFAULT length(sealed_payload);
{{end}}

ALTER TABLE rejected_events{{.OnCluster}}
    MODIFY TTL toDateTime(rejected_at) + INTERVAL 30 DAY;
