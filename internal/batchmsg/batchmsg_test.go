package batchmsg

import (
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

func sample(n int) []*event.Event {
	out := make([]*event.Event, n)
	for i := range out {
		out[i] = &event.Event{ID: uuid.New(), SpecVersion: "1.0", Type: event.TypeConsentChanged, Source: "s", Tenant: "acme",
			Time:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Subject: event.Subject{Identifiers: []event.Identifier{{Kind: identity.Email, Value: "a@example.com"}}},
			Data:    &event.ConsentChanged{Choice: "sale", Status: event.ConsentStatus("opted_out"), Mechanism: "gpc"}}
	}
	return out
}

func TestEncodeDecode_RoundTripsEveryEvent(t *testing.T) {
	in := sample(3)
	msg, err := Encode(in, "test")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("got %d events", len(out))
	}
	for i := range in {
		if out[i].ID != in[i].ID || out[i].Subject.Identifiers[0].Value != "a@example.com" || out[i].Type != in[i].Type {
			t.Fatalf("event %d differs: %+v", i, out[i])
		}
	}
}

func TestDecode_ForeignOrDamagedMessagesAreFormatErrors(t *testing.T) {
	msg, _ := Encode(sample(2), "test")
	wrongCount := msg.Copy()
	wrongCount.Metadata.Set(MetaCount, "5")
	foreign := msg.Copy()
	foreign.Metadata.Set(MetaFormat, "")
	garbage := msg.Copy()
	garbage.Payload = []byte("{not json\n")
	for name, m := range map[string]*message.Message{"count": wrongCount, "foreign": foreign, "garbage": garbage} {
		if _, err := Decode(m); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want ErrFormat", name, err)
		}
	}
}
