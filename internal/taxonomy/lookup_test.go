package taxonomy

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestLookupFindsTermsAndSuggestsNearMisses(t *testing.T) {
	tx := loadEmbedded(t)
	tests := []struct {
		name       string
		list       List
		key        string
		known      bool
		suggestion string
	}{
		{"category", Categories, "contact.email", true, ""},
		{"source kind", SourceKinds, "data_broker", true, ""},
		{"recipient kind", RecipientKinds, "os_platform", true, ""},
		{"recipient role", RecipientRoles, "third_party", true, ""},
		{"disclosure", DisclosureTypes, "sharing", true, ""},
		{"business purpose", Purposes, "bp.security", true, ""},
		{"legal basis", LegalBases, "legitimate_interests", true, ""},
		{"consent choice", ConsentChoices, "marketing_sms", true, ""},
		{"consent mechanism", ConsentMechanisms, "gpc", true, ""},
		{"erasure reason", ErasureReasons, "account_closed", true, ""},
		{"transfer mechanism", TransferMechanisms, "standard_contractual_clauses", true, ""},
		{"transposed letters", Categories, "contact.emial", false, "contact.email"},
		{"wrong case is unknown but suggested", Categories, "Contact.Email", false, "contact.email"},
		{"hyphen for underscore", SourceKinds, "data-broker", false, "data_broker"},
		{"missing letter", RecipientKinds, "advertising_netwrk", false, "advertising_network"},
		{"last segment only", Categories, "passport", false, "government_id.passport"},
		{"business purpose without prefix", Purposes, "auditing", false, "bp.auditing"},
		{"nothing close", Categories, "favourite.colour", false, ""},
		{"term of another list", ConsentMechanisms, "government_id.ssn", false, ""},
		{"empty key", Categories, "", false, ""},
		{"unknown list", List("colours"), "red", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			known, suggestion := tx.Lookup("default", tt.list, tt.key)
			if known != tt.known || suggestion != tt.suggestion {
				t.Errorf("Lookup(%s, %q) = (%t, %q), want (%t, %q)", tt.list, tt.key, known, suggestion, tt.known, tt.suggestion)
			}
		})
	}
}

// The event validator depends on this exact method set.
var _ interface {
	Lookup(tenant string, list List, key string) (bool, string)
} = (*Taxonomy)(nil)

func TestCheckWrapsErrUnknownTermWithSuggestion(t *testing.T) {
	tx := loadEmbedded(t)
	if err := tx.Check("default", Categories, "contact.email"); err != nil {
		t.Errorf("Check(contact.email) = %v, want nil", err)
	}
	err := tx.Check("default", Categories, "contact.emial")
	if !errors.Is(err, ErrUnknownTerm) {
		t.Fatalf("Check(contact.emial) = %v, want ErrUnknownTerm", err)
	}
	if !strings.Contains(err.Error(), `did you mean "contact.email"`) {
		t.Errorf("error %q lacks the suggestion", err)
	}
}

func TestTermsAreSortedAndComplete(t *testing.T) {
	got := loadEmbedded(t).Terms("default", DisclosureTypes)
	want := []string{"business_purpose", "consumer_directed", "legal_requirement", "merger", "sale", "sharing"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Terms(disclosure_types) = %v, want %v", got, want)
	}
}

func TestReturnedCategoriesCannotChangeTheTaxonomy(t *testing.T) {
	tx := loadEmbedded(t)
	c, _ := tx.Category("default", "government_id.ssn")
	c.CCPA[0] = "Z"
	again, _ := tx.Category("default", "government_id.ssn")
	if again.CCPA[0] != "A" {
		t.Errorf("changing a returned Category changed the taxonomy: CCPA = %v", again.CCPA)
	}
}

func TestConcurrentLookupsAndExtensionsAreSafe(t *testing.T) {
	tx := loadEmbedded(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ext := Extension{ConsentChoices: []Term{{Key: "loyalty_texts", Name: "Loyalty texts", Description: "Texts about points."}}}
			tenant := string(rune('a' + i))
			tt, err := tx.WithExtension(tenant, ext)
			if err != nil {
				t.Error(err)
				return
			}
			for range 100 {
				tx.Lookup(tenant, Categories, "contact.emial")
				if ok, _ := tt.Lookup(tenant, ConsentChoices, "loyalty_texts"); !ok {
					t.Error("extension term not found")
					return
				}
			}
		}()
	}
	wg.Wait()
}
