package rejected

// The store's SQL. Every value is a server-side {name:Type} parameter.
// {{table "rejected_events"}} is rendered once per Store by migrate.Tables:
// the Distributed rejected_events_all in sharded mode.
const (
	// tableRejected holds rejections; see 003_rejected_events.sql.
	tableRejected = "rejected_events"

	// columns are the stored columns, in the order of row.
	columns = `tenant, rejection_id, rejected_at, stage, batch_index, event_id, event_type, errors,
sealed_key_id, sealed_payload, status, replayed_at, version, received_bytes, kept_bytes`

	// summaryColumns are columns without the sealed payload, for listings.
	summaryColumns = `tenant, rejection_id, rejected_at, stage, batch_index, event_id, event_type, errors,
status, replayed_at, version, received_bytes, kept_bytes`

	// queryList lists rejections newest first. The key columns (tenant,
	// rejected_at, rejection_id) are filtered in the inner query, before
	// FINAL, which is correct because every version of a rejection shares
	// them; status differs between versions, so it is filtered after FINAL
	// has picked the latest. An empty tenant or status matches all; the
	// bounds are always set (the store fills open ends).
	queryList = `SELECT ` + summaryColumns + `
FROM (
    SELECT ` + summaryColumns + `
    FROM {{table "rejected_events"}} FINAL
    WHERE ({tenant:String} = '' OR tenant = {tenant:String})
      AND rejected_at >= {since:DateTime64(3, 'UTC')}
      AND rejected_at < {until:DateTime64(3, 'UTC')}
      AND (rejected_at, rejection_id) < ({before_at:DateTime64(3, 'UTC')}, {before_id:UUID})
)
WHERE {status:String} = '' OR status = {status:String}
ORDER BY rejected_at DESC, rejection_id DESC
LIMIT {limit:UInt32}`

	// queryByIDs reads rejections with their sealed payloads, latest
	// version of each. rejection_id is in the sorting key, so filtering on
	// it before FINAL is correct; the bloom filter index skips granules.
	// Every "x IN <list>" is written IN (SELECT arrayJoin({list})): with the
	// array parameter directly on the right of IN, ClickHouse scans the
	// array per row and uses no index (measured ~50x slower).
	queryByIDs = `SELECT ` + columns + `
FROM {{table "rejected_events"}} FINAL
WHERE rejection_id IN (SELECT arrayJoin({ids:Array(UUID)}))`

	// queryTotals counts what is stored against the caps: rejections and
	// the bytes of their payloads (kept_bytes, so no payload is read).
	// FINAL counts a rejection once however many status rows it has.
	queryTotals = `SELECT count() AS rows, sum(kept_bytes) AS bytes
FROM {{table "rejected_events"}} FINAL`
)
