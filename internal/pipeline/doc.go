// Package pipeline moves event batches from the broker into the event log:
// a Watermill router with one handler that decodes a batch (batchmsg) and
// appends it (Appender, the event log), acknowledging the message only when
// the append succeeded.
//
// Batches delivered and not yet acknowledged (up to the broker's
// MaxAckPending) share one append (Config.Coalesce): up to 50,000 events per
// INSERT, one append at a
// time, each batch's outcomes handed back to its own handler. A batch is
// acked only after the append holding it succeeded; when that append fails
// every batch in it is retried, and one that fails for good (rows the
// storage cannot map) is tried alone before it is poisoned, so it takes no
// other batch with it. A batch that cannot be decoded never joins one.
//
// Only batches Custody's HTTP ingest signed (Config.Signer) are trusted as
// they are. Any other batch is untrusted input: a batch of events in the
// JSON form is validated event by event as HTTP ingest validates, its
// invalid events kept as rejected (Config.Rejected); a batch in the
// internal split form without a valid signature is poisoned.
//
// StorageWritable tells readiness and HTTP ingest whether the log can be
// written: it fails while every append has failed for UnwritableAfter.
//
// Around the handler, outermost first:
//
//   - poison queue: a batch that cannot be stored is published to the
//     poison topic with the error in its metadata (reason_poisoned, plus
//     custody-original-uuid and custody-poisoned-at) and then acknowledged,
//     so it does not block the batches behind it. A batch in a foreign
//     format (batchmsg.ErrFormat) or in the internal format without a
//     valid signature goes there at once; rows the storage cannot map
//     after the retries; a batch whose appends fail while others are
//     stored after Config.MaxDeliveries deliveries. An outage (every
//     append failing) poisons nothing. The poisoned message keeps the
//     payload and the original metadata, so replaying it is publishing it
//     back to the topic. A shutdown is not a failure: a batch interrupted
//     by it is given back to the broker instead.
//   - retry: exponential backoff with jitter (Config.Retry).
//   - recoverer: a panic in the handler becomes an error, which is retried.
//   - correlation id: carried from the publisher (the ingest Sink gives all
//     messages of one request the same id) into the logs.
//
// Delivery is at least once: a batch is redelivered after a failure, a
// crash or a lost ack. That is correct because Append is idempotent by
// event id (a redelivered event is a Duplicate, never a second copy), and
// ordering does not matter either: the projections are order-independent
// (see package projections), so neither per-subject nor global order is
// needed for correctness, and several replicas may handle batches
// concurrently.
//
// A graceful stop (Run's context ends) hands the work back instead of
// leaving it to the broker's AckWait: the batch being appended finishes and
// is acked, a batch waiting to be retried and the messages buffered in the
// client are nacked (redelivered after the broker's NakDelay, to another
// replica or after the restart).
//
// The broker's AckWait should exceed Config.MaxHandlingTime (the defaults,
// 6 attempts of up to 60 s, give about 6 minutes against a 60 s AckWait):
// a batch still being retried when AckWait runs out is delivered again,
// which costs work but loses and doubles nothing.
//
// Metrics: custody_pipeline_events_total{outcome=stored|duplicate},
// custody_pipeline_batches_total{result=stored|failed|poisoned},
// custody_pipeline_batch_duration_seconds, and per shared append
// custody_pipeline_append_events and custody_pipeline_append_messages.
//
// It is not the transport (package broker) and holds no SQL (package
// eventlog).
package pipeline
