package batchmsg

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
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

func collected(n int) []*event.Event {
	out := make([]*event.Event, n)
	for i := range out {
		out[i] = &event.Event{ID: uuid.New(), SpecVersion: "1.0", Type: event.TypeCollected, Source: "checkout", Tenant: "acme",
			Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
			Subject: event.Subject{Identifiers: []event.Identifier{
				{Kind: identity.Email, Value: "a@example.com"}, {Kind: identity.External, Namespace: "crm", Value: "C-1"}}},
			Data: &event.Collected{Elements: []event.Element{
				{Name: "email", Category: "contact.email", Value: []byte(`"a@example.com"`)},
				{Name: "ip", Category: "online.ip_address"},
				{Name: "prefs", Category: "preferences", Value: []byte(`{"a":[1,2]}`)}},
				Origin: event.Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "orders-db"}}
	}
	return out
}

func TestEncodeEntries_RoundTripsBothWays(t *testing.T) {
	in := append(collected(3), sample(2)...)
	entries := make([]event.Entry, len(in))
	for i, e := range in {
		var err error
		if entries[i], err = event.Split(e); err != nil {
			t.Fatal(err)
		}
	}
	// Split puts the values back.
	if v := in[0].Data.ValueSlots()[0].Value; string(v) != `"a@example.com"` {
		t.Fatalf("value not restored: %s", v)
	}
	if strings.Contains(string(entries[0].Data), "a@example.com") || !entries[0].HasValues() || entries[3].HasValues() {
		t.Fatalf("split data %s, values %q", entries[0].Data, entries[0].Values)
	}
	msg := EncodeEntries(entries, "test")
	got, err := DecodeEntries(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, entries) {
		t.Fatalf("entries differ:\n got %+v\nwant %+v", got, entries)
	}
	// Decode (events) reads the same message back to the events.
	events, err := Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		want, _ := json.Marshal(in[i])
		have, _ := json.Marshal(events[i])
		if string(want) != string(have) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, have, want)
		}
	}
	// A FormatV1 message gives the same entries.
	v1, err := Encode(in, "test")
	if err != nil {
		t.Fatal(err)
	}
	fromV1, err := DecodeEntries(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromV1, entries) {
		t.Fatalf("entries from v1 differ:\n got %+v\nwant %+v", fromV1, entries)
	}
}

func TestDecodeEntries_ForeignOrDamagedMessagesAreFormatErrors(t *testing.T) {
	entries := make([]event.Entry, 2)
	for i, e := range collected(2) {
		entries[i], _ = event.Split(e)
	}
	msg := EncodeEntries(entries, "test")
	mutate := func(f func(*message.Message)) *message.Message {
		m := msg.Copy()
		f(m)
		return m
	}
	bad := func(f func(*event.Entry)) *message.Message {
		es := slices.Clone(entries)
		es[1].Values = slices.Clone(es[1].Values)
		f(&es[1])
		return EncodeEntries(es, "test")
	}
	cases := map[string]*message.Message{
		"count high":  mutate(func(m *message.Message) { m.Metadata.Set(MetaCount, "3") }),
		"count low":   mutate(func(m *message.Message) { m.Metadata.Set(MetaCount, "1") }),
		"count huge":  mutate(func(m *message.Message) { m.Metadata.Set(MetaCount, "100000000") }),
		"count bad":   mutate(func(m *message.Message) { m.Metadata.Set(MetaCount, "x") }),
		"truncated":   mutate(func(m *message.Message) { m.Payload = m.Payload[:len(m.Payload)-3] }),
		"garbage":     mutate(func(m *message.Message) { m.Payload = []byte("{not json\n") }),
		"no id":       bad(func(e *event.Entry) { e.ID = uuid.Nil }),
		"type":        bad(func(e *event.Entry) { e.Type = "data.invented" }),
		"no tenant":   bad(func(e *event.Entry) { e.Tenant = "" }),
		"data":        bad(func(e *event.Entry) { e.Data = []byte(`{"elements":`) }),
		"value":       bad(func(e *event.Entry) { e.Values[0] = []byte(`"open`) }),
		"identifiers": bad(func(e *event.Entry) { e.Identifiers = nil }),
		"normalised": bad(func(e *event.Entry) {
			e.Identifiers = []event.Identifier{{Kind: identity.Email, Value: "A@Example.com"}}
		}),
	}
	for name, m := range cases {
		if _, err := DecodeEntries(m); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: DecodeEntries: got %v, want ErrFormat", name, err)
		}
		if _, err := Decode(m); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Decode: got %v, want ErrFormat", name, err)
		}
	}
	// Values that do not fit the data's elements cannot become an event.
	if _, err := Decode(bad(func(e *event.Entry) { e.Values = e.Values[:1] })); !errors.Is(err, ErrFormat) {
		t.Errorf("values for too few elements: got %v, want ErrFormat", err)
	}
}
