package taxonomy

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Near-misses that are not typos: words reordered, written another way or
// as a synonym, or a key that names only part of a term.
func TestLookup_SuggestsByWords(t *testing.T) {
	tx := loadEmbedded(t)
	ink, err := tx.WithExtension("inkcartridges", Extension{Purposes: []Purpose{{Key: "cartridge_recycling", Name: "Recycling",
		Description: "To collect and recycle your used cartridges."}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, tenant string
		list         List
		key, want    string
	}{
		// reordered, British/American spelling, forms of a word
		{"reordered, another spelling", "default", Purposes, "fulfil_order", "order_fulfilment"},
		{"reordered, American spelling", "default", Purposes, "fulfillment_order", "order_fulfilment"},
		{"American spelling in place", "default", Purposes, "order_fulfillment", "order_fulfilment"},
		{"reordered with a typo", "default", Categories, "emial.contact", "contact.email"},
		{"British spelling", "default", Purposes, "personalisation", "personalization"},
		{"British spelling in a category", "default", Categories, "inference.behaviour", "inference.behavior"},
		{"form of the word in another list", "default", ErasureReasons, "purpose_fulfilment", "purpose_fulfilled"},
		// synonyms
		{"synonym", "default", Categories, "geolocation.approximate", "geolocation.coarse"},
		{"two synonyms", "default", Categories, "location.exact", "geolocation.precise"},
		{"synonym reordered", "default", Categories, "approximate.location", "geolocation.coarse"},
		{"synonym of a word", "default", Categories, "contact.mobile", "contact.phone"},
		// part of a term
		{"one word of one term", "default", Purposes, "payment", "payment_processing"},
		{"one word of one term, plural", "default", Purposes, "payments", "payment_processing"},
		{"a tenant's term", "inkcartridges", Purposes, "recycling", "cartridge_recycling"},
		// still what they were
		{"transposed letters", "default", Categories, "contact.emial", "contact.email"},
		{"wrong case", "default", Categories, "Contact.Email", "contact.email"},
		{"last segment", "default", Categories, "passport", "government_id.passport"},
		{"business purpose without prefix", "default", Purposes, "auditing", "bp.auditing"},
		// no likely term
		{"one word of several terms", "default", Categories, "payment", ""},
		{"unrelated words", "default", Categories, "favourite.colour", ""},
		{"unrelated word", "default", Purposes, "astrology", ""},
		{"unrelated words reordered", "default", Purposes, "colour_favourite", ""},
		{"words of another list", "default", ConsentMechanisms, "geolocation.approximate", ""},
		{"a tenant's term, another tenant", "default", Purposes, "recycling", ""},
		{"more words than any term", "default", Purposes, "order_fulfilment_and_payment_processing", ""},
		{"very long key", "default", Purposes, strings.Repeat("order_", 200), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			known, got := ink.Lookup(tt.tenant, tt.list, tt.key)
			if known || got != tt.want {
				t.Errorf("Lookup(%s, %s, %.40q) = %t, %q; want false, %q", tt.tenant, tt.list, tt.key, known, got, tt.want)
			}
		})
	}
	// Check carries the suggestion.
	if err := tx.Check("default", Purposes, "fulfil_order"); err == nil || !strings.Contains(err.Error(), `did you mean "order_fulfilment"?`) {
		t.Errorf("Check = %v", err)
	}
}

func TestLoad_ChecksTheSynonyms(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(m fstest.MapFS)
		want   []string
	}{
		{"missing file", func(m fstest.MapFS) { delete(m, SynonymsFile) }, []string{"synonyms.yaml: cannot read file"}},
		{"unknown field", func(m fstest.MapFS) { m[SynonymsFile] = &fstest.MapFile{Data: []byte("words: []\n")} }, []string{"synonyms.yaml: invalid YAML"}},
		{"bad groups", func(m fstest.MapFS) {
			m[SynonymsFile] = &fstest.MapFile{Data: []byte("synonyms:\n  - [coarse]\n  - [precise, Exact]\n  - [coarse, rough]\n  - [colour, color]\n")}
		}, []string{"synonyms.yaml: synonyms[#1]: a group needs at least two words",
			`synonyms.yaml: synonyms[#2]: "Exact" is not one lowercase word`,
			`synonyms.yaml: synonyms[#3]: "coarse" is already in a group`}},
		{"group no key uses", func(m fstest.MapFS) {
			m[SynonymsFile] = &fstest.MapFile{Data: []byte("synonyms:\n  - [colour, color]\n")}
		}, []string{"synonyms.yaml: synonyms[colour]: no word of the group is a word of a key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := embeddedCopy(t)
			tt.change(m)
			_, err := Load(m)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
