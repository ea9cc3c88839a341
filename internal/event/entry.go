package event

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Entry is an event in its split form: the envelope, the data's JSON
// without element values (exactly as the event log stores it), and the
// values taken out of it. Split makes one; Event turns it back.
type Entry struct {
	ID              uuid.UUID
	SpecVersion     string
	Type            Type
	Source          string
	Time            time.Time // UTC
	Tenant          string
	DataContentType string
	DataSchema      string
	// Identifiers are normalised (as validation leaves them).
	Identifiers []Identifier
	// Data is the JSON of the event's data with every element value
	// removed.
	Data json.RawMessage
	// Values holds the element values in the order of the data's
	// ValueSlots, nil where an element has none; nil when no element has
	// a value.
	Values []json.RawMessage
}

// HasValues reports whether any element carries a value.
func (e *Entry) HasValues() bool {
	for _, v := range e.Values {
		if len(v) > 0 {
			return true
		}
	}
	return false
}

// Split returns e's split form. It takes the element values out of e.Data
// while it encodes the data and puts them back before it returns, so e
// must not be read by other goroutines meanwhile.
func Split(e *Event) (Entry, error) {
	slots := e.Data.ValueSlots()
	values := make([]json.RawMessage, len(slots))
	hasValue := false
	for i, s := range slots {
		values[i] = s.Value
		if len(s.Value) > 0 {
			hasValue = true
		}
		s.Value = nil
	}
	data, err := json.Marshal(e.Data)
	for i, s := range slots {
		s.Value = values[i]
	}
	if err != nil {
		return Entry{}, fmt.Errorf("event %s: encode data: %w", e.ID, err)
	}
	if !hasValue {
		values = nil
	}
	return Entry{ID: e.ID, SpecVersion: e.SpecVersion, Type: e.Type, Source: e.Source, Time: e.Time.UTC(), Tenant: e.Tenant,
		DataContentType: e.DataContentType, DataSchema: e.DataSchema, Identifiers: e.Subject.Identifiers,
		Data: data, Values: values}, nil
}

// Event rebuilds the event: its data decoded and the values put back.
func (e *Entry) Event() (*Event, error) {
	d, err := NewData(e.Type)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", e.ID, err)
	}
	if err := json.Unmarshal(e.Data, d); err != nil {
		return nil, fmt.Errorf("event %s: decode %s data: %w", e.ID, e.Type, err)
	}
	if len(e.Values) > 0 {
		slots := d.ValueSlots()
		if len(slots) != len(e.Values) {
			return nil, fmt.Errorf("event %s: %d values for %d elements", e.ID, len(e.Values), len(slots))
		}
		for i, s := range slots {
			s.Value = e.Values[i]
		}
	}
	return &Event{ID: e.ID, SpecVersion: e.SpecVersion, Type: e.Type, Source: e.Source, Time: e.Time,
		Tenant: e.Tenant, Subject: Subject{Identifiers: e.Identifiers}, DataContentType: e.DataContentType,
		DataSchema: e.DataSchema, Data: d}, nil
}
