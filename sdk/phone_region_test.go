package sdk

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/identity"
)

// With the tenant's default phone region, as the server has it, a phone
// without a country code is sent in E.164; another tenant's is refused.
func TestEmitReadsNationalPhonesInTheTenantsRegion(t *testing.T) {
	custody := newFakeCustody(t)
	c, _ := newTestClient(t, Config{Tenant: "inkcartridges", PhoneRegions: map[string]string{"inkcartridges": "US"}}, custody.transport())
	ev := Collected(Person(Phone("(415) 555-0100")), CollectedData{
		Elements: []Element{Elem("phone", "contact.phone")}, Origin: Origin{Kind: "consumer"},
		Purposes: []string{"order_fulfilment"}, System: "orders-db",
	})
	if err := c.Emit(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := custody.events()
	if len(got) != 1 || got[0].Subject.Identifiers[0] != (identity.Identifier{Kind: identity.Phone, Value: "+14155550100"}) {
		t.Fatalf("custody received %v", got)
	}
	other := Collected(Person(Phone("(415) 555-0100")), CollectedData{
		Elements: []Element{Elem("phone", "contact.phone")}, Origin: Origin{Kind: "consumer"},
		Purposes: []string{"order_fulfilment"}, System: "orders-db",
	}, WithTenant("teashop"))
	if err := c.Emit(context.Background(), other); err == nil || !strings.Contains(err.Error(), "default_phone_region") {
		t.Fatalf("Emit for a tenant without a region = %v", err)
	}
	if err := (Config{Source: "s", PhoneRegions: map[string]string{"ink": "UK"}}).Validate(); err == nil || !strings.Contains(err.Error(), `Config.PhoneRegions["ink"]`) {
		t.Fatalf("Validate with an unknown region = %v", err)
	}
}
