// Package e2e holds end-to-end tests that run Custody's real parts together
// (SDK, embedded NATS JetStream, the pipeline, chDB) in one process. It has
// no production code.
package e2e
