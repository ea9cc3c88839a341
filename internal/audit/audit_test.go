package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/projectionstore/readtest"
)

func TestTrailRecordsReadsPerPersonWithoutTouchingTheirRecord(t *testing.T) {
	ctx := context.Background()
	e := readtest.Open(t)
	inv := e.Inventory
	clock := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	trail := audit.New(e.Log, e.Log, inv, e.Hasher, func() time.Time { clock = clock.Add(time.Minute); return clock })

	email := identity.Identifier{Kind: identity.Email, Value: "jane@example.com"}
	user := identity.Identifier{Kind: identity.UserID, Value: "u-1"}
	stranger := identity.Identifier{Kind: identity.Email, Value: "nobody@example.com"}
	if _, err := e.Log.Append(ctx, []*event.Event{{ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected,
		Source: "t", Time: clock, Tenant: "default", Subject: event.Subject{Identifiers: []identity.Identifier{email, user}},
		Data: &event.Collected{Elements: []event.Element{{Name: "email", Category: "contact.email", Value: json.RawMessage(`"jane@example.com"`)}},
			Origin: event.Origin{Kind: "consumer"}, Purposes: []string{"account_management"}, System: "crm"}}}); err != nil {
		t.Fatal(err)
	}

	if err := trail.Record(ctx, audit.Access{Identifier: email, Actor: "ana", Role: "analyst", Operation: "graphql.subject"}); !errors.Is(err, audit.ErrPurposeRequired) {
		t.Fatalf("a read without a purpose: %v, want ErrPurposeRequired", err)
	}
	for _, a := range []audit.Access{
		{Identifier: email, Actor: "ana", Role: "analyst", Operation: "graphql.subject", Purpose: "ticket 42", Found: true},
		{Identifier: user, Actor: "root", Role: "admin", Operation: "cli.report", Purpose: "request req-1", Found: true, RequestID: "req-1",
			Revealed: " value of card (financial.card_number), current "},
		{Identifier: stranger, Actor: "ana", Role: "analyst", Operation: "graphql.subject", Purpose: "ticket 43"},
	} {
		if err := trail.Record(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// Looked up by either identifier, the person's log has both reads,
	// newest first; the stranger's lookup is not theirs.
	for _, id := range []identity.Identifier{email, user} {
		got, err := trail.For(ctx, "", id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Operation != "cli.report" || got[0].RequestID != "req-1" || got[1].Actor != "ana" ||
			got[0].Revealed != "value of card (financial.card_number), current" || got[1].Revealed != "" ||
			got[1].Purpose != "ticket 42" || !got[0].At.After(got[1].At) {
			t.Fatalf("access log by %v = %+v", id, got)
		}
	}
	got, err := trail.For(ctx, "", stranger)
	if err != nil || len(got) != 1 || got[0].Found {
		t.Fatalf("access log of an unknown identifier = %+v, %v", got, err)
	}
	// Reads are not the person's data: identity and record are unchanged.
	s, err := inv.Subject(ctx, "", email, projections.Window{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Identifiers) != 2 || s.Record.Events != 1 || len(s.Events) != 1 {
		t.Fatalf("subject after audited reads: %d identifiers, %d record events, %d timeline events; want 2, 1, 1",
			len(s.Identifiers), s.Record.Events, len(s.Events))
	}
	if _, err := inv.Resolve(ctx, "", stranger); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("an audited lookup made a person of an unknown identifier: %v", err)
	}
}
