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
// Vocabulary), and limits. Identifier values are normalised through
// package identity; reasons never echo identifier or element values.
//
// # Limits
//
// Options.Limits bound the work one event can cause, so that a small input
// cannot become a large tree, row, report or answer: an event is at most
// 256 KiB as sent, an element value at most 64 KiB as compact JSON and
// nested at most 32 arrays and objects deep, an event has at most 1,000
// data elements and a subject at most 50 identifiers. Operators may lower
// them, never raise them past the ceilings (MaxEventBytes, MaxElements,
// MaxIdentifiers, MaxValueBytes, MaxValueDepth) that storage, reports and
// GraphQL are sized for. The parser builds an event's tree only as deep as
// a value may nest and scans the rest for syntax, so a value of 9,000
// nested arrays costs one scan before it is refused. Events read back from
// storage (Event.UnmarshalJSON, DecodeStored) are held to the ceilings
// only, so that events stored before a limit was lowered stay readable.
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
