package requests

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

func eid(n uint64) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], n)
	return u
}

// at reads "2026-03-02" (10:00 UTC that day) or an RFC 3339 time.
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

var jane = event.Subject{Identifiers: []event.Identifier{{Kind: identity.Email, Value: "jane@example.com"}}}

func newLifecycle(t *testing.T, cfg Config) *Lifecycle {
	t.Helper()
	l, err := NewLifecycle(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// run drives one request through its steps, keeping the events.
type run struct {
	t      *testing.T
	l      *Lifecycle
	r      Request
	events []*event.Event
	n      uint64
}

func newRun(t *testing.T, l *Lifecycle) *run { return &run{t: t, l: l} }

// act returns an Act with the next event id at day (see at).
func (x *run) act(day string) Act {
	x.n++
	return Act{EventID: eid(x.n), At: at(day), Actor: "privacy@ink"}
}

// must applies the event a command returned and fails on any error.
func (x *run) must(e *event.Event, err error) *run {
	x.t.Helper()
	if err != nil {
		x.t.Fatal(err)
	}
	if err := x.l.Apply(&x.r, e); err != nil {
		x.t.Fatalf("apply %s: %v", e.Type, err)
	}
	x.events = append(x.events, e)
	return x
}

func (x *run) open(in OpenInput) *run {
	x.t.Helper()
	if in.RequestID == "" {
		in.RequestID = "r-1"
	}
	if in.Subject.Identifiers == nil {
		in.Subject = jane
	}
	if in.Channel == "" {
		in.Channel = ChannelWebForm
	}
	if in.Tenant == "" {
		in.Tenant = "ink"
	}
	return x.must(x.l.Open(in))
}

func openInput(day string, j Jurisdiction, t Type) OpenInput {
	return OpenInput{Act: Act{EventID: eid(1000), At: at(day)}, Jurisdiction: j, Type: t}
}
