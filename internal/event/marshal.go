package event

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
)

// wireEvent is the external JSON form of an event.
type wireEvent struct {
	SpecVersion     string  `json:"specversion"`
	ID              string  `json:"id"`
	Type            Type    `json:"type"`
	Source          string  `json:"source"`
	Time            string  `json:"time"`
	Tenant          string  `json:"tenant"`
	DataContentType string  `json:"datacontenttype,omitempty"`
	DataSchema      string  `json:"dataschema,omitempty"`
	Subject         Subject `json:"subject"`
	Data            Data    `json:"data,omitempty"`
}

// MarshalJSON renders the event in its external JSON form, which Decode
// reads back to an equal event. Identifier values are the normalised ones;
// element values are included. RecordedAt is not part of the external form.
func (e *Event) MarshalJSON() ([]byte, error) {
	w := wireEvent{
		SpecVersion:     e.SpecVersion,
		ID:              e.ID.String(),
		Type:            e.Type,
		Source:          e.Source,
		Time:            e.Time.UTC().Format(time.RFC3339Nano),
		Tenant:          e.Tenant,
		DataContentType: e.DataContentType,
		DataSchema:      e.DataSchema,
		Subject:         e.Subject,
		Data:            e.Data,
	}
	if w.SpecVersion == "" {
		w.SpecVersion = SpecVersion
	}
	if w.Tenant == "" {
		w.Tenant = DefaultTenant
	}
	if _, linked := e.Data.(*Linked); linked {
		w.Data = nil
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads an event in its external form as stored by Custody
// itself: structure and identifiers are checked as by Decode, internal
// types are allowed, but taxonomy terms and the future-time limit are not
// checked (a tenant's taxonomy may have changed since the event was
// accepted). RecordedAt is left zero. Use Decode for input from outside.
func (e *Event) UnmarshalJSON(b []byte) error {
	opts := Options{Vocabulary: AnyTerm, AllowInternalTypes: true, trusted: true}.withDefaults()
	ev, errs, _ := decodeEvent(b, &opts, new(treeParser))
	if len(errs) > 0 {
		list := make([]error, len(errs))
		for i, fe := range errs {
			list[i] = fe
		}
		return errors.Join(append([]error{errors.New("event: stored event is invalid")}, list...)...)
	}
	*e = *ev
	return nil
}

// storedWire is the external JSON form as Custody writes it, for the fast
// reading of DecodeStored.
type storedWire struct {
	SpecVersion     string          `json:"specversion"`
	ID              uuid.UUID       `json:"id"`
	Type            Type            `json:"type"`
	Source          string          `json:"source"`
	Time            time.Time       `json:"time"`
	Tenant          string          `json:"tenant"`
	DataContentType string          `json:"datacontenttype"`
	DataSchema      string          `json:"dataschema"`
	Subject         Subject         `json:"subject"`
	Data            json.RawMessage `json:"data"`
}

// DecodeStored reads one event in the external form Custody itself wrote
// with MarshalJSON (a broker batch the ingest validated), about three times
// faster than UnmarshalJSON: encoding/json into the wire form and the
// type's data. It checks what storage relies on — a known type, an id, a
// time, a tenant, identifiers present and normalised — but, like
// UnmarshalJSON, not taxonomy terms. Input it cannot accept is handed to
// UnmarshalJSON, whose errors name the field.
func DecodeStored(b []byte) (*Event, error) {
	var w storedWire
	if err := json.Unmarshal(b, &w); err == nil {
		if e, ok := w.event(); ok {
			return e, nil
		}
	}
	e := new(Event)
	if err := e.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return e, nil
}

func (w *storedWire) event() (*Event, bool) {
	if w.ID == uuid.Nil || !w.Type.Known() || w.Time.IsZero() || w.Tenant == "" || w.Source == "" ||
		w.SpecVersion != SpecVersion || len(w.Subject.Identifiers) == 0 {
		return nil, false
	}
	for _, id := range w.Subject.Identifiers {
		if n, err := id.Normalized(); err != nil || n != id {
			return nil, false
		}
	}
	d, err := NewData(w.Type)
	if err != nil {
		return nil, false
	}
	if _, linked := d.(*Linked); !linked {
		if len(w.Data) == 0 || string(w.Data) == "null" || json.Unmarshal(w.Data, d) != nil {
			return nil, false
		}
	}
	return &Event{ID: w.ID, SpecVersion: w.SpecVersion, Type: w.Type, Source: w.Source, Time: w.Time.UTC(), Tenant: w.Tenant,
		Subject: w.Subject, DataContentType: w.DataContentType, DataSchema: w.DataSchema, Data: d}, true
}
