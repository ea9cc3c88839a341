package projectionstore_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/projections"
)

// The seed policies' practices, lived by one person (Jane) through the
// stored path: the log on chDB, the projections fed by it, the inventory
// service reading them.
//   - signs in with Google SSO (a meetings/messaging platform's "sign in
//     with a third-party service such as Google");
//   - buys ink (the retailer's "name, address, telephone number, email
//     address, credit card");
//   - her transaction details go to a reseller (the electronics maker's
//     "authorized resellers"), her email is sold to an ad network and an
//     inference drawn from her purchases to a data broker (the retailer's
//     "data brokers, and advertising networks");
//   - she is profiled ("perform research and analytics"; inferences);
//   - her phone (a device) is linked to her account;
//   - she opts out of sale with Global Privacy Control;
//   - her card number is erased when its retention period ends.
var (
	janeEmail  = identity.Identifier{Kind: identity.Email, Value: "jane@example.com"}
	janeUser   = identity.Identifier{Kind: identity.UserID, Value: "u-1009"}
	janeDevice = identity.Identifier{Kind: identity.DeviceID, Value: "dev-77"}
	at         = func(day int) time.Time { return time.Date(2026, 3, day, 12, 0, 0, 0, time.UTC) }
)

const tenant = "acme-electronics"

func janesLife() []*event.Event {
	ev := func(n uint64, day int, ids []identity.Identifier, d event.Data, typ event.Type) *event.Event {
		return &event.Event{ID: eventID(n), SpecVersion: event.SpecVersion, Type: typ, Source: "scenario", Time: at(day),
			Tenant: tenant, Subject: event.Subject{Identifiers: ids}, Data: d}
	}
	val := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	return []*event.Event{
		ev(1, 1, []identity.Identifier{janeDevice}, &event.Collected{
			Elements: []event.Element{{Name: "device_id", Category: "device.identifier", Value: val("dev-77")}},
			Origin:   event.Origin{Kind: "device", Name: "mobile app"}, Purposes: []string{"analytics"}, System: "app"}, event.TypeCollected),
		ev(2, 2, []identity.Identifier{janeEmail, janeUser}, &event.Collected{
			Elements: []event.Element{{Name: "email", Category: "contact.email", Value: val("jane@example.com")},
				{Name: "name", Category: "identity.name", Value: val("Jane Doe")}},
			Origin: event.Origin{Kind: "social_network", Name: "Google SSO"}, Purposes: []string{"authentication", "account_management"},
			System: "accounts"}, event.TypeCollected),
		ev(3, 3, []identity.Identifier{janeUser}, &event.Collected{
			Elements: []event.Element{{Name: "order", Category: "commercial.transaction", Value: json.RawMessage(`{"order":"A-1","total":42}`)},
				{Name: "card", Category: "financial.card_number", Value: val("4111111111111111")}},
			Origin: event.Origin{Kind: "consumer", Name: "checkout"}, Purposes: []string{"order_fulfilment", "payment_processing"},
			System: "shop"}, event.TypeCollected),
		ev(4, 4, []identity.Identifier{janeUser}, &event.Shared{
			Recipient: event.Recipient{Name: "Reseller Co", Kind: "reseller", Role: "service_provider", Country: "DE"},
			Elements:  []event.Element{{Name: "order", Category: "commercial.transaction"}},
			Purposes:  []string{"order_fulfilment"}, Disclosure: "business_purpose", System: "shop"}, event.TypeShared),
		ev(5, 5, []identity.Identifier{janeEmail}, &event.Shared{
			Recipient: event.Recipient{Name: "AdNet Inc", Kind: "advertising_network", Role: "third_party", Country: "US"},
			Elements:  []event.Element{{Name: "email", Category: "contact.email"}},
			Purposes:  []string{"targeted_advertising"}, Disclosure: "sale", System: "accounts"}, event.TypeShared),
		ev(6, 6, []identity.Identifier{janeUser}, &event.Processed{Activity: "propensity-model", Purposes: []string{"analytics"},
			Inputs:  []event.Element{{Name: "order", Category: "commercial.transaction"}, {Name: "email", Category: "contact.email"}},
			Outputs: []event.Element{{Name: "ink-buyer", Category: "inference.preferences", Value: val("high")}},
			System:  "warehouse", AutomatedDecision: &event.AutomatedDecision{Logic: "purchase frequency above median"}}, event.TypeProcessed),
		ev(7, 7, []identity.Identifier{janeUser}, &event.Shared{
			Recipient: event.Recipient{Name: "Data Broker LLC", Kind: "data_broker", Role: "third_party", Country: "US"},
			Elements:  []event.Element{{Name: "ink-buyer", Category: "inference.preferences"}},
			Purposes:  []string{"third_party_marketing"}, Disclosure: "sale", System: "warehouse"}, event.TypeShared),
		ev(8, 8, []identity.Identifier{janeUser, janeDevice}, &event.Linked{}, event.TypeSubjectLinked),
		ev(9, 9, []identity.Identifier{janeDevice}, &event.ConsentChanged{Choice: "sale", Status: "opted_out", Mechanism: "gpc", System: "app"},
			event.TypeConsentChanged),
		ev(10, 10, []identity.Identifier{janeUser}, &event.Erased{Categories: []string{"financial.card_number"}, Reason: "retention",
			System: "shop"}, event.TypeErased),
	}
}

func TestScenarioSSOPurchaseShareSaleProfileOptOut(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	if _, err := e.Log.Append(ctx, janesLife()); err != nil {
		t.Fatal(err)
	}
	// Look-up by any identifier returns the whole person.
	var person projections.PersonID
	for _, id := range []identity.Identifier{janeEmail, janeUser, janeDevice} {
		p, err := e.inv.Resolve(ctx, tenant, id)
		if err != nil {
			t.Fatalf("resolve %v: %v", id, err)
		}
		if len(p.Identifiers) != 3 {
			t.Fatalf("resolve %v: %d identifiers, want 3", id, len(p.Identifiers))
		}
		if person != "" && p.ID != person {
			t.Fatalf("resolve %v: person %s, want %s", id, p.ID, person)
		}
		person = p.ID
	}
	if _, err := e.inv.Resolve(ctx, "other-brand", janeEmail); err == nil {
		t.Fatal("the same email at another tenant resolved to a person")
	}

	s, err := e.inv.Subject(ctx, tenant, janeEmail, projections.Window{})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Record
	// The device was a person of its own until the link merged it in.
	if len(s.Merges) != 1 || s.Merges[0].Event != eventID(8) || len(s.Merges[0].Former) != 2 {
		t.Fatalf("merges = %+v, want one, by the link event, of two people", s.Merges)
	}
	el := func(cat, name string) projections.Element {
		for _, x := range r.Elements {
			if x.Category == cat && x.Name == name {
				return x
			}
		}
		t.Fatalf("record has no element %s/%s: %+v", cat, name, r.Elements)
		return projections.Element{}
	}
	email := el("contact.email", "email")
	if !slices.Equal(email.Sources, []projections.Source{{Kind: "social_network", Name: "Google SSO"}}) ||
		string(email.Value) != `"jane@example.com"` || email.Status != projections.StatusHeld {
		t.Fatalf("email element = %+v", email)
	}
	if inf := el("inference.preferences", "ink-buyer"); !slices.Equal(inf.Sources, []projections.Source{{Kind: "inferred", Name: "propensity-model"}}) {
		t.Fatalf("inference element = %+v", inf)
	}
	// Erased data stays, as erased, without its value.
	if card := el("financial.card_number", "card"); card.Status != projections.StatusErased || card.Value != nil {
		t.Fatalf("card element after the retention erasure = %+v", card)
	}
	cardLineage, _, err := e.inv.Lineage(ctx, tenant, janeEmail, inventory.LineageRequest{Category: "financial.card_number", Name: "card"})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := cardLineage.Node(cardLineage.Root); !ok || !n.Erased || !n.ErasedAt.Equal(at(10)) {
		t.Fatalf("card node in lineage = %+v, want erased on day 10", n)
	}
	wantDisclosures := []projections.DisclosureKey{
		{Recipient: "AdNet Inc", Kind: "advertising_network", Role: "third_party", Disclosure: "sale"},
		{Recipient: "Data Broker LLC", Kind: "data_broker", Role: "third_party", Disclosure: "sale"},
		{Recipient: "Reseller Co", Kind: "reseller", Role: "service_provider", Disclosure: "business_purpose"},
	}
	var gotDisclosures []projections.DisclosureKey
	for _, d := range r.Disclosures {
		gotDisclosures = append(gotDisclosures, d.DisclosureKey)
	}
	if !slices.Equal(gotDisclosures, wantDisclosures) {
		t.Fatalf("disclosures = %+v, want %+v", gotDisclosures, wantDisclosures)
	}
	if len(r.Activities) != 1 || r.Activities[0].Activity != "propensity-model" || len(r.Activities[0].AutomatedDecisions) != 1 {
		t.Fatalf("activities = %+v", r.Activities)
	}
	if len(r.Consents) != 1 || r.Consents[0].Choice != "sale" || r.Consents[0].Current != "opted_out" || !r.Consents[0].Since.Equal(at(9)) {
		t.Fatalf("consents = %+v, want sale opted out since day 9", r.Consents)
	}

	// Lineage: upstream from the inference reaches the original sources.
	up, _, err := e.inv.Lineage(ctx, tenant, janeDevice, inventory.LineageRequest{Category: "inference.preferences", Name: "ink-buyer",
		Direction: lineage.DirUpstream})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(up.NodesOfKind(lineage.NodeSource)); !slices.Equal(got, []string{"Google SSO", "checkout"}) {
		t.Fatalf("upstream sources of the inference = %v, want Google SSO and checkout", got)
	}
	// Downstream from the email reaches every recipient that got it or
	// anything derived from it — not the reseller, who got only the order.
	down, _, err := e.inv.Lineage(ctx, tenant, janeEmail, inventory.LineageRequest{Category: "contact.email", Name: "email"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(down.NodesOfKind(lineage.NodeRecipient)); !slices.Equal(got, []string{"AdNet Inc", "Data Broker LLC"}) {
		t.Fatalf("downstream recipients of the email = %v, want AdNet Inc and Data Broker LLC", got)
	}
	// As of before the sale to the ad network, it does not show.
	before, _, err := e.inv.Lineage(ctx, tenant, janeEmail, inventory.LineageRequest{Category: "contact.email", Name: "email",
		Query: lineage.Query{AsOf: at(5).Add(-time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(before.NodesOfKind(lineage.NodeRecipient)); len(got) != 0 {
		t.Fatalf("recipients as of before any disclosure = %v, want none", got)
	}

	// The data map says the same for the business.
	dm, err := e.inv.DataMap(ctx, tenant, projections.Window{})
	if err != nil {
		t.Fatal(err)
	}
	want := projections.DataMapRow{Flow: projections.FlowDisclosed, Category: "contact.email", Purpose: "targeted_advertising",
		RecipientKind: "advertising_network", RecipientRole: "third_party", Disclosure: "sale", People: 1}
	if !slices.Contains(dm, want) {
		t.Fatalf("data map lacks %+v: %+v", want, dm)
	}
	recipients, err := e.inv.Recipients(ctx, tenant, projections.Window{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recipients) != 3 || recipients[0].Name != "AdNet Inc" || recipients[0].People != 1 ||
		!slices.Equal(recipients[0].Categories, []string{"contact.email"}) {
		t.Fatalf("recipients = %+v", recipients)
	}
}

func names(nodes []lineage.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	return out
}
