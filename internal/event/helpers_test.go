package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/taxonomy"
)

// fakeVocabulary is a small taxonomy: base terms per list, plus terms a
// tenant added.
type fakeVocabulary struct {
	base    map[taxonomy.List][]string
	tenants map[string]map[taxonomy.List][]string
}

func (v fakeVocabulary) Lookup(tenant string, list taxonomy.List, key string) (bool, string) {
	terms := append(append([]string(nil), v.base[list]...), v.tenants[tenant][list]...)
	if contains(terms, key) {
		return true, ""
	}
	return false, suggest(key, terms)
}

var testVocabulary = fakeVocabulary{
	base: map[taxonomy.List][]string{
		taxonomy.Categories: {"contact.email", "contact.phone", "contact.name", "contact.postal_address", "financial.card_number",
			"online.ip_address", "device.identifier", "commercial.purchase_history", "inference.preferences", "government_id.ssn"},
		taxonomy.SourceKinds:        {"consumer", "device", "affiliate", "data_broker", "inferred"},
		taxonomy.Purposes:           {"order_fulfillment", "marketing", "targeted_advertising", "security", "analytics"},
		taxonomy.LegalBases:         {"contract", "consent", "legitimate_interests"},
		taxonomy.RecipientKinds:     {"service_provider", "advertising_network", "data_broker", "payment_processor"},
		taxonomy.RecipientRoles:     {"service_provider", "contractor", "third_party", "affiliate"},
		taxonomy.DisclosureTypes:    {"business_purpose", "sale", "sharing"},
		taxonomy.ConsentChoices:     {"sale", "sharing", "targeted_advertising", "marketing_email"},
		taxonomy.ConsentMechanisms:  {"gpc", "form", "email_link", "banner", "agent"},
		taxonomy.ErasureReasons:     {"consumer_request", "retention", "account_closed"},
		taxonomy.TransferMechanisms: {"scc", "adequacy", "bcr"},
	},
	tenants: map[string]map[taxonomy.List][]string{
		"inkcartridges": {taxonomy.Purposes: {"loyalty_program"}},
	},
}

var testNow = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func testOptions() Options {
	return Options{Vocabulary: testVocabulary, Now: func() time.Time { return testNow }}
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// change is one edit of an event: set path to value, or delete it. Paths
// use FieldError syntax: data.elements[2].category.
type change struct {
	path   string
	value  any
	delete bool
}

func set(path string, v any) change { return change{path: path, value: v} }
func del(path string) change        { return change{path: path, delete: true} }

var pathToken = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// edited returns the corpus event name with the changes applied.
func edited(t testing.TB, name string, changes ...change) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readCorpus(t, name)))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		root = apply(t, root, pathToken.FindAllString(c.path, -1), c)
	}
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func apply(t testing.TB, cur any, toks []string, c change) any {
	t.Helper()
	if len(toks) == 0 {
		return c.value
	}
	tok := toks[0]
	if tok[0] == '[' {
		i, _ := strconv.Atoi(tok[1 : len(tok)-1])
		arr, _ := cur.([]any)
		if i >= len(arr) {
			t.Fatalf("edit %s: index %d out of range", c.path, i)
		}
		if len(toks) == 1 && c.delete {
			return append(arr[:i:i], arr[i+1:]...)
		}
		arr[i] = apply(t, arr[i], toks[1:], c)
		return arr
	}
	obj, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("edit %s: %q is not inside an object", c.path, tok)
	}
	if len(toks) == 1 && c.delete {
		delete(obj, tok)
		return obj
	}
	obj[tok] = apply(t, obj[tok], toks[1:], c)
	return obj
}

func hasError(errs []FieldError, path, reasonPart string) bool {
	for _, e := range errs {
		if e.Path == path && bytes.Contains([]byte(e.Reason), []byte(reasonPart)) {
			return true
		}
	}
	return false
}
