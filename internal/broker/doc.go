// Package broker is Custody's event transport on NATS JetStream, behind
// Watermill: the embedded single-node server (no listener: its clients are
// in the same process), the connection configuration for an external
// cluster, the stream (no client may delete or purge its messages) and the
// pipeline's durable pull consumer (EnsureStream), a Watermill publisher
// and subscriber, and the HTTP ingest's Sink that publishes accepted
// events, signed (batchmsg.Signer), instead of appending them.
//
// Delivery is at least once, end to end:
//
//   - A publish returns only after JetStream acknowledged that the stream
//     stored the message (a synchronous request for the PubAck), so the
//     ingest Sink answers "accepted" only for events the broker holds. The
//     embedded server's file store writes through the OS page cache and
//     syncs periodically, like the embedded ClickHouse: it survives a
//     process crash, not necessarily a power cut.
//   - The subscriber acknowledges a message only after the pipeline's
//     handler succeeded; anything else (an error, a crash, a lost ack) ends
//     in a redelivery. Event ids make redelivery harmless: the log keeps one
//     event per id.
//
// Messages are batches of events in the batchmsg format; metadata travel as
// NATS headers. The subscriber pulls from a consumer that EnsureStream made
// and never creates or deletes consumers, so replicas share a position
// that survives any of them stopping. It hands messages on without waiting
// for earlier acks (bounded by MaxAckPending and MaxInFlightBytes), so the
// pipeline can append many small messages together.
//
// It is not the pipeline (package pipeline routes messages into the log),
// and it knows nothing of events beyond handing batches to batchmsg.
package broker
