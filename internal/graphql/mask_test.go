package graphql

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

func testExposure(t testing.TB) exposure {
	t.Helper()
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	ext := taxonomy.Extension{Categories: []taxonomy.Category{
		{Key: "loyalty.pin", Name: "Loyalty PIN", Description: "The PIN of a loyalty card.", CCPA: []string{"A"}, NeverDisclose: true},
		{Key: "vehicle.vin", Name: "VIN", Description: "A car's VIN.", CCPA: []string{"A"}},
	}}
	if tax, err = tax.WithExtension("acme", ext); err != nil {
		t.Fatal(err)
	}
	return newExposure(tax)
}

func TestMaskValue(t *testing.T) {
	x := testExposure(t)
	for _, tc := range []struct {
		tenant, category, value string
		want                    string
		masked                  bool
	}{
		// Identifying numbers: the last four letters or digits, when there are at least eight.
		{"default", "financial.card_number", `"4111111111111111"`, `"•••• 1111"`, true},
		{"default", "financial.card_number", `"4111 1111-1111 1234"`, `"•••• 1234"`, true},
		{"default", "financial.card_number", `4111111111111111`, `"•••• 1111"`, true},
		{"default", "financial.bank_account", `"GB82WEST12345698765432"`, `"•••• 5432"`, true},
		{"default", "government_id.ssn", `"123-45-6789"`, `"•••• 6789"`, true},
		{"default", "government_id.passport", `"X1234567"`, `"•••• 4567"`, true},
		{"default", "health.insurance_id", `"MB-00042"`, `"••••"`, true}, // 7 letters and digits: none shown
		{"default", "financial.card_number", `"1234"`, `"••••"`, true},
		{"default", "financial.card_number", `{"number":"4111111111111111","expiry":"12/29"}`, `"••••"`, true},
		{"default", "financial.card_number", `["4111111111111111"]`, `"••••"`, true},
		// Secrets and biometrics: nothing.
		{"default", "credentials.password", `"correct horse battery staple"`, `"••••"`, true},
		{"default", "credentials.security_qa", `{"q":"first pet","a":"Rex the dog"}`, `"••••"`, true},
		{"default", "credentials.two_factor_secret", `"JBSWY3DPEHPK3PXP"`, `"••••"`, true},
		{"default", "financial.card_security_code", `"123"`, `"••••"`, true},
		{"default", "biometric.fingerprint", `"AAECAwQFBgcICQoLDA0ODxAREhMU"`, `"••••"`, true},
		{"default", "government_id.document_copy", `"scan-000123456.png"`, `"••••"`, true},
		// A tenant's own never-disclose category: nothing; its other categories: in clear.
		{"acme", "loyalty.pin", `"98765432"`, `"••••"`, true},
		{"acme", "vehicle.vin", `"1HGCM82633A004352"`, `"1HGCM82633A004352"`, false},
		// Unknown to the taxonomy (another tenant's extension, or never validated): nothing.
		{"default", "loyalty.pin", `"98765432"`, `"••••"`, true},
		{"default", "totally.bogus.category", `"4111111111111111"`, `"••••"`, true},
		// Everything else: in clear.
		{"default", "contact.email", `"jane@example.com"`, `"jane@example.com"`, false},
		{"default", "financial.card_last_digits", `"1111"`, `"1111"`, false},
		{"default", "commercial.purchase_history", `["ink-xl"]`, `["ink-xl"]`, false},
		// No value: none.
		{"default", "financial.card_number", ``, ``, false},
		{"default", "financial.card_number", `null`, `null`, false},
	} {
		got, masked := x.maskValue(tc.tenant, tc.category, json.RawMessage(tc.value))
		if string(got) != tc.want || masked != tc.masked {
			t.Errorf("%s %s %s: got %s (masked %v), want %s (masked %v)", tc.tenant, tc.category, tc.value, got, masked, tc.want, tc.masked)
		}
		if tc.masked && !json.Valid(got) {
			t.Errorf("%s: mask %q is not JSON", tc.category, got)
		}
	}
}

// Every category shown by its last four is a never-disclose category of
// the base taxonomy (a rename there must not silently unmask or fail open),
// and every never-disclose category of the base taxonomy is masked.
func TestLastFourCategoriesAreNeverDisclose(t *testing.T) {
	x := testExposure(t)
	for key := range lastFourCategories {
		c, ok := x.tax.Category("default", key)
		if !ok || !c.NeverDisclose {
			t.Errorf("%s: not a never-disclose category of the taxonomy (%v)", key, ok)
		}
	}
	n := 0
	for _, c := range x.tax.Categories("default") {
		if !c.NeverDisclose {
			continue
		}
		n++
		if got, masked := x.maskValue("default", c.Key, json.RawMessage(`"ABCD-1234-5678-9012"`)); !masked || strings.Contains(string(got), "ABCD") {
			t.Errorf("%s: %s (masked %v)", c.Key, got, masked)
		}
	}
	if n < 20 {
		t.Fatalf("only %d never-disclose categories found", n)
	}
}

// The views masks every element value, in the record and in the events,
// without changing what the loader holds.
func TestMaskSubject(t *testing.T) {
	x := testExposure(t)
	card := json.RawMessage(`"4111111111111111"`)
	pw := json.RawMessage(`"hunter2hunter2"`)
	collected := &event.Event{ID: uuid.New(), Type: event.TypeCollected, Tenant: "default", Time: time.Now(),
		Data: &event.Collected{Elements: []event.Element{
			{Name: "card", Category: "financial.card_number", Value: card},
			{Name: "password", Category: "credentials.password", Value: pw},
			{Name: "email", Category: "contact.email", Value: json.RawMessage(`"jane@example.com"`)},
		}}}
	consent := &event.Event{ID: uuid.New(), Type: event.TypeConsentChanged, Tenant: "default", Time: time.Now(),
		Data: &event.ConsentChanged{Choice: "sale", Status: "opted_out"}}
	sub := inventory.Subject{Record: projections.Record{Tenant: "default", Elements: []projections.Element{
		{ElementKey: projections.ElementKey{Name: "card", Category: "financial.card_number"}, Value: card},
		{ElementKey: projections.ElementKey{Name: "email", Category: "contact.email"}, Value: json.RawMessage(`"jane@example.com"`)},
	}}, Events: []event.Recorded{{Event: collected}, {Event: consent}}}

	view, err := x.maskSubject(sub)
	if err != nil {
		t.Fatal(err)
	}
	if e := view.Elements[0]; string(e.Value) != `"•••• 1111"` || !e.Masked {
		t.Errorf("card element = %s (masked %v)", e.Value, e.Masked)
	}
	if e := view.Elements[1]; string(e.Value) != `"jane@example.com"` || e.Masked {
		t.Errorf("email element = %s (masked %v)", e.Value, e.Masked)
	}
	if !view.Timeline[0].Masked || view.Timeline[1].Masked {
		t.Errorf("events masked: %v, %v", view.Timeline[0].Masked, view.Timeline[1].Masked)
	}
	data, err := view.Timeline[0].Data()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Elements []struct {
			Name  string
			Value json.RawMessage
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"card": `"•••• 1111"`, "password": `"••••"`, "email": `"jane@example.com"`}
	for _, el := range d.Elements {
		if string(el.Value) != want[el.Name] {
			t.Errorf("event data %s = %s, want %s", el.Name, el.Value, want[el.Name])
		}
	}
	if strings.Contains(string(data), "4111111111111111") || strings.Contains(string(data), "hunter2") {
		t.Errorf("event data shows a never-disclose value: %s", data)
	}
	// What was read is untouched: reveal and other readers see it whole.
	if v := collected.Data.(*event.Collected).Elements[0].Value; string(v) != string(card) {
		t.Errorf("the loader's event was changed: %s", v)
	}
	if string(sub.Record.Elements[0].Value) != string(card) {
		t.Errorf("the loader's record was changed: %s", sub.Record.Elements[0].Value)
	}
	if view.Timeline[1].Rec.Event != consent {
		t.Error("an event with nothing to mask was copied")
	}
}

// A person's timeline is masked whole on every read: the cost per event
// with nothing to mask must stay small (about 0.6 µs with three values).
func BenchmarkMaskSubject(b *testing.B) {
	x := testExposure(b)
	var evs []event.Recorded
	for range 10_000 {
		evs = append(evs, event.Recorded{Event: &event.Event{ID: uuid.New(), Type: event.TypeCollected, Tenant: "default",
			Data: &event.Collected{Elements: []event.Element{
				{Name: "email", Category: "contact.email", Value: json.RawMessage(`"a@example.com"`)},
				{Name: "ip", Category: "online.ip_address", Value: json.RawMessage(`"203.0.113.7"`)},
				{Name: "purchases", Category: "commercial.purchase_history", Value: json.RawMessage(`["ink-xl"]`)},
			}}}})
	}
	sub := inventory.Subject{Events: evs}
	for b.Loop() {
		if _, err := x.maskSubject(sub); err != nil {
			b.Fatal(err)
		}
	}
}
