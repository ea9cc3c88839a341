// Package projectionstore keeps the read side's projections in ClickHouse.
//
// Every projection is a table fed by a materialized view over the event
// log (definitions.go): the INSERT that stores an event also updates every
// projection, in the same statement, so a projection is never behind the log
// and never sees an event the log did not keep. Duplicates of an event may
// leave duplicate rows; every reader here treats rows as a set, so
// duplicates and out-of-order delivery change nothing.
//
// Projections are derived only from the log. Rebuild replays the stored log
// through the same fold into a fresh table, partition by partition (with
// progress), swaps it in atomically (EXCHANGE TABLES), re-attaches the view
// and folds again whatever was recorded since the rebuild began, so no event
// appended during a rebuild is missed. Each projection has a version; a new
// version is built beside the old one by Ensure, at start-up.
//
// projection_state (schema/clickhouse/004_projection_state.sql) is the
// checkpoint: which version is live and when it was built, through which
// recorded time, from how many events, at what rate. Status adds how far
// each table reaches now against the log.
//
// Store does I/O; the questions asked of these projections (who is this
// person, what does the data map say) are answered in internal/inventory,
// which depends on the small interfaces it defines, implemented here.
package projectionstore
