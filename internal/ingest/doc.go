// Package ingest is the HTTP entry point for events, POST /v1/events: it
// reads a batch (JSON array, NDJSON, CloudEvents), validates each event
// against the contract and the tenant's taxonomy, hands the good ones to a
// Sink, and answers with a verdict per event.
//
// It does not store anything itself: the Sink is the broker's publisher
// (the pipeline appends to the log), or in direct mode the event log.
// GroupCommit sits in front of either, so that requests handled at the
// same time share one call of the sink (one publish, one append): services
// send events one or a few at a time, and each call has a fixed cost.
package ingest
