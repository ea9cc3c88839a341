package event

import (
	"strconv"
	"time"

	"github.com/custodyhq/custody/internal/taxonomy"
)

// dataFields lists the members of each type's data, for unknown-field
// checks and suggestions.
var dataFields = map[Type][]string{
	TypeCollected:      {"elements", "origin", "purposes", "system", "legal_basis", "notice"},
	TypeShared:         {"recipient", "elements", "purposes", "disclosure", "system"},
	TypeProcessed:      {"activity", "purposes", "inputs", "outputs", "system", "automated_decision"},
	TypeTransferred:    {"elements", "from_system", "to_system", "to_country", "mechanism"},
	TypeCorrected:      {"elements", "system"},
	TypeErased:         {"elements", "categories", "all", "reason", "system", "request_id"},
	TypeConsentChanged: {"choice", "status", "mechanism", "system"},
}

var requestFields = []string{"request_id", "kind", "jurisdiction", "channel", "agent", "method", "level", "outcome", "reason", "basis", "received_at", "due_at", "actor", "note", "extra"}

func (w *walker) data(f fields, t Type) Data {
	n := f.get("data")
	if t == TypeSubjectLinked {
		if n != nil && n.kind != jsonNull && w.want(n, atPath("data"), jsonObject) {
			for _, k := range n.keys {
				w.fail(field("data", string(k)), "`subject.linked` events carry no data; leave `data` out")
			}
		}
		return &Linked{}
	}
	if n == nil {
		w.fail("data", "`data` is required for "+quote(string(t))+" events")
		return nil
	}
	if t == TypeAccessRecorded {
		w.fail("type", "`access.recorded` events are written by Custody's audit trail only and are never decoded from input")
		return nil
	}
	known := dataFields[t]
	if t.Internal() {
		known = requestFields
	}
	d, ok := w.object(n, atPath("data"), known...)
	if !ok {
		return nil
	}
	switch t {
	case TypeCollected:
		return w.collected(d)
	case TypeShared:
		return w.shared(d)
	case TypeProcessed:
		return w.processed(d)
	case TypeTransferred:
		return w.transferred(d)
	case TypeCorrected:
		return &Corrected{
			Elements: w.elements(d, "elements", true, 1, valueRequired, " (the corrected value)"),
			System:   w.text(d, "system", false),
		}
	case TypeErased:
		return w.erased(d)
	case TypeConsentChanged:
		return w.consentChanged(d)
	}
	return w.request(d)
}

func (w *walker) collected(d fields) *Collected {
	c := &Collected{Elements: w.elements(d, "elements", true, 1, valueOptional, "")}
	if of, ok := w.object(w.need(d, "origin"), atPath("data.origin"), "kind", "name"); ok {
		c.Origin = Origin{
			Kind: w.term(of, "kind", taxonomy.SourceKinds, true),
			Name: w.text(of, "name", false),
		}
	}
	c.Purposes = w.terms(d, "purposes", taxonomy.Purposes, true)
	c.System = w.text(d, "system", true)
	c.LegalBasis = w.term(d, "legal_basis", taxonomy.LegalBases, false)
	c.Notice = w.text(d, "notice", false)
	return c
}

func (w *walker) shared(d fields) *Shared {
	s := &Shared{}
	if rf, ok := w.object(w.need(d, "recipient"), atPath("data.recipient"), "name", "kind", "role", "country"); ok {
		s.Recipient = Recipient{
			Name:    w.text(rf, "name", true),
			Kind:    w.term(rf, "kind", taxonomy.RecipientKinds, true),
			Role:    w.term(rf, "role", taxonomy.RecipientRoles, true),
			Country: w.country(rf, "country"),
		}
	}
	s.Elements = w.elements(d, "elements", true, 1, valueOptional, "")
	s.Purposes = w.terms(d, "purposes", taxonomy.Purposes, true)
	s.Disclosure = w.term(d, "disclosure", taxonomy.DisclosureTypes, true)
	s.System = w.text(d, "system", true)
	return s
}

func (w *walker) processed(d fields) *Processed {
	p := &Processed{
		Activity: w.text(d, "activity", true),
		Purposes: w.terms(d, "purposes", taxonomy.Purposes, true),
		Inputs:   w.elements(d, "inputs", true, 1, valueForbidden, "inputs carry no value (they name data used); put derived values in `outputs`"),
		Outputs:  w.elements(d, "outputs", false, 0, valueOptional, ""),
		System:   w.text(d, "system", true),
	}
	if n, limit := len(p.Inputs)+len(p.Outputs), w.opts.Limits.MaxElements; n > limit && !w.opts.trusted {
		w.fail("data", "has "+strconv.Itoa(n)+" data elements in `inputs` and `outputs` together; at most "+strconv.Itoa(limit)+" are allowed in one event")
	}
	if len(p.Outputs) == 0 {
		p.Outputs = nil
	}
	if n := d.get("automated_decision"); n != nil {
		if af, ok := w.object(n, atPath("data.automated_decision"), "significant", "logic"); ok {
			sig, _ := w.boolean(af, "significant", true)
			p.AutomatedDecision = &AutomatedDecision{Significant: sig, Logic: w.text(af, "logic", true)}
		}
	}
	return p
}

func (w *walker) transferred(d fields) *Transferred {
	t := &Transferred{
		Elements:   w.elements(d, "elements", true, 1, valueOptional, ""),
		FromSystem: w.text(d, "from_system", true),
		ToSystem:   w.text(d, "to_system", true),
		ToCountry:  w.country(d, "to_country"),
		Mechanism:  w.term(d, "mechanism", taxonomy.TransferMechanisms, false),
	}
	if d.get("to_country") != nil && d.get("mechanism") == nil {
		w.fail("data.mechanism", "`mechanism` is required with `to_country`: name the transfer safeguard (e.g. standard contractual clauses or an adequacy decision)")
	}
	if t.FromSystem != "" && t.FromSystem == t.ToSystem {
		w.fail("data.to_system", "is the same as `from_system`")
	}
	return t
}

func (w *walker) erased(d fields) *Erased {
	e := &Erased{}
	all, allSet := w.boolean(d, "all", false)
	allSet = allSet && all
	given := 0
	for _, name := range []string{"elements", "categories"} {
		if d.get(name) != nil {
			given++
		}
	}
	if allSet {
		given++
	}
	switch {
	case given == 0:
		w.fail("data", "one of `elements`, `categories` or `all: true` is required: say what was erased")
	case given > 1:
		w.fail("data", "give exactly one of `elements`, `categories` or `all: true`")
	}
	e.Elements = w.elements(d, "elements", false, 1, valueForbidden, "erased elements carry no value")
	e.Categories = w.terms(d, "categories", taxonomy.Categories, false)
	e.All = allSet
	e.Reason = w.term(d, "reason", taxonomy.ErasureReasons, true)
	e.System = w.text(d, "system", true)
	e.RequestID = w.text(d, "request_id", false)
	if len(e.Elements) == 0 {
		e.Elements = nil
	}
	return e
}

func (w *walker) consentChanged(d fields) *ConsentChanged {
	c := &ConsentChanged{Choice: w.term(d, "choice", taxonomy.ConsentChoices, true)}
	if n := w.need(d, "status"); w.want(n, atPath("data.status"), jsonString) {
		s := ConsentStatus(decodeString(n.raw))
		valid := typeNames(ConsentStatuses())
		if contains(valid, string(s)) {
			c.Status = s
		} else {
			w.fail("data.status", unknownValue("status", string(s), valid))
		}
	}
	c.Mechanism = w.term(d, "mechanism", taxonomy.ConsentMechanisms, true)
	c.System = w.text(d, "system", false)
	return c
}

func (w *walker) request(d fields) *Request {
	r := &Request{
		RequestID:    w.text(d, "request_id", true),
		Kind:         w.text(d, "kind", false),
		Jurisdiction: w.text(d, "jurisdiction", false),
		Channel:      w.text(d, "channel", false),
		Agent:        w.text(d, "agent", false),
		Method:       w.text(d, "method", false),
		Level:        w.text(d, "level", false),
		Outcome:      w.text(d, "outcome", false),
		Reason:       w.text(d, "reason", false),
		Basis:        w.text(d, "basis", false),
		ReceivedAt:   w.timestamp(d, "received_at"),
		DueAt:        w.timestamp(d, "due_at"),
		Actor:        w.text(d, "actor", false),
		Note:         w.text(d, "note", false),
	}
	if n := d.get("extra"); w.want(n, atPath("data.extra"), jsonObject) {
		r.Extra = w.compactJSON(n, atPath("data.extra"))
	}
	return r
}

// timestamp reads an optional RFC 3339 member.
func (w *walker) timestamp(d fields, name string) *time.Time {
	n := d.get(name)
	path := d.path.field(name)
	if !w.want(n, path, jsonString) {
		return nil
	}
	s := decodeString(n.raw)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !isTimeText(s) {
		w.failAt(path, "must be an RFC 3339 timestamp such as `2026-03-01T12:00:00Z`")
		return nil
	}
	t = t.UTC()
	return &t
}
