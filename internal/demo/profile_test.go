package demo_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/custodyhq/custody/internal/demo"
)

// minimal is a small valid profile that the table tests break one way at a time.
const minimal = `tenant: acme
name: Acme
policy: seeds/acme.txt
country: US
identity: {account_id: customer_id, prefix: A-, phone: "+1", site: https://shop.acme.test, names: us}
lifecycle: {signup: 0.5, visits_per_month: 2}
interactions:
  - {key: purchase, per_month: 1}
systems:
  - {key: orders, description: Orders}
sources:
  - {key: web, kind: consumer, name: Web shop}
recipients:
  - {key: ads, name: Ad network, kind: advertising_network, role: third_party}
collections:
  - id: checkout
    on: purchase
    source: web
    system: orders
    purposes: [order_fulfilment]
    elements:
      - {name: email, category: contact.email}
disclosures:
  - id: audience
    on: monthly
    recipient: ads
    disclosure: sale
    purposes: [marketing]
    system: orders
    elements:
      - {name: email, category: contact.email}
consents:
  - {id: dns, on: visit, chance: 0.1, choices: [sale], status: opted_out, mechanism: gpc}
`

func TestValidate_ReportsEveryProblemWithPathLineAndSuggestion(t *testing.T) {
	tax := loadTaxonomy(t)
	tests := []struct {
		name      string
		old, new  string
		want      []string
		wantLines []int
	}{
		{"valid", "", "", nil, nil},
		{"misspelt category suggests the right one",
			"category: contact.email}\ndisclosures", "category: contact.emial}\ndisclosures",
			[]string{`collections[0].elements[0].category: unknown category "contact.emial" (did you mean "contact.email"?)`}, []int{22}},
		{"unknown purpose and source kind",
			"purposes: [order_fulfilment]", "purposes: [order_fulfillment, fun]",
			[]string{`collections[0].purposes[0]: unknown purpose "order_fulfillment" (did you mean "order_fulfilment"?)`,
				`collections[0].purposes[1]: unknown purpose "fun"`}, nil},
		{"unknown trigger lists the known ones",
			"on: purchase", "on: purchse",
			[]string{`collections[0].on: unknown trigger "purchse" (known: account_closed, deletion_request, dns, login, monthly, purchase, signup, visit)`}, nil},
		{"a sale to a service provider is not a sale",
			"role: third_party", "role: service_provider",
			[]string{`disclosures[0].disclosure: a sale goes to a third party`}, nil},
		{"dangling references",
			"recipient: ads", "recipient: adz",
			[]string{`disclosures[0].recipient: "adz" is not a key of recipients (known: ads)`}, nil},
		{"violates outside violations",
			"id: checkout\n", "id: checkout\n    violates: nothing\n",
			[]string{"collections[0].violates: belongs only to practices under violations"}, nil},
		{"ignored consent outside violations",
			"mechanism: gpc}", "mechanism: gpc, ignored: true}",
			[]string{"consents[0].ignored: an ignored choice is a violation"}, nil},
		{"bad identity and shares",
			"site: https://shop.acme.test, names: us}", "site: https://acme.com, names: fr}\nsegments: [{key: x, share: 2}]",
			[]string{`identity.site: "https://acme.com" must be an https origin under a reserved domain`, `identity.names: "fr" must be one of my, se, us`,
				"segments[0].share: 2 is not a share between 0 and 1"}, nil},
		{"nothing happens after deletion but erasure",
			"on: monthly", "on: deletion_request",
			[]string{"disclosures[0].on: only erasures happen on deletion_request"}, nil},
		{"duplicate ids",
			"id: audience", "id: checkout",
			[]string{`disclosures[0].id: "checkout" is used twice (first at collections[0])`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := minimal
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("minimal profile has no %q", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			p, err := demo.LoadProfile(strings.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			err = p.Validate(tax)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid profile: %v", err)
				}
				return
			}
			var ve *demo.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, demo.ErrInvalidProfile) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
				if i < len(tt.wantLines) && i < len(ve.Problems) && ve.Problems[i].Line != tt.wantLines[i] {
					t.Errorf("problem %d on line %d, want %d", i, ve.Problems[i].Line, tt.wantLines[i])
				}
			}
		})
	}
}

func TestLoadProfile_IsStrict(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown field", minimal + "colour: blue\n", "field colour not found"},
		{"misspelt nested field", strings.Replace(minimal, "purposes: [marketing]", "purpose: [marketing]", 1), "field purpose not found"},
		{"two documents", minimal + "---\ntenant: other\n", "more than one YAML document"},
		{"empty", "", "empty"},
		{"bad period", minimal + "retention:\n  - {id: r, description: d, categories: [contact.email], system: orders, period: 6 months, after: collection}\n", `period "6 months"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := demo.LoadProfile(strings.NewReader(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestValidate_TenantExtensionTermsAreKnown(t *testing.T) {
	tax := loadTaxonomy(t)
	src := strings.Replace(minimal, "category: contact.email}\ndisclosures", "category: loyalty.tier}\ndisclosures", 1) + `taxonomy:
  categories:
    - {key: loyalty.tier, name: Loyalty tier, description: Your tier in our loyalty club., ccpa: [D]}
`
	p, err := demo.LoadProfile(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(tax); err != nil {
		t.Fatalf("extension term rejected: %v", err)
	}
	if _, ok := tax.Category("acme", "loyalty.tier"); ok {
		t.Error("Validate changed the taxonomy it was given")
	}
	bad := strings.Replace(src, "ccpa: [D]", "ccpa: [Z]", 1)
	p, err = demo.LoadProfile(strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(tax); err == nil || !strings.Contains(err.Error(), "taxonomy:") {
		t.Errorf("bad extension: err = %v", err)
	}
}

func TestLoadAll_FileNameMustMatchTenantAndEveryFileIsReported(t *testing.T) {
	tax := loadTaxonomy(t)
	fsys := fstest.MapFS{
		"acme.yaml":  {Data: []byte(minimal)},
		"other.yaml": {Data: []byte(minimal)},
		"broken.yaml": {Data: []byte(strings.Replace(
			strings.Replace(minimal, "tenant: acme", "tenant: broken", 1), "kind: consumer", "kind: consumr", 1))},
	}
	_, err := demo.LoadAll(fsys, tax)
	for _, w := range []string{`other.yaml: tenant "acme" must match the file name`, `broken.yaml: profile broken: 1 problem`, `did you mean "consumer"?`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v, want it to say %q", err, w)
		}
	}
}

func TestSelect(t *testing.T) {
	ps, _ := loadProfiles(t)
	tests := []struct {
		names []string
		want  string
		err   string
	}{
		{nil, "inkcartridges ipc ipcon ipmart iptor", ""},
		{[]string{"all"}, "inkcartridges ipc ipcon ipmart iptor", ""},
		{[]string{"iptor", "ipc", "iptor"}, "iptor ipc", ""},
		{[]string{"ipcon", "acme"}, "", `unknown demo profile "acme": known profiles are inkcartridges, ipc, ipcon, ipmart, iptor, or all`},
	}
	for _, tt := range tests {
		got, err := demo.Select(ps, tt.names)
		if tt.err != "" {
			if !errors.Is(err, demo.ErrUnknownProfile) || err.Error() != tt.err {
				t.Errorf("Select(%v) err = %v, want %q", tt.names, err, tt.err)
			}
			continue
		}
		if err != nil || strings.Join(demo.Names(got), " ") != tt.want {
			t.Errorf("Select(%v) = %v, %v; want %s", tt.names, demo.Names(got), err, tt.want)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30d", 30 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"6mo", 6 * demo.Month, false},
		{"7y", 84 * demo.Month, false},
		{"0d", 0, true},
		{"6 months", 0, true},
		{"y", 0, true},
	}
	for _, tt := range tests {
		p, err := demo.ParsePeriod(tt.in)
		if (err != nil) != tt.err || p.Duration() != tt.want {
			t.Errorf("ParsePeriod(%q) = %v (%s), %v", tt.in, p, p.Duration(), err)
		}
		if err == nil && p.String() != tt.in {
			t.Errorf("String() = %q, want %q", p.String(), tt.in)
		}
	}
}
