package event

import "github.com/custodyhq/custody/internal/identity"

// Recorded is an event as the log gives it back to readers (projections,
// lineage, reports). Identifier values are never stored, so Event.Subject
// carries kinds and namespaces only and Identifiers the keyed hashes, index
// for index; element values are decrypted unless Shredded.
type Recorded struct {
	Event       *Event
	Identifiers []identity.Ref
	// SubjectKey groups the event with its person's data key: the smallest
	// identifier hash of the event.
	SubjectKey string
	// Shredded is true when the event had values that can no longer be
	// decrypted because the subject's keys were destroyed (erasure).
	Shredded bool
}
