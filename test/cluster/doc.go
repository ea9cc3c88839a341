// Package cluster holds scale-out tests: Custody's real ingest wiring
// (internal/node) against a three-server NATS JetStream cluster running in
// process, with servers lost under load. It has no production code.
package cluster
