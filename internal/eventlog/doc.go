// Package eventlog is the repository of Custody's immutable event log on
// ClickHouse: append (idempotent by event id), read a person's events by
// their subject keys, read Custody's own (internal) events by any
// identifier, scan for replay, count. It holds all of the log's SQL (see
// queries.go) and the mapping between domain events and stored rows (see
// rows.go), and it works on any transport of the clickhouse port.
//
// What is stored is not what was received: identifier values are replaced
// by keyed hashes (package identity), and element values are sealed with the
// subject's data key (package keyring) and removed from the JSON. A reader
// gets events back with identifier hashes and decrypted values, or with
// values marked unavailable when the subject's keys were shredded.
package eventlog
