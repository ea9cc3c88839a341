package report

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

func loadTaxonomy(t *testing.T) *taxonomy.Taxonomy {
	t.Helper()
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

func eid(n uint64) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], n)
	return u
}

// ref returns an identifier reference with a readable fake hash.
func ref(k identity.Kind, name string) identity.Ref {
	return identity.Ref{Kind: k, Hash: fmt.Sprintf("%x", name)}
}

// at reads "2026-03-02" (10:00 UTC) or an RFC 3339 time.
func at(s string) time.Time {
	if len(s) == len(time.DateOnly) {
		s += "T10:00:00Z"
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// el is an element; a value that is valid JSON (an object, a number) is
// kept as is, anything else becomes a JSON string.
func el(name, category, value string) event.Element {
	e := event.Element{Name: name, Category: category}
	switch {
	case value == "":
	case json.Valid([]byte(value)) && (value[0] == '{' || value[0] == '[' || (value[0] >= '0' && value[0] <= '9')):
		e.Value = json.RawMessage(value)
	default:
		b, _ := json.Marshal(value)
		e.Value = b
	}
	return e
}

func els(es ...event.Element) []event.Element { return es }

// stream builds recorded events with deterministic ids.
type stream struct {
	tenant string
	refs   []identity.Ref
	recs   []event.Recorded
}

func (s *stream) add(day string, data event.Data) {
	s.recs = append(s.recs, event.Recorded{
		Event: &event.Event{ID: eid(uint64(len(s.recs) + 1)), SpecVersion: event.SpecVersion, Type: typeOf(data),
			Source: "test", Time: at(day), Tenant: s.tenant, Data: data},
		Identifiers: s.refs,
	})
}

func (s *stream) collected(day, originKind, originName, system string, purposes []string, elements ...event.Element) {
	s.add(day, &event.Collected{Elements: elements, Origin: event.Origin{Kind: originKind, Name: originName}, Purposes: purposes, System: system})
}

func (s *stream) shared(day string, to event.Recipient, disclosure string, purposes []string, elements ...event.Element) {
	s.add(day, &event.Shared{Recipient: to, Elements: elements, Purposes: purposes, Disclosure: disclosure, System: "crm"})
}

func typeOf(d event.Data) event.Type {
	switch d.(type) {
	case *event.Collected:
		return event.TypeCollected
	case *event.Shared:
		return event.TypeShared
	case *event.Processed:
		return event.TypeProcessed
	case *event.Transferred:
		return event.TypeTransferred
	case *event.Corrected:
		return event.TypeCorrected
	case *event.Erased:
		return event.TypeErased
	case *event.ConsentChanged:
		return event.TypeConsentChanged
	}
	panic(fmt.Sprintf("unknown data %T", d))
}

func purposes(ps ...string) []string { return ps }

// requestFor opens and verifies a request received on received.
func requestFor(t *testing.T, tenant string, j requests.Jurisdiction, typ requests.Type, sought, reached requests.Level, received string) *requests.Request {
	t.Helper()
	l, err := requests.NewLifecycle(requests.Config{})
	if err != nil {
		t.Fatal(err)
	}
	subject := event.Subject{Identifiers: []event.Identifier{{Kind: identity.Email, Value: "jane@example.com"}}}
	var r requests.Request
	e, err := l.Open(requests.OpenInput{Act: requests.Act{EventID: eid(9001), At: at(received)}, RequestID: "r-2026-0042",
		Tenant: tenant, Subject: subject, Type: typ, Jurisdiction: j, Channel: requests.ChannelWebForm, Scope: sought})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(&r, e); err != nil {
		t.Fatal(err)
	}
	e, err = l.Verify(r, requests.VerifyInput{Act: requests.Act{EventID: eid(9002), At: at(received).Add(48 * time.Hour)},
		Method: requests.MethodMatchingDataPoints, Level: reached})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(&r, e); err != nil {
		t.Fatal(err)
	}
	return &r
}

// recordOf folds the stream and returns the person's record over w.
func recordOf(t *testing.T, s *stream, w Window) projections.Record {
	t.Helper()
	p := projections.Rebuild(s.recs)
	person, ok := p.PersonOf(s.tenant, s.refs[0])
	if !ok {
		t.Fatal("no person")
	}
	rec, ok := p.Record(s.tenant, person, w.Projection())
	if !ok {
		t.Fatal("no record")
	}
	return rec
}
