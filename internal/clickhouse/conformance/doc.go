// Package conformance is the one behavioural test suite every transport of
// the ClickHouse port must pass (like Jaeger's storage integration suite or
// Watermill's pub/sub tests). A transport's own _test.go calls Run with a
// factory. Cases that need a feature the server lacks are skipped with the
// reason in the test log, gated on the Capabilities the transport declares.
package conformance
