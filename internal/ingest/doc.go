// Package ingest is the HTTP entry point for events, POST /v1/events: it
// reads a batch (JSON array, NDJSON, CloudEvents), validates each event
// against the contract and the tenant's taxonomy, hands the good ones to a
// Sink, and answers with a verdict per event.
//
// It does not store anything itself. Today the Sink is the event log
// (synchronous append); the ingest pipeline swaps in a broker publisher
// behind the same port without changing this package.
package ingest
