package taxonomy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const acmeExtension = `
# Extra terms for the "acme" tenant.
categories:
  - key: vehicle.vin
    name: Vehicle identification number
    description: The VIN of a car you registered with us.
    ccpa: A
  - key: vehicle.telematics
    name: Driving data
    description: Speed, braking and trips recorded by your car.
    ccpa: [F, G]
purposes:
  - key: vehicle_recalls
    name: Vehicle recalls
    description: To tell you about safety recalls for your vehicle.
    business_purpose: bp.quality_safety
recipient_kinds:
  - key: dealer
    name: Dealers
    description: Independent dealers that sell and service our cars.
`

func TestLoadExtensionDecodesYAML(t *testing.T) {
	ext, err := LoadExtension(strings.NewReader(acmeExtension))
	if err != nil {
		t.Fatal(err)
	}
	if len(ext.Categories) != 2 || len(ext.Purposes) != 1 || len(ext.RecipientKinds) != 1 {
		t.Fatalf("decoded %+v", ext)
	}
	if got := ext.Categories[0].CCPA; !slices.Equal(got, []string{"A"}) {
		t.Errorf("scalar ccpa decoded as %q, want [A]", got)
	}
	if got := ext.Categories[1].CCPA; !slices.Equal(got, []string{"F", "G"}) {
		t.Errorf("list ccpa decoded as %q, want [F G]", got)
	}
}

func TestLoadExtensionRejectsUnknownFields(t *testing.T) {
	tests := map[string]string{
		"top-level list":  "categoriez:\n  - key: a.b\n",
		"category field":  "categories:\n  - key: a.b\n    colour: red\n",
		"purpose field":   "purposes:\n  - key: x\n    colour: red\n",
		"two documents":   "categories: []\n---\npurposes: []\n",
		"syntax error":    "categories: [\n",
		"category scalar": "categories:\n  - just-a-string\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadExtension(strings.NewReader(doc)); err == nil {
				t.Errorf("LoadExtension(%q) succeeded", doc)
			}
		})
	}
}

func TestExtensionAddsTermsForOneTenantOnly(t *testing.T) {
	base := loadEmbedded(t)
	ext, err := LoadExtension(strings.NewReader(acmeExtension))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := base.WithExtension("acme", ext)
	if err != nil {
		t.Fatalf("WithExtension: %v", err)
	}
	tests := []struct {
		tx     *Taxonomy
		tenant string
		want   bool
	}{
		{tx, "acme", true},
		{tx, "globex", false},
		{tx, "default", false},
		{base, "acme", false}, // the original is unchanged
	}
	for _, tt := range tests {
		if got, _ := tt.tx.Lookup(tt.tenant, Categories, "vehicle.vin"); got != tt.want {
			t.Errorf("Lookup(%q, vehicle.vin) = %t, want %t", tt.tenant, got, tt.want)
		}
	}
	if ok, _ := tx.Lookup("acme", Categories, "contact.email"); !ok {
		t.Error("tenant with an extension lost the base terms")
	}
	c, ok := tx.Category("acme", "vehicle.vin")
	if !ok || !slices.Equal(c.StatutoryNames(), []string{"Identifiers"}) {
		t.Errorf("Category(acme, vehicle.vin) = %+v, %t; want statutory name Identifiers", c, ok)
	}
	p, ok := tx.Purpose("acme", "vehicle_recalls")
	if !ok || p.Kind != CommercialPurpose {
		t.Errorf("Purpose(acme, vehicle_recalls) = %+v, %t; want a commercial purpose", p, ok)
	}
	if _, ok := tx.RecipientKind("acme", "dealer"); !ok {
		t.Error("RecipientKind(acme, dealer) not found")
	}
	if ok, s := tx.Lookup("acme", Categories, "vehicle.vni"); ok || s != "vehicle.vin" {
		t.Errorf("Lookup(acme, vehicle.vni) = %t, %q; want a suggestion from the extension", ok, s)
	}
	terms := tx.Terms("acme", Categories)
	if !slices.IsSorted(terms) || !slices.Contains(terms, "vehicle.vin") || !slices.Contains(terms, "contact.email") {
		t.Errorf("Terms(acme, categories) is unsorted or incomplete")
	}
	if got := tx.Tenants(); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("Tenants() = %v, want [acme]", got)
	}
}

func TestExtensionReplacesThatTenantsPreviousExtension(t *testing.T) {
	first, err := loadEmbedded(t).WithExtension("acme", Extension{
		ErasureReasons: []Term{{Key: "recall_closed", Name: "Recall closed", Description: "The recall campaign ended."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	second, err := first.WithExtension("acme", Extension{
		ErasureReasons: []Term{{Key: "vehicle_sold", Name: "Vehicle sold", Description: "You sold the vehicle."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := second.Lookup("acme", ErasureReasons, "recall_closed"); ok {
		t.Error("previous extension still visible after replacement")
	}
	if ok, _ := first.Lookup("acme", ErasureReasons, "recall_closed"); !ok {
		t.Error("replacing changed the earlier Taxonomy")
	}
}

func TestExtensionCannotRedefineBaseTerm(t *testing.T) {
	tests := []struct {
		name string
		ext  Extension
		want string
	}{
		{"category", Extension{Categories: []Category{{Key: "contact.email", Name: "E-mail", Description: "Ours.", CCPA: []string{"A"}}}},
			`extension for tenant "acme": categories[contact.email]: redefines a base term`},
		{"purpose", Extension{Purposes: []Purpose{{Key: "marketing", Name: "Marketing", Description: "Ours."}}},
			`extension for tenant "acme": purposes[marketing]: redefines a base term`},
		{"source kind", Extension{SourceKinds: []Term{{Key: "data_broker", Name: "Brokers", Description: "Ours."}}},
			`extension for tenant "acme": source_kinds[data_broker]: redefines a base term`},
		{"disclosure", Extension{DisclosureTypes: []Disclosure{{Key: "sale", Name: "Sale", Description: "Ours."}}},
			`extension for tenant "acme": disclosure_types[sale]: redefines a base term`},
	}
	base := loadEmbedded(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := base.WithExtension("acme", tt.ext)
			if err == nil || tx != nil {
				t.Fatalf("WithExtension = %v, %v; want an error", tx, err)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestExtensionIsValidatedLikeTheBase(t *testing.T) {
	ext := Extension{
		Categories: []Category{
			{Key: "vehicle.vin", Name: "VIN", Description: "d", CCPA: []string{"Q"}},
			{Key: "vehicle.dna", Name: "DNA", Description: "d", Sensitive: "(7)(X)"},
			{Key: "novin", Name: "No dot", Description: "d", CCPA: []string{"A"}},
			{Key: "vehicle.none", Name: "None", Description: "d"},
			{Key: "vehicle.vin", Name: "VIN again", Description: "d", CCPA: []string{"A"}},
			{Key: "vehicle.face", Name: "Face", Description: "d", Sensitive: "(2)(A)"},
		},
		Purposes: []Purpose{
			{Key: "bp.extra", Name: "Extra", Description: "d", Kind: BusinessPurpose, Statutory: "1798.140(e)(9)"},
			{Key: "recalls", Name: "Recalls", Description: "d", BusinessPurpose: "marketing"},
		},
		ConsentChoices: []Term{{Key: "newsletter_x", Name: "X"}},
	}
	_, err := loadEmbedded(t).WithExtension("acme", ext)
	if err == nil {
		t.Fatal("invalid extension accepted")
	}
	for _, want := range []string{
		`categories[vehicle.vin]: ccpa letter "Q" is not one of A-K`,
		`categories[vehicle.dna]: sensitive clause "(7)(X)" is not in statutory.yaml`,
		`categories[novin]: category key must be dotted`,
		`categories[vehicle.none]: maps to no statutory category`,
		`categories[vehicle.vin]: duplicate key`,
		`categories[vehicle.face]: sensitive (2)(A) data must be never_disclose: true`,
		`purposes[bp.extra]: extensions cannot add business purposes`,
		`purposes[recalls]: business_purpose "marketing" is not a business purpose`,
		`consent_choices[newsletter_x]: description is missing`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestExtensionRequiresATenant(t *testing.T) {
	for _, tenant := range []string{"", " acme"} {
		if _, err := loadEmbedded(t).WithExtension(tenant, Extension{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("WithExtension(%q) error = %v, want ErrInvalid", tenant, err)
		}
	}
}

func TestExtensionIsCopiedNotShared(t *testing.T) {
	ext := Extension{Categories: []Category{{Key: "vehicle.vin", Name: "VIN", Description: "d", CCPA: []string{"A"}}}}
	tx, err := loadEmbedded(t).WithExtension("acme", ext)
	if err != nil {
		t.Fatal(err)
	}
	ext.Categories[0].CCPA[0] = "Z"
	ext.Categories[0].Name = "changed"
	c, _ := tx.Category("acme", "vehicle.vin")
	if c.Name != "VIN" || c.CCPA[0] != "A" {
		t.Errorf("changing the caller's Extension changed the taxonomy: %+v", c)
	}
}
