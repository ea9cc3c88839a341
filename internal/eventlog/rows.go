package eventlog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// row is one stored event; the one place where the domain event and the
// table meet. Columns: schema/clickhouse/001_events.sql.
type row struct {
	Tenant               string    `ch:"tenant"`
	SubjectKey           string    `ch:"subject_key"`
	OccurredAt           time.Time `ch:"occurred_at"`
	EventID              uuid.UUID `ch:"event_id"`
	Type                 string    `ch:"type"`
	Source               string    `ch:"source"`
	SpecVersion          string    `ch:"spec_version"`
	RecordedAt           time.Time `ch:"recorded_at"`
	IdentifierKinds      []string  `ch:"identifier_kinds"`
	IdentifierNamespaces []string  `ch:"identifier_namespaces"`
	IdentifierHashes     []string  `ch:"identifier_hashes"`
	Data                 []byte    `ch:"data"`
	SealedKeyID          string    `ch:"sealed_key_id"`
	SealedValues         []byte    `ch:"sealed_values"`
}

// hashIdentifiers returns the refs of e's identifiers and the subject key:
// the smallest hash, so the same identifiers give the same key in any order.
func hashIdentifiers(h *identity.Hasher, e *event.Event) ([]identity.Ref, string, error) {
	refs := make([]identity.Ref, len(e.Subject.Identifiers))
	subject := ""
	for i, id := range e.Subject.Identifiers {
		ref, err := h.Ref(id)
		if err != nil {
			return nil, "", fmt.Errorf("event %s: subject.identifiers[%d]: %w", e.ID, i, err)
		}
		refs[i] = ref
		if subject == "" || ref.Hash < subject {
			subject = ref.Hash
		}
	}
	if subject == "" {
		return nil, "", fmt.Errorf("event %s: no identifiers", e.ID)
	}
	return refs, subject, nil
}

// takeValues removes the specific values from d and returns them in slot
// order as one JSON array (nil when there are none), with a function that
// puts them back. Between the two, d must not be shared.
func takeValues(d event.Data) ([]byte, func(), error) {
	slots := d.ValueSlots()
	values := make([]json.RawMessage, len(slots))
	hasValue := false
	for i, s := range slots {
		values[i] = s.Value
		if len(s.Value) > 0 {
			hasValue = true
		}
		s.Value = nil
	}
	restore := func() {
		for i, s := range slots {
			s.Value = values[i]
		}
	}
	if !hasValue {
		return nil, restore, nil
	}
	plain := make([]json.RawMessage, len(values))
	for i, v := range values {
		plain[i] = v
		if len(v) == 0 {
			plain[i] = json.RawMessage("null")
		}
	}
	b, err := json.Marshal(plain)
	return b, restore, err
}

// putValues restores values taken by takeValues into d.
func putValues(d event.Data, plain []byte) error {
	var values []json.RawMessage
	if err := json.Unmarshal(plain, &values); err != nil {
		return fmt.Errorf("decode sealed values: %w", err)
	}
	slots := d.ValueSlots()
	if len(values) != len(slots) {
		return fmt.Errorf("sealed values: %d for %d elements", len(values), len(slots))
	}
	for i, s := range slots {
		if string(values[i]) != "null" {
			s.Value = values[i]
		}
	}
	return nil
}
