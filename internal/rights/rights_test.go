package rights_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projectionstore/readtest"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

const tenant = "inkcartridges"

var jane = identity.Identifier{Kind: identity.Email, Value: "jane@example.com"}

// open builds the real stack on embedded chDB with Jane's events in it.
func open(t *testing.T, now *time.Time) (*rights.Service, readtest.Env) {
	t.Helper()
	ctx := context.Background()
	e := readtest.Open(t)
	inv := e.Inventory
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := rights.New(e.Log, inv, rights.Config{Taxonomy: tax, Now: func() time.Time { return *now },
		Retention: map[string]report.Retention{tenant: {Default: "Up to seven years after your last order"}}})
	if err != nil {
		t.Fatal(err)
	}
	val := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, time.UTC) }
	events := []*event.Event{
		{ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected, Source: "checkout", Time: day(3, 1), Tenant: tenant,
			Subject: event.Subject{Identifiers: []identity.Identifier{jane}},
			Data: &event.Collected{Elements: []event.Element{{Name: "email", Category: "contact.email", Value: val("jane@example.com")},
				{Name: "card", Category: "financial.card_number", Value: val("4111111111111111")}},
				Origin: event.Origin{Kind: "consumer", Name: "checkout"}, Purposes: []string{"order_fulfilment"}, System: "shop"}},
		{ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeShared, Source: "adtech", Time: day(3, 2), Tenant: tenant,
			Subject: event.Subject{Identifiers: []identity.Identifier{jane}},
			Data: &event.Shared{Recipient: event.Recipient{Name: "AdNet Inc", Kind: "advertising_network", Role: "third_party"},
				Elements: []event.Element{{Name: "email", Category: "contact.email"}}, Purposes: []string{"targeted_advertising"},
				Disclosure: "sale", System: "shop"}},
	}
	if _, err := e.Log.Append(ctx, events); err != nil {
		t.Fatal(err)
	}
	return svc, e
}

func TestRequestToKnowLifecycleAndReport(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	svc, _ := open(t, &now)

	r, err := svc.Open(ctx, requests.OpenInput{Tenant: tenant, Subject: event.Subject{Identifiers: []identity.Identifier{jane}},
		Type: requests.TypeKnow, Jurisdiction: requests.CCPA, Channel: requests.ChannelWebForm, Act: requests.Act{Actor: "privacy-team"}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if r.State != requests.StateOpen || r.ID == "" {
		t.Fatalf("opened request = %+v", r)
	}
	if _, err := svc.Open(ctx, requests.OpenInput{RequestID: r.ID, Tenant: tenant, Subject: event.Subject{Identifiers: []identity.Identifier{jane}},
		Type: requests.TypeKnow, Jurisdiction: requests.CCPA, Channel: requests.ChannelEmail}); !errors.Is(err, requests.ErrInvalidInput) {
		t.Fatalf("opening a second request with the same id: %v, want ErrInvalidInput", err)
	}
	now = now.Add(24 * time.Hour)
	if _, err := svc.Confirm(ctx, tenant, r.ID, requests.Act{Actor: "privacy-team"}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if _, err := svc.Complete(ctx, tenant, r.ID, requests.CompleteInput{Outcome: requests.OutcomeComplied}); err == nil {
		t.Fatal("completed a request to know before verifying the requester")
	}
	if _, err := svc.Verify(ctx, tenant, r.ID, requests.VerifyInput{Method: requests.MethodMatchingDataPoints,
		Level: requests.LevelSpecificPieces}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if _, err := svc.Extend(ctx, tenant, r.ID, requests.ExtendInput{Reason: "complex request"}); err != nil {
		t.Fatalf("extend: %v", err)
	}
	if _, err := svc.Extend(ctx, tenant, r.ID, requests.ExtendInput{Reason: "again"}); !errors.Is(err, requests.ErrInvalidTransition) {
		t.Fatalf("second extension: %v, want ErrInvalidTransition", err)
	}
	now = now.Add(48 * time.Hour)
	done, err := svc.Complete(ctx, tenant, r.ID, requests.CompleteInput{Outcome: requests.OutcomeComplied})
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if d := done.Final(); d == nil || d.Report == nil || len(d.Report.SHA256) != 64 {
		t.Fatalf("completed request has no report digest: %+v", done.Response)
	}

	// The stored request replays to the same state.
	got, err := svc.Get(ctx, tenant, r.ID)
	if err != nil || got.State != requests.StateCompleted {
		t.Fatalf("get = %+v, %v", got, err)
	}
	// The delivered report is built again, identical, and says what the
	// law requires: values shown except the card number, which is named.
	rep, _, same, err := svc.Download(ctx, tenant, r.ID)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if !same {
		t.Fatal("the report built again differs from the one delivered")
	}
	var email, card *report.Piece
	for i, p := range rep.SpecificPieces {
		switch p.Category {
		case "contact.email":
			email = &rep.SpecificPieces[i]
		case "financial.card_number":
			card = &rep.SpecificPieces[i]
		}
	}
	if email == nil || string(email.Value) != `"jane@example.com"` {
		t.Fatalf("email piece = %+v", email)
	}
	if card == nil || card.Value != nil || card.Notice == "" {
		t.Fatalf("card piece = %+v, want named without its value", card)
	}

	// A request to delete cannot be downloaded; unknown ids are not found.
	if _, _, _, err := svc.Download(ctx, tenant, "nope"); !errors.Is(err, rights.ErrNotFound) {
		t.Fatalf("download unknown: %v", err)
	}
	m, err := svc.Metrics(ctx, tenant, 2026)
	if err != nil {
		t.Fatal(err)
	}
	var know *requests.Metrics
	for i := range m {
		if m[i].Type == requests.TypeKnow {
			know = &m[i]
		}
	}
	if know == nil || know.Received != 1 || know.Complied != 1 {
		t.Fatalf("metrics = %+v", m)
	}

	// The privacy team's preview over the default window.
	preview, err := svc.RightToKnow(ctx, tenant, jane, time.Time{}, time.Time{}, requests.CCPA)
	if err != nil {
		t.Fatalf("right to know: %v", err)
	}
	if len(preview.SoldOrShared) == 0 {
		t.Fatalf("preview lists nothing sold or shared: %+v", preview)
	}
}

// An id no request can have (control characters, 10,000 characters) is
// the caller's mistake, naming the request id, wherever it arrives; it was
// an identity error from the log. A well-formed unknown id is not found.
func TestMalformedRequestIDsAreInvalidInput(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	svc, _ := open(t, &now)
	steps := map[string]func(id string) error{
		"get": func(id string) error { _, err := svc.Get(ctx, tenant, id); return err },
		"confirm": func(id string) error {
			_, err := svc.Confirm(ctx, tenant, id, requests.Act{Actor: "dpo"})
			return err
		},
		"deny": func(id string) error {
			_, err := svc.Deny(ctx, tenant, id, requests.DenyInput{Act: requests.Act{Actor: "dpo"}, Basis: requests.BasisOther, Reason: "x"})
			return err
		},
		"download": func(id string) error { _, _, _, err := svc.Download(ctx, tenant, id); return err },
		"open": func(id string) error {
			_, err := svc.Open(ctx, requests.OpenInput{RequestID: id, Tenant: tenant, Subject: event.Subject{Identifiers: []identity.Identifier{jane}},
				Type: requests.TypeKnow, Jurisdiction: requests.CCPA, Channel: requests.ChannelEmail})
			return err
		},
	}
	for name, step := range steps {
		for _, id := range []string{"dsar\r\n1", "dsar\x001", strings.Repeat("r", 10_000), strings.Repeat("r", 100)} {
			err := step(id)
			if !errors.Is(err, requests.ErrInvalidInput) || !strings.HasPrefix(err.Error(), "request id: ") {
				t.Errorf("%s %.12q: %v; want invalid input naming the request id", name, id, err)
			}
		}
		if name == "open" {
			continue
		}
		if err := step("dsar-404"); !errors.Is(err, rights.ErrNotFound) {
			t.Errorf("%s of a well-formed unknown id: %v; want not found", name, err)
		}
	}
}
