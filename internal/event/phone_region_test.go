package event

import (
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/identity"
)

// A tenant with a default phone region may send phones without a country
// code; they are stored in E.164. Other tenants, and tenants without one,
// are refused with a reason that says how to set one.
func TestDecode_DefaultPhoneRegionPerTenant(t *testing.T) {
	opts := testOptions()
	opts.PhoneRegions = map[string]string{"inkcartridges": "US", "teashop": "gb"}
	phone := func(tenant, value string) []byte {
		changes := []change{set("subject.identifiers[1]", map[string]any{"kind": "phone", "value": value})}
		if tenant != "" {
			changes = append(changes, set("tenant", tenant))
		}
		return edited(t, "good/collected-minimal.json", changes...)
	}
	for _, tc := range []struct {
		name, tenant, value, want string
	}{
		{"US tenant, national number", "inkcartridges", "(415) 555-0100", "+14155550100"},
		{"US tenant, E.164 number of another country", "inkcartridges", "+44 20 7946 0958", "+442079460958"},
		{"GB tenant, national number with trunk 0", "teashop", "020 7946 0958", "+442079460958"},
	} {
		ev, errs := Decode(phone(tc.tenant, tc.value), opts)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tc.name, errs)
		}
		if got := ev.Subject.Identifiers[1]; got != (identity.Identifier{Kind: identity.Phone, Value: tc.want}) {
			t.Fatalf("%s: identifier %q, want %q", tc.name, got.Value, tc.want)
		}
	}
	for _, tc := range []struct {
		name, tenant, value, reason string
	}{
		{"tenant without a region", "othershop", "(415) 555-0100", "default_phone_region"},
		{"default tenant", "", "(415) 555-0100", "default_phone_region"},
		{"not a national number of the region", "teashop", "(415) 555-0100", "not a national number of the default region GB"},
	} {
		_, errs := Decode(phone(tc.tenant, tc.value), opts)
		if len(errs) != 1 || errs[0].Path != "subject.identifiers[1].value" || !strings.Contains(errs[0].Reason, tc.reason) {
			t.Fatalf("%s: %v; want one error on subject.identifiers[1].value saying %q", tc.name, errs, tc.reason)
		}
		if strings.Contains(errs[0].Reason, "555-0100") {
			t.Fatalf("%s: the reason echoes the value: %q", tc.name, errs[0].Reason)
		}
	}
	// Batches read the same way.
	res := DecodeBatch(append(append(phone("inkcartridges", "415 555 0100"), '\n'), phone("othershop", "415 555 0100")...), "application/x-ndjson", opts)
	if len(res) != 2 || len(res[0].Errors) != 0 || len(res[1].Errors) != 1 {
		t.Fatalf("batch: %+v", res)
	}
}

func TestOptions_RefuseUnknownPhoneRegions(t *testing.T) {
	opts := testOptions()
	opts.PhoneRegions = map[string]string{"inkcartridges": "XX"}
	if err := opts.Validate(); err == nil || !strings.Contains(err.Error(), `PhoneRegions["inkcartridges"]`) || !strings.Contains(err.Error(), "CA, GB, US") {
		t.Fatalf("Validate = %v", err)
	}
}
