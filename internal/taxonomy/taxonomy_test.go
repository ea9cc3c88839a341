package taxonomy

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custodyhq/custody/schema"
)

func loadEmbedded(t *testing.T) *Taxonomy {
	t.Helper()
	tx, err := Load(schema.Taxonomy())
	if err != nil {
		t.Fatalf("Load(schema.Taxonomy()): %v", err)
	}
	return tx
}

func TestEmbeddedTaxonomyLoadsWithoutError(t *testing.T) {
	tx := loadEmbedded(t)
	for _, l := range Lists() {
		keys := tx.Terms("default", l)
		if len(keys) == 0 {
			t.Errorf("list %s is empty", l)
		}
		for _, k := range keys {
			term, ok := tx.Term("default", l, k)
			if !ok || term.Name == "" || term.Description == "" {
				t.Errorf("%s[%s]: term %+v lacks a name or description", l, k, term)
			}
		}
	}
}

func TestStatutoryNamesMatchSpecAppendixVerbatim(t *testing.T) {
	// Copied from SPEC.md, "Appendix — statutory names". name is the text
	// before the parenthetical; text is the whole entry on one line.
	tests := []struct {
		letter, name, text string
	}{
		{"A", "Identifiers",
			"Identifiers (real name, alias, postal address, unique personal identifier, online identifier, IP address, email address, account name, SSN, driver's license number, passport number, or other similar identifiers)"},
		{"B", "Personal information described in subdivision (e) of Section 1798.80",
			"Personal information described in subdivision (e) of Section 1798.80 (the California Customer Records statute: name, signature, SSN, physical characteristics, address, telephone, passport, driver's license or state ID, insurance policy, education, employment, bank account, credit/debit card or other financial information, medical or health insurance information)"},
		{"C", "Characteristics of protected classifications under California or federal law",
			"Characteristics of protected classifications under California or federal law"},
		{"D", "Commercial information",
			"Commercial information (records of personal property, products or services purchased, obtained, or considered, or other purchasing or consuming histories or tendencies)"},
		{"E", "Biometric information", "Biometric information"},
		{"F", "Internet or other electronic network activity information",
			"Internet or other electronic network activity information (browsing history, search history, information regarding a consumer's interaction with a website, application, or advertisement)"},
		{"G", "Geolocation data", "Geolocation data"},
		{"H", "Audio, electronic, visual, thermal, olfactory, or similar information",
			"Audio, electronic, visual, thermal, olfactory, or similar information"},
		{"I", "Professional or employment-related information", "Professional or employment-related information"},
		{"J", "Education information",
			"Education information (non-public, per the Family Educational Rights and Privacy Act)"},
		{"K", "Inferences drawn from any of the information identified in this subdivision to create a profile about a consumer reflecting the consumer's preferences, characteristics, psychological trends, predispositions, behavior, attitudes, intelligence, abilities, and aptitudes",
			"Inferences drawn from any of the information identified in this subdivision to create a profile about a consumer reflecting the consumer's preferences, characteristics, psychological trends, predispositions, behavior, attitudes, intelligence, abilities, and aptitudes"},
		{"L", "Sensitive personal information", "Sensitive personal information"},
	}
	tx := loadEmbedded(t)
	for _, tt := range tests {
		t.Run(tt.letter, func(t *testing.T) {
			got, ok := tx.Statutory(tt.letter)
			if !ok {
				t.Fatalf("Statutory(%q) not found", tt.letter)
			}
			if got.Name != tt.name {
				t.Errorf("name\n got %q\nwant %q", got.Name, tt.name)
			}
			if got.Text() != tt.text {
				t.Errorf("text\n got %q\nwant %q", got.Text(), tt.text)
			}
		})
	}
	if n := len(tx.StatutoryCategories()); n != len(tests) {
		t.Errorf("StatutoryCategories() has %d entries, want %d", n, len(tests))
	}
}

func TestSensitiveClassesMatchSpecAppendix(t *testing.T) {
	tests := []struct{ id, text string }{
		{"(1)(A)", "social security, driver's license, state identification card, or passport number"},
		{"(1)(B)", "account log-in, financial account, debit card, or credit card number in combination with any required security or access code, password, or credentials allowing access to an account"},
		{"(1)(C)", "precise geolocation"},
		{"(1)(D)", "racial or ethnic origin, citizenship or immigration status, religious or philosophical beliefs, or union membership"},
		{"(1)(E)", "the contents of a consumer's mail, email, and text messages unless the business is the intended recipient"},
		{"(1)(F)", "genetic data"},
		{"(1)(G)", "neural data"},
		{"(2)(A)", "biometric information processed to uniquely identify a consumer"},
		{"(2)(B)", "personal information collected and analyzed concerning a consumer's health"},
		{"(2)(C)", "personal information collected and analyzed concerning a consumer's sex life or sexual orientation"},
	}
	tx := loadEmbedded(t)
	for _, tt := range tests {
		got, ok := tx.SensitiveClass(tt.id)
		if !ok {
			t.Errorf("SensitiveClass(%q) not found", tt.id)
			continue
		}
		if got.Text != tt.text {
			t.Errorf("SensitiveClass(%q).Text\n got %q\nwant %q", tt.id, got.Text, tt.text)
		}
	}
}

func TestNeverDiscloseListMatchesSpecAppendix(t *testing.T) {
	want := []string{
		"Social Security number",
		"driver's license number or other government-issued identification number",
		"financial account number",
		"any health insurance or medical identification number",
		"account password",
		"security questions and answers",
		"unique biometric data generated from measurements or technical analysis of human characteristics",
	}
	var got []string
	for _, n := range loadEmbedded(t).NeverDisclose() {
		got = append(got, n.Text)
	}
	if !slices.Equal(got, want) {
		t.Errorf("never-disclose texts\n got %q\nwant %q", got, want)
	}
}

func TestSecretAndIdentityNumberCategoriesAreNeverDisclosedAndSensitive(t *testing.T) {
	tx := loadEmbedded(t)
	keys := []string{
		"government_id.ssn", "government_id.passport", "government_id.drivers_license",
		"government_id.state_id", "government_id.national_id",
		"financial.card_number", "financial.bank_account",
		"credentials.password", "credentials.security_qa",
	}
	var biometric []string
	for _, k := range tx.Terms("default", Categories) {
		if strings.HasPrefix(k, "biometric.") {
			biometric = append(biometric, k)
		}
	}
	if len(biometric) == 0 {
		t.Fatal("no biometric.* categories")
	}
	for _, k := range append(keys, biometric...) {
		c, ok := tx.Category("default", k)
		if !ok {
			t.Errorf("category %s missing", k)
			continue
		}
		if !c.NeverDisclose {
			t.Errorf("%s: NeverDisclose = false, want true (11 CCR 7024(d))", k)
		}
		if c.Sensitive == "" {
			t.Errorf("%s: Sensitive is empty, want a 1798.140(ae) clause", k)
		}
		if names := c.StatutoryNames(); !slices.Contains(names, "Sensitive personal information") {
			t.Errorf("%s: StatutoryNames() = %q, want it to include Sensitive personal information", k, names)
		}
	}
}

func TestSSNIsBothIdentifierAndCustomerRecord(t *testing.T) {
	c, ok := loadEmbedded(t).Category("default", "government_id.ssn")
	if !ok {
		t.Fatal("government_id.ssn missing")
	}
	if got, want := c.Letters(), []string{"A", "B", "L"}; !slices.Equal(got, want) {
		t.Errorf("Letters() = %q, want %q", got, want)
	}
	want := []string{"Identifiers", "Personal information described in subdivision (e) of Section 1798.80", "Sensitive personal information"}
	if got := c.StatutoryNames(); !slices.Equal(got, want) {
		t.Errorf("StatutoryNames() = %q, want %q", got, want)
	}
	if c.Sensitive != "(1)(A)" {
		t.Errorf("Sensitive = %q, want (1)(A)", c.Sensitive)
	}
}

func TestGDPRSpecialCategoriesAreMapped(t *testing.T) {
	tx := loadEmbedded(t)
	tests := map[string]string{
		"health.medical":             "health",
		"protected.race_ethnicity":   "racial_or_ethnic_origin",
		"legal.criminal_record":      "criminal_convictions",
		"protected.union_membership": "trade_union_membership",
		"biometric.face_geometry":    "biometric",
		"contact.email":              "",
	}
	for key, want := range tests {
		c, ok := tx.Category("default", key)
		if !ok {
			t.Errorf("category %s missing", key)
			continue
		}
		if c.GDPRSpecial != want {
			t.Errorf("%s: GDPRSpecial = %q, want %q", key, c.GDPRSpecial, want)
		}
		if want != "" {
			if _, ok := tx.GDPRSpecial(want); !ok {
				t.Errorf("GDPRSpecial(%q) not found", want)
			}
		}
	}
}

func TestEightBusinessPurposesCiteTheirParagraph(t *testing.T) {
	tx := loadEmbedded(t)
	seen := map[string]string{}
	for _, k := range tx.Terms("default", Purposes) {
		p, _ := tx.Purpose("default", k)
		if p.Kind == BusinessPurpose {
			seen[p.Statutory] = k
		}
		if p.Kind == CommercialPurpose && p.BusinessPurpose != "" {
			if bp, ok := tx.Purpose("default", p.BusinessPurpose); !ok || bp.Kind != BusinessPurpose {
				t.Errorf("%s: business_purpose %q is not a business purpose", k, p.BusinessPurpose)
			}
		}
	}
	if len(seen) != 8 {
		t.Errorf("found %d business purposes (%v), want 8", len(seen), seen)
	}
	if got := seen["1798.140(e)(2)"]; got != "bp.security" {
		t.Errorf("1798.140(e)(2) is %q, want bp.security", got)
	}
}

func TestOnlySaleAndSharingAreSoldOrShared(t *testing.T) {
	tx := loadEmbedded(t)
	for _, k := range tx.Terms("default", DisclosureTypes) {
		d, _ := tx.Disclosure("default", k)
		want := k == "sale" || k == "sharing"
		if d.SoldOrShared != want {
			t.Errorf("%s: SoldOrShared = %t, want %t", k, d.SoldOrShared, want)
		}
	}
}

// TestSeedPracticesAreExpressible lists, per reference customer in
// seeds/, terms their privacy policies need. A failure means a practice of
// a reference customer can no longer be expressed as an event.
func TestSeedPracticesAreExpressible(t *testing.T) {
	tests := []struct {
		seed string
		list List
		keys []string
	}{
		{"000 IPCON (electronics)", Categories, []string{"account.username", "account.display_name", "account.id",
			"credentials.password", "credentials.two_factor_secret", "credentials.access_token", "financial.card_last_digits",
			"financial.card_expiry", "financial.payment_method", "financial.bank_account", "commercial.transaction",
			"government_id.tax_id", "content.community_post", "content.review", "engagement.sweepstakes_entry",
			"engagement.survey_response", "professional.job_title", "professional.employer", "professional.company_details",
			"communications.message_content", "communications.message_metadata", "protected.gender", "geolocation.precise",
			"geolocation.coarse", "inference.interests", "commercial.loyalty", "identity.signature"}},
		{"000 IPCON (electronics)", SourceKinds, []string{"business_partner", "social_network", "advertising_network", "public_source", "data_broker"}},
		{"000 IPCON (electronics)", RecipientKinds, []string{"affiliate", "reseller", "business_partner", "service_provider", "advertising_network", "social_network"}},
		{"000 IPCON (electronics)", ConsentChoices, []string{"marketing_phone", "marketing_mail", "marketing_push", "review_invitations", "public_display", "financial_incentive", "cookies_analytics"}},
		{"001 ipmart (Malaysia)", Categories, []string{"government_id.national_id", "government_id.passport", "government_id.document_copy",
			"financial.card_number", "financial.card_expiry", "financial.account_statement", "financial.credit_application",
			"identity.name", "contact.postal_address", "contact.email"}},
		{"001 ipmart (Malaysia)", RecipientKinds, []string{"payment_processor", "joint_marketing_partner"}},
		{"001 ipmart (Malaysia)", Purposes, []string{"identity_verification", "payment_processing", "order_fulfilment", "marketing"}},
		{"002 Iptor (Sweden, B2B)", Categories, []string{"professional.employer", "commercial.interests", "online.email_engagement",
			"online.website_interaction", "device.fingerprint", "inference.segment", "engagement.event_attendance",
			"protected.political_opinions", "protected.religion", "protected.union_membership", "legal.criminal_record", "health.medical"}},
		{"002 Iptor (Sweden, B2B)", LegalBases, []string{"legitimate_interests", "consent"}},
		{"002 Iptor (Sweden, B2B)", TransferMechanisms, []string{"consent", "standard_contractual_clauses", "none_required"}},
		{"002 Iptor (Sweden, B2B)", Purposes, []string{"sales", "joint_marketing", "event_management", "community", "ad_measurement"}},
		{"003 IPC (meetings)", Categories, []string{"communications.meeting_content", "audio_visual.meeting_recording",
			"communications.chat_message", "communications.email_content", "communications.contact_list", "communications.calendar",
			"communications.transcript", "commercial.subscription", "commercial.billing", "engagement.event_registration",
			"device.network", "online.session_replay", "online.app_integrations", "biometric.voiceprint", "biometric.face_geometry",
			"education.records", "audio_visual.photo"}},
		{"003 IPC (meetings)", SourceKinds, []string{"customer_account", "data_broker", "public_source", "advertising_network"}},
		{"003 IPC (meetings)", RecipientKinds, []string{"reseller", "app_developer", "acquirer", "account_owner", "other_users", "government"}},
		{"003 IPC (meetings)", TransferMechanisms, []string{"dpf"}},
		{"003 IPC (meetings)", ConsentMechanisms, []string{"gpc", "agent", "account_settings"}},
		{"003 IPC (meetings)", ConsentChoices, []string{"diagnostic_data", "biometric", "sale", "sharing"}},
		{"004 inkcartridges (US retail)", Categories, []string{"identity.date_of_birth", "commercial.purchase_history",
			"engagement.sweepstakes_entry", "financial.card_number", "audio_visual.call_recording", "communications.with_us",
			"online.browsing_history", "online.search_history", "device.advertising_id", "geolocation.precise", "protected.age",
			"inference.preferences"}},
		{"004 inkcartridges (US retail)", SourceKinds, []string{"device", "consumer", "affiliate", "business_partner", "data_broker", "social_network", "analytics_provider"}},
		{"004 inkcartridges (US retail)", RecipientKinds, []string{"advertising_network", "business_partner", "analytics_provider",
			"service_provider", "data_broker", "social_network", "isp", "government", "os_platform", "joint_marketing_partner"}},
		{"004 inkcartridges (US retail)", DisclosureTypes, []string{"sale", "sharing", "business_purpose", "legal_requirement", "merger", "consumer_directed"}},
		{"004 inkcartridges (US retail)", Purposes, []string{"bp.auditing", "bp.short_term", "bp.debugging", "bp.performing_services",
			"sweepstakes", "third_party_marketing", "quality_assurance", "targeted_advertising"}},
		{"004 inkcartridges (US retail)", ConsentChoices, []string{"marketing_sms", "call_recording", "third_party_marketing"}},
		{"004 inkcartridges (US retail)", ErasureReasons, []string{"retention", "child_data", "account_closed"}},
	}
	tx := loadEmbedded(t)
	for _, tt := range tests {
		for _, k := range tt.keys {
			if ok, s := tx.Lookup("default", tt.list, k); !ok {
				t.Errorf("%s: %s %q missing (suggestion %q)", tt.seed, tt.list, k, s)
			}
		}
	}
}

// embeddedCopy returns a writable copy of the embedded taxonomy files.
func embeddedCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(schema.Taxonomy(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(schema.Taxonomy(), p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// edit replaces old by new in file, failing the test if old is absent.
func edit(t *testing.T, m fstest.MapFS, file, old, new string) {
	t.Helper()
	s := string(m[file].Data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	m[file] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

func TestBrokenTaxonomyReportsFileAndKey(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, m fstest.MapFS)
		want   []string
	}{
		{"duplicate key within a list",
			func(t *testing.T, m fstest.MapFS) { edit(t, m, "sources.yaml", "key: inferred", "key: device") },
			[]string{"sources.yaml: source_kinds[device]: duplicate key", "sources.yaml: source_kinds[inferred]: required"}},
		{"invalid CCPA letter",
			func(t *testing.T, m fstest.MapFS) {
				edit(t, m, "categories.yaml", "key: protected.gender\n    name: Gender\n    description: Your gender or sex.\n    ccpa: [C]",
					"key: protected.gender\n    name: Gender\n    description: Your gender or sex.\n    ccpa: [Z]")
			},
			[]string{`categories.yaml: categories[protected.gender]: ccpa letter "Z" is not one of A-K`}},
		{"sensitive clause not in statutory.yaml",
			func(t *testing.T, m fstest.MapFS) {
				edit(t, m, "categories.yaml", "sensitive: (1)(C)", "sensitive: (9)(Z)")
			},
			[]string{`categories.yaml: categories[geolocation.precise]: sensitive clause "(9)(Z)" is not in statutory.yaml`}},
		{"missing description",
			func(t *testing.T, m fstest.MapFS) {
				edit(t, m, "erasure.yaml", "    description: It was wrong and was removed rather than corrected.\n", "")
			},
			[]string{"erasure.yaml: erasure_reasons[inaccurate]: description is missing"}},
		{"invalid purpose kind",
			func(t *testing.T, m fstest.MapFS) {
				edit(t, m, "purposes.yaml", "key: ai_training\n    kind: commercial", "key: ai_training\n    kind: fun")
			},
			[]string{`purposes.yaml: purposes[ai_training]: kind must be "business" or "commercial", got "fun"`}},
		{"upper-case key",
			func(t *testing.T, m fstest.MapFS) { edit(t, m, "consent.yaml", "key: ai_training", "key: AI_Training") },
			[]string{"consent.yaml: consent_choices[AI_Training]: key must be lowercase"}},
		{"unknown field",
			func(t *testing.T, m fstest.MapFS) {
				edit(t, m, "transfers.yaml", "  - key: dpf\n", "  - key: dpf\n    colour: blue\n")
			},
			[]string{"transfers.yaml: invalid YAML", "colour"}},
		{"missing file",
			func(t *testing.T, m fstest.MapFS) { delete(m, "legal_bases.yaml") },
			[]string{"legal_bases.yaml: cannot read file"}},
		{"unknown yaml file",
			func(t *testing.T, m fstest.MapFS) { m["extra.yaml"] = &fstest.MapFile{Data: []byte("x: 1\n")} },
			[]string{"extra.yaml: unknown taxonomy file"}},
		{"list in the wrong file",
			func(t *testing.T, m fstest.MapFS) {
				m["erasure.yaml"] = &fstest.MapFile{Data: append(m["erasure.yaml"].Data,
					[]byte("legal_bases:\n  - key: whim\n    name: Whim\n    description: Because.\n")...)}
			},
			[]string{"erasure.yaml: legal_bases: list legal_bases belongs in legal_bases.yaml"}},
		{"statutory name missing",
			func(t *testing.T, m fstest.MapFS) { edit(t, m, "statutory.yaml", "name: Geolocation data", "name: ''") },
			[]string{"statutory.yaml: ccpa_categories[G]: name is missing"}},
		{"sale not flagged sold_or_shared",
			func(t *testing.T, m fstest.MapFS) {
				edit(t, m, "disclosures.yaml", "reference: Cal. Civ. Code 1798.140(ad)\n    sold_or_shared: true",
					"reference: Cal. Civ. Code 1798.140(ad)\n    sold_or_shared: false")
			},
			[]string{"disclosures.yaml: disclosure_types[sale]: sold_or_shared must be true"}},
		{"government ID not never_disclose",
			func(t *testing.T, m fstest.MapFS) {
				edit(t, m, "categories.yaml", "    sensitive: (1)(A)\n    never_disclose: true\n", "    sensitive: (1)(A)\n")
			},
			[]string{"categories.yaml: categories[government_id.ssn]: sensitive (1)(A) data must be never_disclose: true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := embeddedCopy(t)
			tt.break_(t, m)
			tx, err := Load(m)
			if err == nil {
				t.Fatal("Load succeeded on a broken taxonomy")
			}
			if tx != nil {
				t.Error("Load returned a taxonomy together with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestBrokenTaxonomyReportsEveryProblemAtOnce(t *testing.T) {
	m := embeddedCopy(t)
	edit(t, m, "sources.yaml", "key: inferred", "key: device")
	edit(t, m, "categories.yaml", "sensitive: (1)(C)", "sensitive: (9)(Z)")
	edit(t, m, "purposes.yaml", "key: ai_training\n    kind: commercial", "key: ai_training\n    kind: fun")
	_, err := Load(m)
	if err == nil {
		t.Fatal("Load succeeded on a broken taxonomy")
	}
	var ves []*ValidationError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ve *ValidationError
		if errors.As(e, &ve) {
			ves = append(ves, ve)
		}
	}
	files := map[string]bool{}
	for _, ve := range ves {
		files[ve.File] = true
	}
	for _, f := range []string{"sources.yaml", "categories.yaml", "purposes.yaml"} {
		if !files[f] {
			t.Errorf("no problem reported for %s; got %v", f, err)
		}
	}
}

func TestEmptyFileSystemReportsEveryMissingFile(t *testing.T) {
	_, err := Load(fstest.MapFS{})
	if err == nil {
		t.Fatal("Load succeeded on an empty file system")
	}
	for _, f := range append([]string{StatutoryFile}, FileOf(Categories), FileOf(TransferMechanisms)) {
		if !strings.Contains(err.Error(), f+": cannot read file") {
			t.Errorf("error does not mention missing %s:\n%v", f, err)
		}
	}
	if strings.Contains(err.Error(), "required by the event contract") {
		t.Errorf("missing files also reported as missing terms (noise):\n%v", err)
	}
}
