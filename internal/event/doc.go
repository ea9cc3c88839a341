// Package event is Custody's event contract in Go: the envelope and the data
// of every event type, and the decoder that turns untrusted JSON into
// validated events.
//
// An event says that something happened to personal data about one person:
// data.collected, data.shared, data.processed, data.transferred,
// data.corrected, data.erased, consent.changed or subject.linked. The
// request.* types record the rights-request lifecycle and are written by
// Custody itself; external input carrying them is rejected.
//
// # Decoding
//
// Decode reads one event; DecodeBatch reads a JSON array, NDJSON, a single
// object, or CloudEvents structured and batch bodies, judging each event on
// its own so one bad event never costs the others. Validation reports every
// problem of an event, each as a FieldError with a JSON path
// (data.elements[2].category) and a reason that says what to do: unknown
// fields (with a suggestion for typos), wrong JSON types, missing fields,
// invalid values, unknown taxonomy terms (looked up per tenant through a
// Vocabulary), and size limits. Identifier values are normalised through
// package identity; reasons never echo identifier or element values.
//
// The JSON Schema in schema/events describes the same structure for other
// languages; a test keeps the two in agreement.
//
// # What this package is not
//
// It does not store, hash or encrypt anything (Data.ValueSlots lets storage
// reach the values it encrypts), and it does not know the taxonomy's content:
// that lives in package taxonomy behind the Vocabulary interface.
//
// Element values and identifier values are personal data. Event, Element and
// Identifier print and log (fmt, slog) without them.
package event
