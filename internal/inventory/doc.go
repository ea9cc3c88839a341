// Package inventory answers the read side's questions about stored data:
// who a person is (every identifier linked to the one asked about), what the
// business holds about them and whom it told (their record), where one of
// their data went or came from (lineage), and the organisation-wide data
// map and recipients.
//
// It is the application layer between storage and the pure domain: it asks
// small ports (ports.go) for a person's identifiers and events, or for the
// data map's facts, and folds them with internal/projections and
// internal/lineage. It does no I/O of its own; internal/eventlog and
// internal/projectionstore implement the ports on ClickHouse.
//
// A person is found by a walk over the stored identity links: from the
// identifier asked about, to every identifier sharing an event with it, and
// on until nothing new appears. Their events are then read by all of their
// identifiers and folded in memory. Because that fold is a function of the
// set of events, a record read here equals the record the pure projector
// builds from the same events in any order, however often they were
// delivered.
package inventory
