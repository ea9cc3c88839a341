package event

import (
	"encoding/json"
	"errors"
	"time"
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
	ev, errs, _ := decodeEvent(b, &opts)
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
