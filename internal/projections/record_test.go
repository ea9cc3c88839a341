package projections

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// TestScenarioInkRetailer follows one customer of the ink retailer in the
// seed policies: Google sign-in, a purchase, transaction details to a
// reseller, identifiers sold to an ad network, a preference inference, an
// opt-out of sale by GPC; then a link that joins the cookie-less device
// profile the business had kept apart.
func TestScenarioInkRetailer(t *testing.T) {
	email, sub := ref(identity.Email, "jane@example.com"), ref(identity.UserID, "google-sub-1")
	cust, device := ref(identity.CustomerID, "C-1009"), ref(identity.DeviceID, "dev-77")
	bob := ref(identity.Email, "bob@example.com")
	at := func(d int) time.Time { return day(d).Add(9 * time.Hour) }
	v := func(s string) json.RawMessage { return json.RawMessage(`"` + s + `"`) }

	stream := []event.Recorded{
		rec(1, at(1), "ink", refs(email, sub), &event.Collected{
			Elements: []event.Element{el("email", "contact.email", "jane@example.com"), el("name", "identity.name", "Jane Doe")},
			Origin:   event.Origin{Kind: "social_network", Name: "Google"}, Purposes: []string{"authentication", "account_management"},
			System: "accounts"}),
		rec(2, at(2), "ink", refs(email, cust), &event.Collected{
			Elements: []event.Element{el("orders", "commercial.purchase_history", "2x cyan XL"), el("card", "financial.card_number", "")},
			Origin:   event.Origin{Kind: "consumer", Name: "checkout"}, Purposes: []string{"order_fulfilment", "payment_processing"},
			System: "orders-db"}),
		rec(3, at(3), "ink", refs(cust), &event.Shared{
			Recipient: event.Recipient{Name: "Inkwell Resellers", Kind: "reseller", Role: "service_provider", Country: "US"},
			Elements:  []event.Element{el("orders", "commercial.purchase_history", "")}, Purposes: []string{"order_fulfilment"},
			Disclosure: "business_purpose", System: "orders-db"}),
		rec(4, at(4), "ink", refs(email), &event.Shared{
			Recipient: event.Recipient{Name: "AdReach", Kind: "advertising_network", Role: "third_party", Country: "US"},
			Elements:  []event.Element{el("email", "contact.email", "")}, Purposes: []string{"targeted_advertising"},
			Disclosure: "sale", System: "crm"}),
		rec(5, at(5), "ink", refs(sub), &event.Processed{
			Activity: "ink_preference_profiling", Purposes: []string{"personalization", "targeted_advertising"},
			Inputs:  []event.Element{el("orders", "commercial.purchase_history", "")},
			Outputs: []event.Element{el("prefs", "inference.preferences", "prefers cyan")}, System: "recs"}),
		rec(6, at(6), "ink", refs(email), &event.ConsentChanged{Choice: "sale", Status: event.OptedOut, Mechanism: "gpc", System: "web"}),
		// A device profile, not (yet) known to be Jane's.
		rec(7, at(2), "ink", refs(device), &event.Collected{
			Elements: []event.Element{el("device", "device.identifier", ""), el("browsing", "online.browsing_history", "")},
			Origin:   event.Origin{Kind: "device", Name: "web sdk"}, Purposes: []string{"analytics"}, System: "analytics"}),
		// Another customer.
		rec(8, at(3), "ink", refs(bob), &event.Collected{
			Elements: []event.Element{el("orders", "commercial.purchase_history", "")},
			Origin:   event.Origin{Kind: "consumer", Name: "checkout"}, Purposes: []string{"order_fulfilment"}, System: "orders-db"}),
		// A rights request names Jane and the device: it must not join them.
		rec(9, at(7), "ink", refs(email, device), &event.Request{RequestID: "r-1", Kind: "know"}),
	}
	link := rec(10, at(8), "ink", refs(device, email), &event.Linked{})

	jane := PersonID(email.String())
	want := Record{
		Tenant: "ink", Person: jane, Identifiers: refs(email, sub, cust), Events: 6,
		Elements: []Element{
			{ElementKey: ElementKey{"orders", "commercial.purchase_history"}, FirstCollected: at(2), LastCollected: at(2),
				Sources: []Source{{"consumer", "checkout"}}, Purposes: []string{"order_fulfilment", "payment_processing"},
				Systems: []string{"orders-db"}, Status: StatusHeld, StatusAt: at(2), StatusEvent: eid(2), Value: v("2x cyan XL")},
			{ElementKey: ElementKey{"email", "contact.email"}, FirstCollected: at(1), LastCollected: at(1),
				Sources: []Source{{"social_network", "Google"}}, Purposes: []string{"account_management", "authentication"},
				Systems: []string{"accounts"}, Status: StatusHeld, StatusAt: at(1), StatusEvent: eid(1), Value: v("jane@example.com")},
			{ElementKey: ElementKey{"card", "financial.card_number"}, FirstCollected: at(2), LastCollected: at(2),
				Sources: []Source{{"consumer", "checkout"}}, Purposes: []string{"order_fulfilment", "payment_processing"},
				Systems: []string{"orders-db"}, Status: StatusHeld, StatusAt: at(2), StatusEvent: eid(2)},
			{ElementKey: ElementKey{"name", "identity.name"}, FirstCollected: at(1), LastCollected: at(1),
				Sources: []Source{{"social_network", "Google"}}, Purposes: []string{"account_management", "authentication"},
				Systems: []string{"accounts"}, Status: StatusHeld, StatusAt: at(1), StatusEvent: eid(1), Value: v("Jane Doe")},
			{ElementKey: ElementKey{"prefs", "inference.preferences"}, FirstCollected: at(5), LastCollected: at(5),
				Sources: []Source{{"inferred", "ink_preference_profiling"}}, Purposes: []string{"personalization", "targeted_advertising"},
				Systems: []string{"recs"}, Status: StatusHeld, StatusAt: at(5), StatusEvent: eid(5), Value: v("prefers cyan")},
		},
		Categories: []CategorySummary{
			{Category: "commercial.purchase_history", Elements: []string{"orders"}, FirstCollected: at(2), LastCollected: at(2),
				Sources: []Source{{"consumer", "checkout"}}, Purposes: []string{"order_fulfilment", "payment_processing"}, Systems: []string{"orders-db"}},
			{Category: "contact.email", Elements: []string{"email"}, FirstCollected: at(1), LastCollected: at(1),
				Sources: []Source{{"social_network", "Google"}}, Purposes: []string{"account_management", "authentication"}, Systems: []string{"accounts"}},
			{Category: "financial.card_number", Elements: []string{"card"}, FirstCollected: at(2), LastCollected: at(2),
				Sources: []Source{{"consumer", "checkout"}}, Purposes: []string{"order_fulfilment", "payment_processing"}, Systems: []string{"orders-db"}},
			{Category: "identity.name", Elements: []string{"name"}, FirstCollected: at(1), LastCollected: at(1),
				Sources: []Source{{"social_network", "Google"}}, Purposes: []string{"account_management", "authentication"}, Systems: []string{"accounts"}},
			{Category: "inference.preferences", Elements: []string{"prefs"}, FirstCollected: at(5), LastCollected: at(5),
				Sources: []Source{{"inferred", "ink_preference_profiling"}}, Purposes: []string{"personalization", "targeted_advertising"}, Systems: []string{"recs"}},
		},
		Disclosures: []Disclosure{
			{DisclosureKey: DisclosureKey{"AdReach", "advertising_network", "third_party", "sale"}, Categories: []string{"contact.email"},
				Elements: []ElementKey{{"email", "contact.email"}}, Purposes: []string{"targeted_advertising"}, Countries: []string{"US"},
				First: at(4), Last: at(4), Count: 1},
			{DisclosureKey: DisclosureKey{"Inkwell Resellers", "reseller", "service_provider", "business_purpose"}, Categories: []string{"commercial.purchase_history"},
				Elements: []ElementKey{{"orders", "commercial.purchase_history"}}, Purposes: []string{"order_fulfilment"}, Countries: []string{"US"},
				First: at(3), Last: at(3), Count: 1},
		},
		Activities: []Activity{{ActivityKey: ActivityKey{"ink_preference_profiling", "recs"}, Purposes: []string{"personalization", "targeted_advertising"},
			Inputs: []ElementKey{{"orders", "commercial.purchase_history"}}, Outputs: []ElementKey{{"prefs", "inference.preferences"}},
			First: at(5), Last: at(5), Count: 1}},
		Consents: []Consent{{Choice: "sale", Current: event.OptedOut, Since: at(6),
			Timeline: []ConsentChange{{Event: eid(6), Time: at(6), Status: event.OptedOut, Mechanism: "gpc", System: "web"}}}},
	}

	p := Rebuild(stream)
	if got := mustRecord(t, p, "ink", cust, Window{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Jane's record differs:%s", diff(want, got))
	}
	if got := p.Persons("ink"); len(got) != 3 {
		t.Fatalf("before the link: %d people, want 3 (Jane, the device, Bob)", len(got))
	}
	if m := p.Identities().Merges("ink"); m != nil {
		t.Fatalf("merges before the link: %+v", m)
	}

	rows := func(extra ...DataMapRow) []DataMapRow {
		base := []DataMapRow{
			{Flow: FlowCollected, Category: "commercial.purchase_history", SourceKind: "consumer", Purpose: "order_fulfilment", People: 2},
			{Flow: FlowCollected, Category: "commercial.purchase_history", SourceKind: "consumer", Purpose: "payment_processing", People: 1},
			{Flow: FlowCollected, Category: "contact.email", SourceKind: "social_network", Purpose: "account_management", People: 1},
			{Flow: FlowCollected, Category: "contact.email", SourceKind: "social_network", Purpose: "authentication", People: 1},
			{Flow: FlowCollected, Category: "device.identifier", SourceKind: "device", Purpose: "analytics", People: 1},
			{Flow: FlowCollected, Category: "financial.card_number", SourceKind: "consumer", Purpose: "order_fulfilment", People: 1},
			{Flow: FlowCollected, Category: "financial.card_number", SourceKind: "consumer", Purpose: "payment_processing", People: 1},
			{Flow: FlowCollected, Category: "identity.name", SourceKind: "social_network", Purpose: "account_management", People: 1},
			{Flow: FlowCollected, Category: "identity.name", SourceKind: "social_network", Purpose: "authentication", People: 1},
			{Flow: FlowCollected, Category: "inference.preferences", SourceKind: "inferred", Purpose: "personalization", People: 1},
			{Flow: FlowCollected, Category: "inference.preferences", SourceKind: "inferred", Purpose: "targeted_advertising", People: 1},
			{Flow: FlowCollected, Category: "online.browsing_history", SourceKind: "device", Purpose: "analytics", People: 1},
			{Flow: FlowDisclosed, Category: "commercial.purchase_history", Purpose: "order_fulfilment", RecipientKind: "reseller", RecipientRole: "service_provider", Disclosure: "business_purpose", People: 1},
			{Flow: FlowDisclosed, Category: "contact.email", Purpose: "targeted_advertising", RecipientKind: "advertising_network", RecipientRole: "third_party", Disclosure: "sale", People: 1},
		}
		return append(base, extra...)
	}
	if got := p.DataMap("ink", Window{}); !reflect.DeepEqual(got, rows()) {
		t.Fatalf("data map:\n want %+v\n  got %+v", rows(), got)
	}
	if got := p.DataMap("ink", Window{From: at(3), To: at(5)}); len(got) != 3 {
		// Bob's purchase (day 3) and the two disclosures (days 3 and 4).
		t.Fatalf("windowed data map: %+v", got)
	}

	// The link arrives: Jane and the device profile are one person, and her
	// record now holds the device's data too.
	deviceBefore, _ := p.PersonOf("ink", device)
	if !p.Apply(link) {
		t.Fatal("link not applied")
	}
	merged := mustRecord(t, p, "ink", device, Window{})
	if merged.Person != jane || !reflect.DeepEqual(merged.Identifiers, refs(email, sub, cust, device)) {
		t.Fatalf("merged person %s %v", merged.Person, merged.Identifiers)
	}
	if got, ok := p.Record("ink", deviceBefore, Window{}); !ok || got.Person != jane {
		t.Fatalf("the device's former id finds %s, %v", got.Person, ok)
	}
	if _, ok := findElement(merged, "browsing", "online.browsing_history"); !ok || len(merged.Elements) != 7 || merged.Events != 8 {
		t.Fatalf("merged record: %d elements, %d events: %+v", len(merged.Elements), merged.Events, merged.Elements)
	}
	wantMerges := []Merge{{Event: eid(10), Time: at(8), Former: []PersonID{PersonID(device.String()), jane}, Into: jane}}
	if got := p.Identities().Merges("ink"); !reflect.DeepEqual(got, wantMerges) {
		t.Fatalf("merges: %+v", got)
	}
	if got := p.Persons("ink"); len(got) != 2 {
		t.Fatalf("after the link: %v", got)
	}
	// The data map is unchanged: each row was one person before and is one now.
	if got := p.DataMap("ink", Window{}); !reflect.DeepEqual(got, rows()) {
		t.Fatalf("data map after merge:\n want %+v\n  got %+v", rows(), got)
	}
	// A windowed record of the merged person before the link took place
	// still includes the device data: identity is never windowed.
	early := mustRecord(t, p, "ink", email, Window{To: at(3)})
	if early.Events != 3 || len(early.Elements) != 6 {
		t.Fatalf("early window: %d events, %+v", early.Events, early.Elements)
	}
	// Out of order: the same stream with the link first gives the same answers.
	q := Rebuild(append([]event.Recorded{link}, stream...))
	if got := mustRecord(t, q, "ink", device, Window{}); !reflect.DeepEqual(got, merged) {
		t.Fatalf("link first:%s", diff(merged, got))
	}
}

func TestErasureAndCorrection(t *testing.T) {
	email := ref(identity.Email, "jane@example.com")
	collect := func(id uint64, d int, vals ...string) event.Recorded {
		return rec(id, day(d), "ink", refs(email), &event.Collected{
			Elements: []event.Element{el("email", "contact.email", vals[0]), el("phone", "contact.phone", vals[1]), el("card", "financial.card_number", vals[2])},
			Origin:   event.Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "crm"})
	}
	erase := func(id uint64, d int, e event.Erased) event.Recorded {
		e.Reason, e.System = "consumer_request", "crm"
		return rec(id, day(d), "ink", refs(email), &e)
	}
	correct := func(id uint64, d int, value string) event.Recorded {
		return rec(id, day(d), "ink", refs(email), &event.Corrected{Elements: []event.Element{el("email", "contact.email", value)}, System: "crm"})
	}
	base := collect(10, 1, "a@x.com", "+15550100", "4111")
	emailOnly := event.Erased{Elements: []event.Element{{Name: "email", Category: "contact.email"}}}
	type state struct {
		status Status
		value  string // "" for none
	}
	cases := []struct {
		name   string
		events []event.Recorded
		window Window
		want   map[string]state // element name -> state
	}{
		{"nothing erased", []event.Recorded{base}, Window{},
			map[string]state{"email": {StatusHeld, `"a@x.com"`}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
		{"one element", []event.Recorded{base, erase(11, 2, emailOnly)}, Window{},
			map[string]state{"email": {StatusErased, ""}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
		{"a category", []event.Recorded{base, erase(11, 2, event.Erased{Categories: []string{"contact.email", "contact.phone"}})}, Window{},
			map[string]state{"email": {StatusErased, ""}, "phone": {StatusErased, ""}, "card": {StatusHeld, `"4111"`}}},
		{"all", []event.Recorded{base, erase(11, 2, event.Erased{All: true})}, Window{},
			map[string]state{"email": {StatusErased, ""}, "phone": {StatusErased, ""}, "card": {StatusErased, ""}}},
		{"an erasure dated before the collection erases nothing", []event.Recorded{erase(11, 0, event.Erased{All: true}), base}, Window{},
			map[string]state{"email": {StatusHeld, `"a@x.com"`}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
		{"collected again after erasure", []event.Recorded{base, erase(11, 2, event.Erased{All: true}), collect(12, 3, "b@x.com", "", "")}, Window{},
			map[string]state{"email": {StatusHeld, `"b@x.com"`}, "phone": {StatusHeld, ""}, "card": {StatusHeld, ""}}},
		{"corrected", []event.Recorded{base, correct(11, 2, "c@x.com")}, Window{},
			map[string]state{"email": {StatusCorrected, `"c@x.com"`}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
		{"corrected, then erased", []event.Recorded{base, correct(11, 2, "c@x.com"), erase(12, 3, emailOnly)}, Window{},
			map[string]state{"email": {StatusErased, ""}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
		{"same time: the larger event id decides (erasure)", []event.Recorded{base, erase(11, 1, emailOnly)}, Window{},
			map[string]state{"email": {StatusErased, ""}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
		{"same time: the larger event id decides (collection)", []event.Recorded{base, erase(9, 1, emailOnly)}, Window{},
			map[string]state{"email": {StatusHeld, `"a@x.com"`}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
		{"an erasure alone in the window still lists the element", []event.Recorded{base, erase(11, 2, emailOnly)}, Window{From: day(2)},
			map[string]state{"email": {StatusErased, ""}}},
		{"a window ending before the erasure shows the data held", []event.Recorded{base, erase(11, 2, event.Erased{All: true})}, Window{To: day(2)},
			map[string]state{"email": {StatusHeld, `"a@x.com"`}, "phone": {StatusHeld, `"+15550100"`}, "card": {StatusHeld, `"4111"`}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, events := range [][]event.Recorded{tc.events, reversed(tc.events)} {
				r := mustRecord(t, Rebuild(events), "ink", email, tc.window)
				got := map[string]state{}
				for _, e := range r.Elements {
					got[e.Name] = state{e.Status, string(e.Value)}
					if e.Status == StatusErased && (e.Value != nil || e.StatusAt.IsZero()) {
						t.Errorf("%s: erased with value %q at %v", e.Name, e.Value, e.StatusAt)
					}
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				var erasures, corrections int
				for _, e := range tc.events {
					if tc.window.Contains(e.Event.Time) {
						switch e.Event.Type {
						case event.TypeErased:
							erasures++
						case event.TypeCorrected:
							corrections++
						}
					}
				}
				if len(r.Erasures) != erasures || len(r.Corrections) != corrections {
					t.Errorf("%d erasures and %d corrections listed, want %d and %d", len(r.Erasures), len(r.Corrections), erasures, corrections)
				}
			}
		})
	}

	t.Run("the erasure record says what, why and where", func(t *testing.T) {
		r := mustRecord(t, Rebuild([]event.Recorded{base, erase(11, 2, event.Erased{Categories: []string{"contact.phone", "contact.email", "contact.phone"}, RequestID: "r-1"})}), "ink", email, Window{})
		want := []Erasure{{Event: eid(11), Time: day(2), Categories: []string{"contact.email", "contact.phone"}, Reason: "consumer_request", System: "crm", RequestID: "r-1"}}
		if !reflect.DeepEqual(r.Erasures, want) {
			t.Errorf("Erasures = %+v", r.Erasures)
		}
	})

	t.Run("crypto-shredded values are not shown, nor older ones", func(t *testing.T) {
		later := collect(11, 2, "", "", "")
		later.Shredded = true
		r := mustRecord(t, Rebuild([]event.Recorded{base, later}), "ink", email, Window{})
		for _, e := range r.Elements {
			if e.Value != nil || !e.Shredded || e.Status != StatusHeld {
				t.Errorf("%s: value %q shredded %v status %s", e.Name, e.Value, e.Shredded, e.Status)
			}
		}
	})
}

func reversed(evs []event.Recorded) []event.Recorded {
	out := slices.Clone(evs)
	slices.Reverse(out)
	return out
}

func TestRecordMisc(t *testing.T) {
	email := ref(identity.Email, "jane@example.com")
	p := NewProjector()
	consent := func(id uint64, d int, s event.ConsentStatus, m string) event.Recorded {
		return rec(id, day(d), "ink", refs(email), &event.ConsentChanged{Choice: "sale", Status: s, Mechanism: m})
	}
	for _, r := range []event.Recorded{consent(3, 3, event.OptedIn, "form"), consent(1, 1, event.OptedOut, "gpc"), consent(2, 2, event.OptedIn, "banner")} {
		p.Apply(r)
	}
	p.Apply(rec(4, day(4), "ink", refs(email), &event.Transferred{Elements: []event.Element{el("email", "contact.email", "")}, FromSystem: "crm", ToSystem: "eu-warehouse", ToCountry: "DE", Mechanism: "scc"}))

	r := mustRecord(t, p, "ink", email, Window{})
	c := r.Consents[0]
	if c.Current != event.OptedIn || !c.Since.Equal(day(3)) || len(c.Timeline) != 3 || c.Timeline[0].Mechanism != "gpc" {
		t.Errorf("consent: %+v", c)
	}
	if r := mustRecord(t, p, "ink", email, Window{To: day(2)}); r.Consents[0].Current != event.OptedOut {
		t.Errorf("consent before day 2: %+v", r.Consents[0])
	}
	e, ok := findElement(r, "email", "contact.email")
	if !ok || e.Status != StatusHeld || !e.StatusAt.IsZero() || e.StatusEvent != (uuid.UUID{}) || !reflect.DeepEqual(e.Systems, []string{"crm", "eu-warehouse"}) || !e.FirstCollected.IsZero() {
		t.Errorf("transferred-only element: %+v", e)
	}
	if _, ok := p.Record("ink", "email:nobody", Window{}); ok {
		t.Error("record for an unknown person")
	}
	if _, ok := p.Record("other", PersonID(email.String()), Window{}); ok {
		t.Error("record in an unknown tenant")
	}
	if p.DataMap("other", Window{}) != nil {
		t.Error("data map of an unknown tenant")
	}
}
