// Package clickhouse is Custody's narrow port to ClickHouse.
//
// Everything Custody stores goes through a Conn. Two transports implement it:
// package embedded (ClickHouse in-process through chDB's libchdb.so) and
// package native (clickhouse-go/v2 against a server or cluster). The
// repositories above the port (eventlog, migrations, projections) hold all SQL
// and never know which transport they run on; package conformance holds the
// one test suite both transports must pass.
//
// This package is not a query builder and not an ORM: it moves rows between
// ch-tagged Go structs and ClickHouse, and binds server-side {name:Type}
// parameters. It never formats a caller's value into SQL text.
//
// Go types a row struct may use, per ClickHouse type (both transports honour
// exactly this table, and the conformance suite checks it):
//
//	String, FixedString(N)          string or []byte (FixedString: all N bytes, NUL-padded)
//	UInt8 … UInt64, Int8 … Int64    uint8 … uint64, int8 … int64
//	Float32, Float64                float32, float64
//	Bool                            bool
//	UUID                            uuid.UUID
//	Date, DateTime, DateTime64(p)   time.Time (UTC)
//	Array(T)                        []T
//	Nullable(T)                     *T
//	Map(K, V)                       map[K]V
//	LowCardinality(T)               as T
package clickhouse
