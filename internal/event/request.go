package event

import (
	"encoding/json"
	"time"
)

// Request is the data of the request.* lifecycle events Custody writes for a
// rights request (11 CCR 7101 record keeping). Which fields a type uses:
//
//	request.opened     RequestID, Kind, Jurisdiction, Channel, Agent, ReceivedAt, DueAt
//	request.confirmed  RequestID
//	request.verified   RequestID, Method, Level
//	request.extended   RequestID, DueAt, Reason
//	request.completed  RequestID, Outcome
//	request.denied     RequestID, Basis, Reason
//	request.appealed   RequestID, Reason
//
// Actor and Note may accompany any of them; Extra holds further fields as a
// JSON object until they earn a name here.
type Request struct {
	RequestID    string          `json:"request_id"`
	Kind         string          `json:"kind,omitempty"`         // know, access, delete, correct, opt_out, limit, portability, …
	Jurisdiction string          `json:"jurisdiction,omitempty"` // e.g. ccpa, gdpr
	Channel      string          `json:"channel,omitempty"`      // web_form, email, toll_free, mail, in_person, app, …
	Agent        string          `json:"agent,omitempty"`        // authorized agent acting for the consumer
	Method       string          `json:"method,omitempty"`       // verification method
	Level        string          `json:"level,omitempty"`        // verification degree reached
	Outcome      string          `json:"outcome,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	Basis        string          `json:"basis,omitempty"` // legal basis of a denial
	ReceivedAt   *time.Time      `json:"received_at,omitempty"`
	DueAt        *time.Time      `json:"due_at,omitempty"`
	Actor        string          `json:"actor,omitempty"` // who acted (a user of Custody)
	Note         string          `json:"note,omitempty"`
	Extra        json.RawMessage `json:"extra,omitempty"`
}

// ValueSlots implements Data; requests carry no element values.
func (d *Request) ValueSlots() []*Element { return nil }
func (*Request) isData()                  {}
