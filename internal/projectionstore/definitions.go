package projectionstore

// The stored projections. Each is a table fed by a materialized view over
// the event log, so it is updated by the very INSERT that stores an event —
// it can never lag behind the log or miss an event the log kept — and can
// be rebuilt by running the same fold over the stored log.
//
// A definition has a version; its tables are named <name>_v<version>, so a
// new version is built beside the old one and replaces it only once it is
// complete. Templates are rendered by migrate.Config.Render ({{.OnCluster}},
// {{engine}}) with {{.Table}} and, for folds, {{.Source}}: a table or a
// subquery with the columns of events. None of them ever sees user input.

// definition is one stored projection.
type definition struct {
	// Name is the projection's stable name (status, rebuild arguments).
	Name string
	// Version changes whenever Table or Fold changes what is stored.
	Version int
	// Table creates the projection table {{.Table}}.
	Table string
	// Fold is the SELECT that turns events from {{.Source}} into rows of
	// the table. It must be a function of the set of events: duplicates of
	// an event may yield duplicate rows, never different ones, and readers
	// treat rows as a set.
	Fold string
	// ShardingKey is the sharding key of the table's Distributed table in
	// sharded mode: an expression of its columns whose shard is that of
	// the event a row is folded from (cityHash64(subject_key) of events),
	// so that a rebuild, which writes through the Distributed table, puts
	// rows where the views put them, and copies of a row meet on one shard.
	ShardingKey string
}

// definitions lists the stored projections, in build order.
func definitions() []definition {
	return []definition{identityEdges, dataMapFacts}
}

// identityEdges links each identifier of an event to the event's subject
// key (its smallest identifier hash), both ways, so that a breadth-first walk
// from any identifier finds the whole person: a person is a connected
// component of identifiers appearing together (subject.linked included).
// Every identifier also gets an edge from the hub to itself, which carries
// its kind and namespace. Custody's own events (request.*, access.*) are
// left out: a requester's claimed identifiers, or the identifier an analyst
// looked up, are not proof that identifiers belong together.
var identityEdges = definition{
	Name:    "identity_edges",
	Version: 1,
	Table: `CREATE TABLE IF NOT EXISTS {{.Table}}{{.OnCluster}}
(
    tenant        LowCardinality(String),
    from_hash     String,
    to_hash       String,
    to_kind       LowCardinality(String),
    to_namespace  String,
    recorded_at   DateTime64(3, 'UTC') COMMENT 'latest event proving the edge; the version column'
)
ENGINE = {{engine "ReplacingMergeTree" "recorded_at"}}
ORDER BY (tenant, from_hash, to_hash)`,
	Fold: `SELECT tenant, e.1 AS from_hash, e.2 AS to_hash, e.3 AS to_kind, e.4 AS to_namespace, recorded_at
FROM {{.Source}}
ARRAY JOIN arrayConcat(
    arrayMap((h, k, n) -> (subject_key, h, k, n), identifier_hashes, identifier_kinds, identifier_namespaces),
    arrayMap((h) -> (h, subject_key,
                     identifier_kinds[indexOf(identifier_hashes, subject_key)],
                     identifier_namespaces[indexOf(identifier_hashes, subject_key)]),
             arrayFilter(h -> h != subject_key, identifier_hashes))) AS e
WHERE NOT (startsWith(type, 'request.') OR startsWith(type, 'access.'))`,
	// Every edge joins its event's subject key, the smallest hash of the
	// event, to one of the event's hashes (or to itself), so the subject key
	// is the lesser end of every edge.
	ShardingKey: "cityHash64(least(from_hash, to_hash))",
}

// dataMapFacts is one row per (event, category mentioned, purpose): what
// came in from which kind of source, what went out to which recipient, in
// which role and as which disclosure type. It holds subject keys, not
// people: people are resolved when the data map is read, so a later
// identity link changes counts without rewriting facts.
//
// Readers ask for a tenant's facts in a window, and treat rows as a set (a
// fact delivered twice counts once), so the table is a plain MergeTree
// sorted by time: measured on 1,000,000 events, sorting by every column
// made the rebuild's INSERT 2.7 s against 0.8 s for the copy alone.
//
// The flows follow projections.DataMap: data.collected elements (source =
// origin kind), data.processed outputs (source kind "inferred"),
// data.shared elements (recipient fields). An event without purposes
// yields one row with an empty purpose.
//
// The fold parses data once, into a named tuple, and computes every scalar
// column before the ARRAY JOINs, which then copy plain strings rather than
// arrays. Version 1 called a JSON function per field and built a tuple per
// element: measured on 100,000 stored collection events, its view took 233
// ms of the events INSERT's 790 ms, this one about 110 ms; the SELECT alone
// 166 → 90 ms. Version 2 stores the same rows (the property test holds
// both the view and a rebuild to projections.DataMap).
var dataMapFacts = definition{
	Name:    "datamap_facts",
	Version: 2,
	Table: `CREATE TABLE IF NOT EXISTS {{.Table}}{{.OnCluster}}
(
    tenant          LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    recorded_at     DateTime64(3, 'UTC'),
    event_id        UUID,
    subject_key     String,
    flow            LowCardinality(String),
    category        LowCardinality(String),
    source_kind     LowCardinality(String),
    purpose         LowCardinality(String),
    recipient_name  String,
    recipient_kind  LowCardinality(String),
    recipient_role  LowCardinality(String),
    disclosure      LowCardinality(String)
)
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, occurred_at, event_id)`,
	Fold: `SELECT tenant, occurred_at, recorded_at, event_id, subject_key,
       flow, category, source_kind, purpose, recipient_name, recipient_kind, recipient_role, disclosure
FROM (
    SELECT tenant, occurred_at, recorded_at, event_id, subject_key,
           JSONExtract(data, 'Tuple(elements Array(Tuple(category String)), outputs Array(Tuple(category String)),
                                    origin Tuple(kind String), recipient Tuple(name String, kind String, role String),
                                    disclosure String, purposes Array(String))') AS d,
           if(type = 'data.shared', 'disclosed', 'collected') AS flow,
           arrayMap(c -> c.1, if(type = 'data.processed', d.outputs, d.elements)) AS categories,
           multiIf(type = 'data.collected', d.origin.kind, type = 'data.processed', 'inferred', '') AS source_kind,
           if(type = 'data.shared', d.recipient.name, '') AS recipient_name,
           if(type = 'data.shared', d.recipient.kind, '') AS recipient_kind,
           if(type = 'data.shared', d.recipient.role, '') AS recipient_role,
           if(type = 'data.shared', d.disclosure, '') AS disclosure,
           if(empty(d.purposes), [''], d.purposes) AS purposes
    FROM {{.Source}}
    WHERE type IN ('data.collected', 'data.processed', 'data.shared'))
ARRAY JOIN categories AS category
ARRAY JOIN purposes AS purpose`,
	ShardingKey: "cityHash64(subject_key)",
}
