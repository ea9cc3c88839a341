package projectionstore

// The SQL of this package. {{.Table}} and {{.Source}} are filled with names
// this package chooses; every value is a server-side {name:Type} parameter.
const (
	tableState = "projection_state"

	// queryPartitions lists the log's partitions with their row counts:
	// rebuilds fold one partition per statement, for progress and bounded
	// memory.
	queryPartitions = `SELECT toYYYYMM(occurred_at) AS p, count() AS n FROM events GROUP BY p ORDER BY p`

	// sourcePartition and sourceSince are fold sources: the log's rows of one
	// partition, and those recorded since a time.
	sourcePartition = `(SELECT * FROM events WHERE toYYYYMM(occurred_at) = {p:UInt32})`
	sourceSince     = `(SELECT * FROM events WHERE recorded_at >= {since:DateTime64(3, 'UTC')})`
	sourceLog       = `events`

	queryLogHead = `SELECT count() AS n, max(recorded_at) AS at FROM events`

	createView = `CREATE MATERIALIZED VIEW IF NOT EXISTS {{.View}}{{.OnCluster}} TO {{.Table}} AS
{{.Fold}}`
	dropView     = `DROP VIEW IF EXISTS {{.View}}{{.OnCluster}} SYNC`
	dropTable    = `DROP TABLE IF EXISTS {{.Table}}{{.OnCluster}} SYNC`
	exchange     = `EXCHANGE TABLES {{.Table}} AND {{.Next}}{{.OnCluster}}`
	insertFolded = `INSERT INTO {{.Table}} {{.Fold}}`

	queryTableHead  = `SELECT count() AS n, max(recorded_at) AS at FROM {{.Table}}`
	queryViewExists = `SELECT count() AS n FROM system.tables
WHERE database = currentDatabase() AND name = {name:String}`

	queryState = `SELECT name, version, table_name, state, built_at, built_through, events, seconds, updated_at
FROM projection_state FINAL ORDER BY name, version`

	// queryNeighbours is one step of the walk over identity_edges: every
	// identifier sharing an event with one of hashes (each of hashes itself
	// among them, through its event's hub).
	queryNeighbours = `SELECT DISTINCT to_hash, to_kind, to_namespace FROM {{.Table}}
WHERE tenant = {tenant:String} AND from_hash IN (SELECT arrayJoin({hashes:Array(String)}))
SETTINGS max_threads = 1`

	// queryLinks lists a tenant's identifier links, each once, for resolving
	// every person at once.
	queryLinks = `SELECT DISTINCT from_hash, to_hash FROM {{.Table}}
WHERE tenant = {tenant:String} AND from_hash < to_hash`

	// queryFacts groups a tenant's data map facts in a window, with the
	// subject keys behind each group (people are resolved by the caller).
	queryFacts = `SELECT flow, category, source_kind, purpose, recipient_name, recipient_kind, recipient_role, disclosure,
       groupUniqArray(subject_key) AS subjects, uniqExact(event_id) AS events,
       min(occurred_at) AS first, max(occurred_at) AS last
FROM {{.Table}}
WHERE tenant = {tenant:String}
  AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
GROUP BY flow, category, source_kind, purpose, recipient_name, recipient_kind, recipient_role, disclosure
ORDER BY flow, category, source_kind, purpose, recipient_name, recipient_kind, recipient_role, disclosure`
)
