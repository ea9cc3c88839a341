package eventlog

// The log's SQL. Every value is a server-side {name:Type} parameter.
const (
	// tableEvents is the log; see schema/clickhouse/001_events.sql.
	tableEvents = "events"
	// tableSubjectKeys holds wrapped data keys; see 002_subject_keys.sql.
	tableSubjectKeys = "subject_keys"

	// Every "x IN <list>" below is written IN (SELECT arrayJoin({list})):
	// with the array parameter directly on the right of IN, ClickHouse
	// 26.7 scans the array per row and uses no index (measured: 32,000
	// subject keys against 100,000 rows, 11 s; as a subquery set, 0.2 s).

	// queryKnownIDs returns which of ids are already stored. It reads the
	// event_ids index by primary key; FINAL is unnecessary for membership.
	queryKnownIDs = `SELECT DISTINCT event_id FROM event_ids
WHERE event_id IN (SELECT arrayJoin({ids:Array(UUID)}))`

	// eventColumns are the stored columns, in the order of row.
	eventColumns = `tenant, subject_key, occurred_at, event_id, type, source, spec_version, recorded_at,
identifier_kinds, identifier_namespaces, identifier_hashes, data, sealed_key_id, sealed_values`

	// queryByIdentifiers reads every event that carries any of the hashes,
	// deduplicated twice over: FINAL collapses rows with the same sort key,
	// LIMIT 1 BY event_id any that raced past the pre-check with other keys.
	queryByIdentifiers = `SELECT ` + eventColumns + `
FROM events FINAL
WHERE tenant = {tenant:String}
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
	// 1,000,000) is not needed.
	queryByPerson = `SELECT ` + eventColumns + `
FROM events
WHERE tenant = {tenant:String} AND subject_key IN (SELECT arrayJoin({hashes:Array(String)}))
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`

	// queryOfTypes reads every event of some types of a tenant: Custody's
	// own records (rights requests), which are few. It scans the tenant's
	// part of the log, skipping granules by the type index.
	queryOfTypes = `SELECT ` + eventColumns + `
FROM events FINAL
WHERE tenant = {tenant:String} AND type IN (SELECT arrayJoin({types:Array(String)}))
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`

	// queryByIdentifiersTypes is queryByIdentifiers for some event types
	// only.
	queryByIdentifiersTypes = `SELECT ` + eventColumns + `
FROM events FINAL
WHERE tenant = {tenant:String}
  AND (subject_key, event_id) IN (
        SELECT subject_key, event_id FROM event_identifiers
        WHERE tenant = {tenant:String} AND identifier_hash IN (SELECT arrayJoin({hashes:Array(String)})))
  AND type IN (SELECT arrayJoin({types:Array(String)}))
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`

	// queryScan pages through the whole log in recorded order, for replay.
	queryScan = `SELECT ` + eventColumns + `
FROM events FINAL
WHERE (recorded_at, event_id) > ({after_at:DateTime64(3, 'UTC')}, {after_id:UUID})
ORDER BY recorded_at, event_id
LIMIT 1 BY event_id
LIMIT {limit:UInt32}`

	// queryCount counts visible events: distinct ids, whatever duplicates
	// are still unmerged on disk.
	queryCount = `SELECT uniqExact(event_id) AS n FROM events WHERE tenant = {tenant:String}`

	// queryCountAll counts visible events of every tenant.
	queryCountAll = `SELECT uniqExact(event_id) AS n FROM events`

	// querySubjectKeys reads a subject's data keys, newest state of each.
	querySubjectKeys = `SELECT tenant, subject_key, key_id, master_key_id, wrapped, created_at, destroyed, updated_at
FROM subject_keys FINAL
WHERE tenant = {tenant:String} AND subject_key = {subject:String}`

	// querySubjectsKeys is querySubjectKeys for many subjects at once.
	querySubjectsKeys = `SELECT tenant, subject_key, key_id, master_key_id, wrapped, created_at, destroyed, updated_at
FROM subject_keys FINAL
WHERE tenant = {tenant:String} AND subject_key IN (SELECT arrayJoin({subjects:Array(String)}))`

	// deleteSubjectKeyMaterial physically removes wrapped key bytes after a
	// shred: the destroyed markers stay, the key material goes.
	deleteSubjectKeyMaterial = `ALTER TABLE subject_keys DELETE
WHERE tenant = {tenant:String} AND subject_key = {subject:String} AND destroyed = 0
SETTINGS mutations_sync = 1`
)
