package report

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/requests"
)

// statutoryNames are Cal. Civ. Code 1798.140(v)(1)(A)–(L) as SPEC.md's
// appendix writes them, typed out here so a change to the taxonomy's copy
// fails this test.
var statutoryNames = map[string]string{
	"A": "Identifiers",
	"B": "Personal information described in subdivision (e) of Section 1798.80",
	"C": "Characteristics of protected classifications under California or federal law",
	"D": "Commercial information",
	"E": "Biometric information",
	"F": "Internet or other electronic network activity information",
	"G": "Geolocation data",
	"H": "Audio, electronic, visual, thermal, olfactory, or similar information",
	"I": "Professional or employment-related information",
	"J": "Education information",
	"K": "Inferences drawn from any of the information identified in this subdivision to create a profile about a consumer " +
		"reflecting the consumer's preferences, characteristics, psychological trends, predispositions, behavior, attitudes, " +
		"intelligence, abilities, and aptitudes",
	"L": "Sensitive personal information",
}

func TestBuild_StatutoryNamesAreExact(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range scenarios(t) {
		r, err := Build(sc.input(t))
		if err != nil {
			t.Fatal(err)
		}
		check := func(list, letter, name string) {
			seen[letter] = true
			if want := statutoryNames[letter]; name != want {
				t.Errorf("%s %s (%s): %q, want %q", sc.name, list, letter, name, want)
			}
		}
		for _, c := range r.Categories {
			check("categories", c.Letter, c.Name)
			if c.Sensitive != (c.Letter == "L") {
				t.Errorf("%s: category %s sensitive = %v", sc.name, c.Letter, c.Sensitive)
			}
		}
		for _, list := range [][]DisclosedCategory{r.SoldOrShared, r.DisclosedForBusinessPurpose, r.OtherDisclosures} {
			for _, c := range list {
				check("disclosures", c.Letter, c.Name)
			}
		}
	}
	if len(seen) < 8 {
		t.Errorf("the scenarios reach only %d statutory categories", len(seen))
	}
}

// TestBuild_SoldOrSharedAndBusinessPurposeAreSeparate follows the ink
// retailer: identifiers and commercial information sold to advertising
// networks and data brokers; browsing shared with a social network;
// analytics and the card disclosed for a business purpose.
func TestBuild_SoldOrSharedAndBusinessPurposeAreSeparate(t *testing.T) {
	r, err := Build(inkcartridges(t).input(t))
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ letter, kind, how string }
	flat := func(dcs []DisclosedCategory, how func(RecipientCategory) []Term) []row {
		var out []row
		for _, dc := range dcs {
			for _, rc := range dc.Recipients {
				for _, h := range how(rc) {
					out = append(out, row{dc.Letter, rc.Key, h.Key})
				}
			}
		}
		return out
	}
	sold := flat(r.SoldOrShared, func(rc RecipientCategory) []Term { return rc.Disclosures })
	wantSold := []row{
		{"A", "advertising_network", "sale"}, {"A", "data_broker", "sale"}, {"A", "social_network", "sharing"},
		{"B", "advertising_network", "sale"}, {"B", "data_broker", "sale"},
		{"D", "advertising_network", "sale"}, {"D", "data_broker", "sale"},
		{"F", "social_network", "sharing"},
	}
	if !slices.Equal(sold, wantSold) {
		t.Errorf("sold or shared:\n got %v\nwant %v", sold, wantSold)
	}
	business := flat(r.DisclosedForBusinessPurpose, func(rc RecipientCategory) []Term { return rc.Roles })
	wantBusiness := []row{
		{"A", "analytics_provider", "service_provider"}, {"A", "payment_processor", "service_provider"},
		{"B", "payment_processor", "service_provider"},
		{"F", "analytics_provider", "service_provider"},
		{"L", "payment_processor", "service_provider"},
	}
	if !slices.Equal(business, wantBusiness) {
		t.Errorf("disclosed for a business purpose:\n got %v\nwant %v", business, wantBusiness)
	}
	if len(r.OtherDisclosures) != 0 {
		t.Errorf("other disclosures: %+v", r.OtherDisclosures)
	}
	// The card went to the payment processor only, never sold.
	for _, dc := range r.SoldOrShared {
		if slices.ContainsFunc(dc.DataCategories, func(t Term) bool { return t.Key == "financial.card_number" }) {
			t.Errorf("the card number is listed as sold or shared under %s", dc.Letter)
		}
	}
	names := []string{}
	for _, rc := range r.Recipients {
		names = append(names, rc.Name+"/"+rc.Countries[0].Name)
	}
	if want := []string{"Acme Data Co./United States", "AdReach Networks/United States", "Google Analytics/United States",
		"Meta Platforms/United States", "Stripe/United States"}; !slices.Equal(names, want) {
		t.Errorf("recipients %v, want %v", names, want)
	}
}

// TestBuild_WindowLeavesOutOlderCollections: a collection 13 months before
// the request is not in the default report and is with from=2022-01-01.
func TestBuild_WindowLeavesOutOlderCollections(t *testing.T) {
	sc := inkcartridges(t)
	has := func(r Report, key string) bool {
		return slices.ContainsFunc(r.DataCategories, func(c DataCategory) bool { return c.Key == key })
	}
	def, err := Build(sc.input(t))
	if err != nil {
		t.Fatal(err)
	}
	if has(def, "engagement.sweepstakes_entry") || has(def, "identity.date_of_birth") || !def.Window.Default {
		t.Fatal("the default window includes the collection of 2025-01-20")
	}
	w, err := WindowFor(sc.request.Jurisdiction, sc.request.ReceivedAt, Earliest(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	in := sc.input(t)
	in.Window, in.Record = w, recordOf(t, sc.stream, w)
	ext, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if !has(ext, "engagement.sweepstakes_entry") || !has(ext, "identity.date_of_birth") || ext.Window.Default {
		t.Fatal("the window from 2022-01-01 leaves out the collection of 2025-01-20")
	}
	var js bytes.Buffer
	_ = WriteJSON(&js, ext)
	if !bytes.Contains(js.Bytes(), []byte("1990-04-12")) || !bytes.Contains(js.Bytes(), []byte(`"from": "2022-01-01T00:00:00Z"`)) {
		t.Error("the extended report lacks the older value or its window")
	}
}

func TestWindowFor(t *testing.T) {
	received := at("2026-03-02")
	tests := []struct {
		name     string
		j        requests.Jurisdiction
		from, to time.Time
		want     Window
		err      string
	}{
		{"CCPA default: the 12 months before receipt", requests.CCPA, time.Time{}, time.Time{},
			Window{From: at("2025-03-02"), To: received, Default: true}, ""},
		{"GDPR default: everything since 2022", requests.GDPR, time.Time{}, time.Time{},
			Window{From: Earliest(), To: received, Default: true}, ""},
		{"extended to 2022-01-01", requests.CCPA, Earliest(), time.Time{},
			Window{From: Earliest(), To: received}, ""},
		{"never before 2022-01-01", requests.CCPA, at("2021-12-31"), time.Time{}, Window{},
			"report: window.from: 2021-12-31 is before 2022-01-01: a report reaches back no further (Cal. Civ. Code 1798.130(a)(2)(B))"},
		{"to before from", requests.CCPA, at("2025-06-01"), at("2025-05-01"), Window{},
			"report: window.to: 2025-05-01T10:00:00Z is not after window.from 2025-06-01T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WindowFor(tt.j, received, tt.from, tt.to)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) || got.Default != tt.want.Default {
				t.Fatalf("got %+v %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestBuild_RejectsInputItCannotUse(t *testing.T) {
	good := func() Input { return inkcartridges(t).input(t) }
	tests := []struct {
		name   string
		change func(*Input)
		want   string
	}{
		{"no taxonomy", func(in *Input) { in.Taxonomy = nil }, "report: taxonomy: is required"},
		{"no time", func(in *Input) { in.GeneratedAt = time.Time{} }, "report: generated_at: is required"},
		{"a window in the future", func(in *Input) { in.GeneratedAt = at("2026-03-01") }, "report: window.to: 2026-03-02T10:00:00Z is after generated_at"},
		{"a record over another window", func(in *Input) { in.Record.Window = projections.Window{} },
			"report: record.window: the record covers [unbounded, unbounded) but the report's window is [2025-03-02T10:00:00Z, 2026-03-02T10:00:00Z)"},
		{"a request not verified", func(in *Input) {
			r := *in.Request
			r.Verification = &requests.Verification{Level: requests.LevelNone}
			in.Request = &r
		}, "report: request.verification: request r-2026-0042 is not verified"},
		{"a request to delete", func(in *Input) {
			r := *in.Request
			r.Type = requests.TypeDelete
			in.Request = &r
		}, "report: request.type: request r-2026-0042 is a request to delete"},
		{"a denied request", func(in *Input) {
			r := *in.Request
			r.State = requests.StateDenied
			in.Request = &r
		}, "report: request.state: request r-2026-0042 was denied"},
		{"another tenant's request", func(in *Input) {
			r := *in.Request
			r.Tenant = "ipc"
			in.Request = &r
		}, `report: request.tenant: request r-2026-0042 is for tenant "ipc", the record for "inkcartridges"`},
		{"a scope with a request", func(in *Input) { in.Scope = requests.LevelSpecificPieces }, "report: scope: is for a report without a request"},
		{"a retention period for no category", func(in *Input) { in.Retention.Periods = map[string]string{"finance": "7 years"} },
			`report: retention.periods["finance"]: is neither a data category nor a group of categories of tenant "inkcartridges"`},
		{"an empty retention period", func(in *Input) { in.Retention.Periods = map[string]string{"financial": " "} },
			`report: retention.periods["financial"]: the period is empty`},
		{"a category the taxonomy does not know", func(in *Input) {
			in.Record.Categories = append(in.Record.Categories, projections.CategorySummary{Category: "financial.crypto_wallet"})
		}, `report: record: data category "financial.crypto_wallet" is not in tenant "inkcartridges"'s taxonomy`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.change(&in)
			_, err := Build(in)
			if err == nil {
				t.Fatal("Build accepted it")
			}
			if !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error:\n got %v\nwant %s…", err, tt.want)
			}
		})
	}
}

// TestBuild_NeverDiscloseItemsAreNamedNotShown puts a card number, an SSN
// and a password with values in the record and searches every rendering's
// bytes for them.
func TestBuild_NeverDiscloseItemsAreNamedNotShown(t *testing.T) {
	s := &stream{tenant: "default", refs: []identity.Ref{ref(identity.Email, "jane@example.com")}}
	s.collected("2026-01-10", "consumer", "credit application", "loans", purposes("identity_verification"),
		el("card", "financial.card_number", "5500 0000 0000 0004"), el("ssn", "government_id.ssn", "078-05-1120"),
		el("password", "credentials.password", "correct horse battery staple"), el("name", "identity.name", "Jane Doe"))
	w := Window{From: at("2025-06-01"), To: at("2026-02-01")}
	r, err := Build(Input{Record: recordOf(t, s, w), Taxonomy: loadTaxonomy(t), Window: w, Scope: requests.LevelSpecificPieces,
		GeneratedAt: at("2026-02-02")})
	if err != nil {
		t.Fatal(err)
	}
	var js, html, pdf, pdfz bytes.Buffer
	for _, err := range []error{WriteJSON(&js, r), WriteHTML(&html, r), WritePDF(&pdf, r, PDFOptions{Uncompressed: true}), WritePDF(&pdfz, r, PDFOptions{})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	outputs := map[string][]byte{"json": js.Bytes(), "html": html.Bytes(), "pdf": pdf.Bytes(), "compressed pdf": pdfz.Bytes()}
	for _, secret := range []string{"5500 0000 0000 0004", "078-05-1120", "078-05", "correct horse battery staple", "battery staple"} {
		for format, b := range outputs {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains %q", format, secret)
			}
		}
	}
	for _, named := range []string{"We hold your payment card number", "We hold your Social Security number", "We hold your password"} {
		for _, format := range []string{"json", "html"} {
			if !bytes.Contains(outputs[format], []byte(named)) {
				t.Errorf("%s does not say %q", format, named)
			}
		}
	}
	if !bytes.Contains(js.Bytes(), []byte("Jane Doe")) {
		t.Error("the name, which may be shown, is missing")
	}
	withheld := 0
	for _, p := range r.SpecificPieces {
		if p.ValueStatus == ValueWithheld {
			withheld++
			if p.Value != nil {
				t.Errorf("%s: a withheld piece carries its value", p.Category)
			}
		}
	}
	if withheld != 3 {
		t.Errorf("%d pieces withheld, want 3", withheld)
	}
}

func TestBuild_CategoriesOnlyShowsNoValues(t *testing.T) {
	sc := ipc(t)
	r, err := Build(sc.input(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Scope != "categories" || len(r.SpecificPieces) != 0 || !r.Request.Downgraded || !strings.Contains(r.ScopeNote, "11 CCR 7024(a)") {
		t.Fatalf("scope %s pieces %d downgraded %v note %q", r.Scope, len(r.SpecificPieces), r.Request.Downgraded, r.ScopeNote)
	}
	if len(r.Categories) == 0 || len(r.Recipients) == 0 {
		t.Fatal("a categories-only report still lists categories and recipients")
	}
}

func TestBuild_WithoutARequest(t *testing.T) {
	s := &stream{tenant: "default", refs: []identity.Ref{ref(identity.Phone, "+15555550100")}}
	s.collected("2026-01-10", "consumer", "app", "app", purposes("service_delivery"), el("phone", "contact.phone", "+1 555 555 0100"))
	w := Window{From: at("2025-06-01"), To: at("2026-02-01")}
	r, err := Build(Input{Record: recordOf(t, s, w), Taxonomy: loadTaxonomy(t), Window: w, GeneratedAt: at("2026-02-02")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Request != nil || r.Scope != "categories" || r.Jurisdiction.Key != "ccpa" || r.Business.Name != "default" || len(r.SpecificPieces) != 0 {
		t.Fatalf("%+v", r)
	}
	if len(r.IdentifierKinds) != 1 || r.IdentifierKinds[0].Key != "phone" {
		t.Errorf("identifier kinds %+v", r.IdentifierKinds)
	}
}

func TestBuild_ErasedAndShreddedValuesAreNotShown(t *testing.T) {
	s := &stream{tenant: "default", refs: []identity.Ref{ref(identity.Email, "jane@example.com")}}
	s.collected("2026-01-10", "consumer", "app", "app", purposes("service_delivery"),
		el("phone", "contact.phone", "+1 555 555 0100"), el("email", "contact.email", "jane@example.com"))
	s.add("2026-01-11", &event.Erased{Elements: els(el("phone", "contact.phone", "")), Reason: "consumer_request", System: "app"})
	s.recs[0].Shredded = true // its values could no longer be decrypted
	s.recs[0].Event.Data.(*event.Collected).Elements[0].Value = nil
	s.recs[0].Event.Data.(*event.Collected).Elements[1].Value = nil
	w := Window{From: at("2025-06-01"), To: at("2026-02-01")}
	r, err := Build(Input{Record: recordOf(t, s, w), Taxonomy: loadTaxonomy(t), Window: w, Scope: requests.LevelSpecificPieces,
		GeneratedAt: at("2026-02-02")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range r.SpecificPieces {
		got[p.Name] = p.ValueStatus
	}
	if got["phone"] != ValueErased || got["email"] != ValueUnreadable {
		t.Fatalf("value statuses %v", got)
	}
	if len(r.Erasures) != 1 || r.Erasures[0].Reason.Name == "" || r.Erasures[0].Elements[0].CategoryName != "Telephone number" {
		t.Fatalf("erasures %+v", r.Erasures)
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"Payment card number":    "payment card number",
		"Social Security number": "Social Security number",
		"State ID number":        "State ID number",
		"Password":               "password",
		"":                       "",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"html", "PDF", " json "} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := ParseFormat("docx"); err == nil || !errors.Is(err, ErrInvalidInput) {
		t.Errorf("docx: %v", err)
	}
	if FormatPDF.ContentType() != "application/pdf" || FormatHTML.Extension() != ".html" {
		t.Error("content type or extension wrong")
	}
}
