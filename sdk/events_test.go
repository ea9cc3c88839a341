package sdk

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
)

// sampleEvents holds one event of every type a service sends, built with
// the constructors and terms of the built-in taxonomy.
func sampleEvents() map[Type]*Event {
	return map[Type]*Event{
		TypeCollected: order(1),
		TypeShared: Shared(Person(Email("jane@example.com")), SharedData{
			Recipient:  Recipient{Name: "AdNetwork Inc", Kind: "advertising_network", Role: "third_party", Country: "US"},
			Elements:   []Element{Elem("email", "contact.email")},
			Purposes:   []string{"targeted_advertising"},
			Disclosure: "sharing",
			System:     "crm",
		}),
		TypeProcessed: Processed(Person(UserID("u-17")), ProcessedData{
			Activity:          "interest scoring",
			Purposes:          []string{"personalization"},
			Inputs:            []Element{Elem("orders", "commercial.purchase_history")},
			Outputs:           []Element{ElemValue("segment", "inference.segment", map[string]any{"name": "printer owners", "score": 0.8})},
			System:            "recs",
			AutomatedDecision: &AutomatedDecision{Significant: false, Logic: "orders in the last year by product line"},
		}),
		TypeTransferred: Transferred(Person(AccountID("A-1")), TransferredData{
			Elements:   []Element{Elem("email", "contact.email")},
			FromSystem: "orders-db",
			ToSystem:   "eu-warehouse",
			ToCountry:  "DE",
			Mechanism:  "standard_contractual_clauses",
		}),
		TypeCorrected: Corrected(Person(Phone("+1 (415) 555-0100")), CorrectedData{
			Elements: []Element{ElemValue("postal address", "contact.postal_address", "1 Main St")},
			System:   "crm",
		}),
		TypeErased: Erased(Person(DeviceID("dev-1")), ErasedData{
			Categories: []string{"online.browsing_history"},
			Reason:     "consumer_request",
			System:     "analytics",
			RequestID:  "R-1",
		}),
		TypeConsentChanged: ConsentChanged(Person(CookieID("ck-1"), AdvertisingID("6D92078A-8246-4BA4-AE5B-76104861E7DC")), ConsentChangedData{
			Choice:    "sale",
			Status:    OptedOut,
			Mechanism: "gpc",
		}),
		TypeSubjectLinked: Linked(Person(CookieID("ck-1"), External("salesforce", "003XYZ"))),
	}
}

func TestConstructorsBuildEventsCustodyAccepts(t *testing.T) {
	tax, err := builtinTaxonomy()
	if err != nil {
		t.Fatal(err)
	}
	samples := sampleEvents()
	for _, typ := range event.ExternalTypes() {
		t.Run(string(typ), func(t *testing.T) {
			ev, ok := samples[typ]
			if !ok {
				t.Fatalf("no constructor sample for %s", typ)
			}
			ev.Source, ev.Tenant = "checkout-service", "inkcartridges"
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			got, errs := event.Decode(b, event.Options{Vocabulary: tax})
			if len(errs) > 0 {
				t.Fatalf("Custody rejects the constructed event: %v", errs)
			}
			if got.Type != typ {
				t.Errorf("type %s, want %s", got.Type, typ)
			}
			if got.ID != ev.ID || got.ID.Version() != 7 {
				t.Errorf("id %s (version %d), want the constructor's UUIDv7 %s", got.ID, got.ID.Version(), ev.ID)
			}
			if d := time.Since(got.Time); d < 0 || d > time.Minute {
				t.Errorf("time %s is not about now", got.Time)
			}
			if reflect.TypeOf(got.Data) != reflect.TypeOf(ev.Data) {
				t.Errorf("data is %T, want %T", got.Data, ev.Data)
			}
		})
	}
}

func TestOptionsOverrideEnvelopeDefaults(t *testing.T) {
	id := uuid.MustParse("0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10")
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	ev := order(1, WithID(id), At(at), WithTenant("inkcartridges"), WithSource("web"), nil)
	if ev.ID != id || !ev.Time.Equal(at) || ev.Time.Location() != time.UTC || ev.Tenant != "inkcartridges" || ev.Source != "web" {
		t.Errorf("got id %s time %s tenant %q source %q", ev.ID, ev.Time, ev.Tenant, ev.Source)
	}
	a, b := order(1), order(1)
	if a.ID == b.ID {
		t.Error("two constructed events share an id")
	}
}

func TestConstructorsCopyTheData(t *testing.T) {
	data := CollectedData{System: "orders-db"}
	ev := Collected(jane, data)
	data.System = "changed"
	if got := ev.Data.(*CollectedData).System; got != "orders-db" {
		t.Errorf("event data changed with the caller's struct: system %q", got)
	}
}

func TestIdentifierHelpersSetKinds(t *testing.T) {
	tests := []struct {
		id   Identifier
		kind IdentifierKind
		ns   string
	}{
		{Email("a@b.c"), KindEmail, ""},
		{Phone("+14155550100"), KindPhone, ""},
		{UserID("u"), KindUserID, ""},
		{CustomerID("c"), KindCustomerID, ""},
		{AccountID("a"), KindAccountID, ""},
		{DeviceID("d"), KindDeviceID, ""},
		{CookieID("k"), KindCookieID, ""},
		{AdvertisingID("6d92078a-8246-4ba4-ae5b-76104861e7dc"), KindAdvertisingID, ""},
		{External("salesforce", "003"), KindExternal, "salesforce"},
	}
	for _, tt := range tests {
		if tt.id.Kind != tt.kind || tt.id.Namespace != tt.ns {
			t.Errorf("%v: kind %q namespace %q, want %q %q", tt.id, tt.id.Kind, tt.id.Namespace, tt.kind, tt.ns)
		}
		if _, err := tt.id.Normalized(); err != nil {
			t.Errorf("%v: %v", tt.id, err)
		}
	}
}
