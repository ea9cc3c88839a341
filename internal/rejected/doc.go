// Package rejected keeps the events Custody refused — invalid at the HTTP
// edge or poison in the pipeline — with the reason for each, so that nothing
// a producer sent is silently lost: an operator can list them, inspect one,
// and replay them once the producer or the taxonomy is fixed.
//
// # Storage
//
// A Rejection is a row of rejected_events (schema/clickhouse/
// 003_rejected_events.sql). What was received is personal data — raw
// identifiers, element values — so the payload is stored only sealed with
// package keyring (AES-256-GCM), under the data key of the keyring subject
// "rejected:<tenant>" (SubjectKey), with the rejection id bound as
// additional authenticated data: a payload cannot be moved to another
// rejection or tenant undetected. Real subjects' keys are lower-case hex
// HMACs, so the name never collides with a person's key. Everything else
// stored in the clear is metadata: the tenant and type as sent (only when
// they look like a tenant name and an event type), the event id as sent
// (clipped), and the field errors, whose reasons never contain values (see
// event.FieldError).
//
// One key per tenant means erasing a person (crypto-shredding their subject
// key) does not reach payloads of theirs that were rejected: those stay
// readable until the rejection is replayed and the tenant's "rejected:" key
// is shredded, or the rows are deleted. Rejections are short-lived: the
// table's TTL removes them 30 days after they were rejected (Retention;
// schema/clickhouse/008_rejected_retention.sql).
//
// # Limits
//
// Bad input must not fill the disk, so the store is bounded (Limits): Put
// keeps at most MaxPayloadBytes (64 KiB) of each rejected event, marking
// the rejection Truncated (a truncated rejection cannot be replayed:
// ErrTruncated), and stops keeping rejections once MaxStored (100,000) or
// MaxStoredBytes (256 MiB of payloads) are stored. It refuses new
// rejections rather than evicting old ones, which keeps the earliest
// evidence of a fault and costs no deletes; room comes back as rejections
// expire. A refusal is counted in custody_rejected_dropped_total{reason}
// and logged when the store first finds itself full, and Put returns
// ErrFull. The totals are read from the table at most every 10 seconds and
// kept up to date in between by each store's own Puts, so processes that
// share the table may overshoot the caps by what the others put in that
// time.
//
// Status changes never update a row: Mark and Replay insert the row again
// with a higher version (ReplacingMergeTree), and every read uses FINAL, so
// the latest status wins; the sealed payload is copied as is.
//
// # Replay
//
// Replay decodes each payload again with the current options (taxonomy,
// tenant extensions) through event.Decode, hands the events that are valid
// now to an ingest.Sink (the event log, or later the broker) in one batch,
// and records the outcome: replayed (the sink took it, or already had it —
// replay is idempotent by event id) or still_rejected with the new errors.
// All SQL is in queries.go; every value is a server-side parameter.
package rejected
