package clickhouse

import (
	"context"
	"errors"
)

// Sentinel errors every transport returns (wrapped) so callers can branch on
// them without knowing the transport.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("clickhouse: connection closed")
	// ErrLocked means the embedded data directory is owned by another process.
	ErrLocked = errors.New("clickhouse: data directory is locked by another process")
	// ErrUnsupported means the server lacks a feature the call needs (for
	// example server-side parameters on ClickHouse before 19.x).
	ErrUnsupported = errors.New("clickhouse: not supported by this server")
	// ErrUnavailable means the engine or server could not be reached.
	ErrUnavailable = errors.New("clickhouse: unavailable")
	// ErrBadRows means the destination or source value is not a slice of
	// ch-tagged structs, or a field's Go type does not fit its column.
	ErrBadRows = errors.New("clickhouse: rows do not map to columns")
)

// Conn is the port between Custody and ClickHouse.
//
// Contract, for every implementation:
//   - All methods are safe for concurrent use.
//   - Queries bind params server-side to {name:Type} placeholders; a value is
//     never spliced into SQL text. A query with params on a server without
//     server-side parameters fails with ErrUnsupported, it is never emulated.
//   - Select appends to dest (a pointer to a slice of structs, or of pointers
//     to structs) in the order the server returns rows; a result column
//     without a matching `ch:"name"` field is an error, not silently dropped.
//   - Insert writes all rows in one INSERT, or none on error; it is not
//     idempotent by itself (repositories dedupe, e.g. ReplacingMergeTree).
//     Only the columns named by the struct's ch tags are written; the others
//     take their defaults. Settings put in ctx with WithInsertSettings
//     (deduplication token, synchronous Distributed insert) reach the
//     server with that INSERT and no other statement; invalid settings fail
//     the Insert before anything is sent.
//   - Settings put in ctx with WithSelectSettings reach the server with
//     every SELECT that Select runs with ctx, and with no Exec or Insert; a
//     setting the query's own SETTINGS clause names keeps the query's
//     value. Invalid settings fail the Select before anything is sent.
//   - Close waits for running calls, then releases the engine. It is
//     idempotent.
type Conn interface {
	// Exec runs a statement that returns no rows (DDL, INSERT … SELECT,
	// ALTER … DELETE).
	Exec(ctx context.Context, query string, params Params) error
	// Select runs query and appends every row to dest.
	Select(ctx context.Context, dest any, query string, params Params) error
	// Insert bulk-inserts rows, a slice of ch-tagged structs, into table.
	Insert(ctx context.Context, table string, rows any) error
	// Ping checks the engine answers a trivial query.
	Ping(ctx context.Context) error
	// Capabilities says what this transport and server can do.
	Capabilities() Capabilities
	// Close releases the connection.
	Close() error
}

// Transport names which adapter serves a Conn.
type Transport string

const (
	// TransportEmbedded is ClickHouse in-process through chDB.
	TransportEmbedded Transport = "embedded"
	// TransportNative is clickhouse-go against a server or cluster.
	TransportNative Transport = "native"
)

// Capabilities are declared by each transport, not assumed by callers; the
// conformance suite gates its cases on them and says what it skipped.
type Capabilities struct {
	Transport Transport
	// Version is the server version, e.g. "26.7.2.1".
	Version Version
	// ServerSideParameters: {name:Type} placeholders are bound by the server.
	ServerSideParameters bool
	// DateTime64, Map, LowCardinality and TTL are column features that old
	// servers lack.
	DateTime64     bool
	Map            bool
	LowCardinality bool
	TTL            bool
}
