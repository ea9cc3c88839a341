package projectionstore

// The SQL of this package. {{.Table}} and {{.Source}} are filled with names
// this package chooses; every value is a server-side {name:Type} parameter.
// {{table "events"}} is the table reads and inserts go through: the
// Distributed events_all in sharded mode (migrate.Tables). DDL and views
// name local tables.
const (
	tableState = "projection_state"

	// queryPartitions lists the log's partitions with their row counts:
	// rebuilds fold one partition per statement, for progress and bounded
	// memory.
	queryPartitions = `SELECT toYYYYMM(occurred_at) AS p, count() AS n FROM {{table "events"}} GROUP BY p ORDER BY p`

	// sourcePartition and sourceSince are fold sources: the log's rows of one
	// partition, and those recorded since a time. sourceLog is the views'
	// source: always the local events table, so that in sharded mode each
	// shard's views fold the events that shard stores.
	sourcePartition = `(SELECT * FROM {{table "events"}} WHERE toYYYYMM(occurred_at) = {p:UInt32})`
	sourceSince     = `(SELECT * FROM {{table "events"}} WHERE recorded_at >= {since:DateTime64(3, 'UTC')})`
	sourceLog       = `events`

	queryLogHead = `SELECT count() AS n, max(recorded_at) AS at FROM {{table "events"}}`

	createView = `CREATE MATERIALIZED VIEW IF NOT EXISTS {{.View}}{{.OnCluster}} TO {{.Table}} AS
{{.Fold}}`
	dropView  = `DROP VIEW IF EXISTS {{.View}}{{.OnCluster}} SYNC`
	dropTable = `DROP TABLE IF EXISTS {{.Table}}{{.OnCluster}} SYNC`
	// exchange swaps two local tables (on every host in cluster mode). A
	// Distributed table names its local table, so <live>_all reads the new
	// rows once every shard has swapped.
	exchange = `EXCHANGE TABLES {{.Table}} AND {{.Next}}{{.OnCluster}}`
	// createDistributed is a projection table's Distributed table in
	// sharded mode, sharded like the rows the views write (definition
	// ShardingKey).
	createDistributed = `CREATE TABLE IF NOT EXISTS {{.Table}}_all{{.OnCluster}} AS {{.Table}}
ENGINE = {{distributed .Table .ShardingKey}}`
	// insertFolded writes a fold into {{.Table}}, through its Distributed
	// table in sharded mode, synchronously, so that the rebuild is complete
	// when the statement returns.
	insertFolded = `INSERT INTO {{table .Table}} {{if .Sharded}}SETTINGS distributed_foreground_insert = 1
{{end}}{{.Fold}}`

	queryTableHead  = `SELECT count() AS n, max(recorded_at) AS at FROM {{table .Table}}`
	queryViewExists = `SELECT count() AS n FROM system.tables
WHERE database = currentDatabase() AND name = {name:String}`

	queryState = `SELECT name, version, table_name, state, built_at, built_through, events, seconds, updated_at
FROM {{table "projection_state"}} FINAL ORDER BY name, version`

	// queryNeighbours is one step of the walk over identity_edges: every
	// identifier sharing an event with one of hashes (each of hashes itself
	// among them, through its event's hub). has() over the array parameter
	// becomes an IN over a literal set the primary key can use, without
	// the subquery pipeline of IN (SELECT arrayJoin(…)) (measured at
	// 3,000,000 events: p50 2.2 against 6.8 ms for 3 hashes, 3.6 against
	// 8.2 ms for 253). queryNeighboursMany is the subquery form, for
	// frontiers above maxLiteralSet.
	queryNeighbours = `SELECT DISTINCT to_hash, to_kind, to_namespace FROM {{.Table}}
WHERE tenant = {tenant:String} AND has({hashes:Array(String)}, from_hash)
SETTINGS max_threads = 1`
	queryNeighboursMany = `SELECT DISTINCT to_hash, to_kind, to_namespace FROM {{.Table}}
WHERE tenant = {tenant:String} AND from_hash IN (SELECT arrayJoin({hashes:Array(String)}))
SETTINGS max_threads = 1`

	// maxLiteralSet is the most hashes passed as a literal set (has()): it
	// was faster up to the 253 measured, and ruinous far beyond (42,000
	// hashes: 3 min 52 s), so longer lists keep the subquery set.
	maxLiteralSet = 256

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
