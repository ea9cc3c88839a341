package eventlog

// The log's SQL. Every value is a server-side {name:Type} parameter.
// Table names are written {{table "events"}} and rendered once per
// repository by migrate.Tables (events_all, the Distributed table, in
// sharded mode). The IN subqueries over event_identifiers name the local
// table on purpose: in sharded mode the query runs on every shard, and an
// event's identifier rows are on its shard (written there by the view), so
// each shard answers from its own rows, with no cross-shard subquery.
//
// event_identifiers indexes Custody's internal events only (request.*,
// access.*; see schema/clickhouse/006_internal_event_identifiers.sql). It
// still holds rows written for ordinary events before that migration, so
// every query over it keeps only events of internal types (internalType).
const (
	// tableEvents is the log; see schema/clickhouse/001_events.sql.
	tableEvents = "events"
	// tableSubjectKeys holds wrapped data keys; see 002_subject_keys.sql.
	tableSubjectKeys = "subject_keys"

	// Every "x IN <list>" below is written IN (SELECT arrayJoin({list})):
	// with the array parameter directly on the right of IN, ClickHouse
	// 26.7 scans the array per row and uses no index (measured: 32,000
	// subject keys against 100,000 rows, 11 s; as a subquery set, 0.2 s).

	// Long lists (a batch's ids, its subjects' keys) travel as one String
	// parameter of lines that format() parses, not as an Array parameter:
	// the engine turns an array parameter into a literal of one element
	// per value, and that, not the lookup, was most of these reads
	// (measured, 50,000 ids: 95–150 ms as Array(UUID), 70–120 ms as
	// lines; 42,000 subject keys among 500,000 keys: 420–580 ms, 300–340
	// ms). See tsvLines.

	// queryKnownIDs returns which of ids are already stored, with the
	// tenant of each (an event is identified by tenant and id). It reads
	// the event_ids_v2 index by primary key (009_event_ids_by_tenant.sql);
	// FINAL is unnecessary for membership. The ids travel as the hex of
	// their RowBinary form (uuidRowBinaryHex), which the engine reads
	// several times faster than text lines: 10,000 ids, the whole check
	// 18–23 → 12–16 ms.
	queryKnownIDs = `SELECT DISTINCT event_id, tenant FROM {{table "event_ids_v2"}}
WHERE event_id IN (SELECT id FROM format(RowBinary, 'id UUID', unhex({ids:String})))`

	// eventColumns are the stored columns, in the order of row.
	eventColumns = `tenant, subject_key, occurred_at, event_id, type, source, spec_version, recorded_at,
identifier_kinds, identifier_namespaces, identifier_hashes, data, sealed_key_id, sealed_values`

	// internalType is event.Type.Internal as a condition on the events
	// table's type column; 006_internal_event_identifiers.sql filters the
	// event_identifiers view with the same text.
	internalType = `startsWith(type, 'request.') OR startsWith(type, 'access.')`

	// queryInternalByIdentifiers reads every internal event that carries
	// any of the hashes, deduplicated twice over: FINAL collapses rows with
	// the same sort key, LIMIT 1 BY event_id any that raced past the
	// pre-check with other keys.
	queryInternalByIdentifiers = `SELECT ` + eventColumns + `
FROM {{table "events"}} FINAL
WHERE tenant = {tenant:String}
  AND (` + internalType + `)
  AND (subject_key, event_id) IN (
        SELECT subject_key, event_id FROM event_identifiers
        WHERE tenant = {tenant:String} AND identifier_hash IN (SELECT arrayJoin({hashes:Array(String)})))
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`

	// queryByPerson reads a whole person's events by their subject keys: an
	// event's subject key is its smallest identifier hash, so when hashes
	// are all of a person's identifiers every event of theirs has its key
	// among them, and only theirs do. It reads the log by primary key alone.
	// LIMIT 1 BY event_id hides duplicates, so FINAL (a merge of every part
	// the person's rows are in: measured 32 ms p99 for 1,000 events among
	// 1,000,000) is not needed. has() over the array parameter becomes an
	// IN over a literal set that the primary key uses, without the subquery
	// pipeline of IN (SELECT arrayJoin(…)) (measured, 1,000 events of 3
	// keys among 3,000,000: p50 9.8 against 14.4 ms; with 253 keys 11.0
	// against 17.7 ms). queryByPersonMany is the subquery form, for people
	// with more than maxLiteralSet keys.
	queryByPerson = `SELECT ` + eventColumns + `
FROM {{table "events"}}
WHERE tenant = {tenant:String} AND has({hashes:Array(String)}, subject_key)
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`
	queryByPersonMany = `SELECT ` + eventColumns + `
FROM {{table "events"}}
WHERE tenant = {tenant:String} AND subject_key IN (SELECT arrayJoin({hashes:Array(String)}))
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`

	// maxLiteralSet is the most keys passed as a literal set (has()): it was
	// faster up to the 253 measured, and ruinous far beyond (42,000 subject
	// keys: 3 min 52 s), so longer lists keep the subquery set.
	maxLiteralSet = 256

	// queryOfTypes reads every event of some types of a tenant: Custody's
	// own records (rights requests), which are few. It scans the tenant's
	// part of the log, skipping granules by the type index.
	queryOfTypes = `SELECT ` + eventColumns + `
FROM {{table "events"}} FINAL
WHERE tenant = {tenant:String} AND type IN (SELECT arrayJoin({types:Array(String)}))
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`

	// queryInternalByIdentifiersTypes is queryInternalByIdentifiers for
	// some internal event types only.
	queryInternalByIdentifiersTypes = `SELECT ` + eventColumns + `
FROM {{table "events"}} FINAL
WHERE tenant = {tenant:String}
  AND (` + internalType + `)
  AND (subject_key, event_id) IN (
        SELECT subject_key, event_id FROM event_identifiers
        WHERE tenant = {tenant:String} AND identifier_hash IN (SELECT arrayJoin({hashes:Array(String)})))
  AND type IN (SELECT arrayJoin({types:Array(String)}))
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`

	// queryScan pages through the whole log in recorded order, for replay.
	// An event is a tenant and an id: the same id in two tenants is two
	// events (both shown; a page boundary between two such events recorded
	// in the same millisecond would skip the second, which the id's
	// randomness makes practically impossible).
	queryScan = `SELECT ` + eventColumns + `
FROM {{table "events"}} FINAL
WHERE (recorded_at, event_id) > ({after_at:DateTime64(3, 'UTC')}, {after_id:UUID})
ORDER BY recorded_at, event_id, tenant
LIMIT 1 BY tenant, event_id
LIMIT {limit:UInt32}`

	// queryCount counts visible events: distinct ids, whatever duplicates
	// are still unmerged on disk.
	queryCount = `SELECT uniqExact(event_id) AS n FROM {{table "events"}} WHERE tenant = {tenant:String}`

	// queryCountAll counts visible events of every tenant.
	queryCountAll = `SELECT uniqExact(tenant, event_id) AS n FROM {{table "events"}}`

	// querySubjectKeys reads a subject's data keys, newest state of each.
	querySubjectKeys = `SELECT tenant, subject_key, key_id, master_key_id, wrapped, created_at, destroyed, updated_at
FROM {{table "subject_keys"}} FINAL
WHERE tenant = {tenant:String} AND subject_key = {subject:String}`

	// querySubjectsKeys is querySubjectKeys for many subjects at once.
	querySubjectsKeys = `SELECT tenant, subject_key, key_id, master_key_id, wrapped, created_at, destroyed, updated_at
FROM {{table "subject_keys"}} FINAL
WHERE tenant = {tenant:String} AND subject_key IN (SELECT s FROM format(TSV, 's String', {subjects:String}))`

	// deleteSubjectKeyMaterial physically removes wrapped key bytes after a
	// shred: the destroyed markers stay, the key material goes.
	deleteSubjectKeyMaterial = `ALTER TABLE {{alter "subject_keys"}} DELETE
WHERE tenant = {tenant:String} AND subject_key = {subject:String} AND destroyed = 0
SETTINGS mutations_sync = 1`
)
