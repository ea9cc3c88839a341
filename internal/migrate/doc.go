// Package migrate applies the ClickHouse schema in schema/clickhouse, in
// order, recording each applied file in custody_migrations. It renders the
// files for a single node or a cluster (ON CLUSTER, Replicated engines)
// from the same text, so there is one schema, not two.
//
// It is not a general migration tool: migrations only go up, and every
// statement must be idempotent because ClickHouse DDL is not transactional.
package migrate
