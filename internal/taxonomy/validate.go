package taxonomy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ErrInvalid is wrapped by every *ValidationError: errors.Is(err,
// ErrInvalid) tells a bad taxonomy or extension from other failures.
var ErrInvalid = errors.New("invalid taxonomy")

// ErrUnknownTerm is wrapped by the errors of Taxonomy.Check.
var ErrUnknownTerm = errors.New("unknown taxonomy term")

// ValidationError is one problem found in a taxonomy file or extension.
type ValidationError struct {
	// File is the data file ("categories.yaml") or, for an extension,
	// `extension for tenant "acme"`.
	File string
	// List is the list or section ("categories", "ccpa_categories"), or ""
	// for a problem with the whole file.
	List string
	// Key is the term's key, or "#N" (1-based position) when it has none.
	Key string
	// Reason says what is wrong.
	Reason string
	// Err is an underlying error (I/O, YAML syntax), if any.
	Err error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.List != "" {
		b.WriteString(": ")
		b.WriteString(e.List)
		if e.Key != "" {
			b.WriteString("[" + e.Key + "]")
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrInvalid and the underlying error, if any.
func (e *ValidationError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

// keyPattern is the syntax of every term key: lowercase ASCII words of
// letters, digits and underscores, joined by dots.
func keyPattern() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
}

// validator checks an Extension: the merged base files (base == nil) or a
// tenant extension layered on base.
type validator struct {
	stat *statutory          // nil when statutory.yaml could not be read
	base *vocab              // nil when validating the base itself
	src  func(l List) string // file to name in errors for list l
	// broken lists could not be read; they are not checked for
	// completeness (the read error is reported already).
	broken map[List]bool
	errs   []error
}

func (v *validator) add(l List, key, format string, args ...any) {
	v.errs = append(v.errs, &ValidationError{File: v.src(l), List: string(l), Key: key, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) validate(ext Extension) []error {
	keyRE := keyPattern()
	for _, l := range Lists() {
		seen := map[string]bool{}
		for i, t := range ext.terms(l) {
			id := entryID(t.Key, i)
			switch {
			case t.Key == "":
				v.add(l, id, "key is missing")
			case !keyRE.MatchString(t.Key):
				v.add(l, id, "key must be lowercase ASCII words (a-z, 0-9, _) joined by dots")
			case l == Categories && !strings.Contains(t.Key, "."):
				v.add(l, id, "category key must be dotted, <group>.<name>")
			}
			if t.Key != "" {
				if seen[t.Key] {
					v.add(l, id, "duplicate key")
				}
				seen[t.Key] = true
				if v.base != nil {
					if _, ok := v.base.terms[l][t.Key]; ok {
						v.add(l, id, "redefines a base term; extensions may only add new terms")
					}
				}
			}
			if strings.TrimSpace(t.Name) == "" {
				v.add(l, id, "name is missing")
			} else if strings.ContainsAny(t.Name, "\n\r") {
				v.add(l, id, "name must be a single line")
			}
			if strings.TrimSpace(t.Description) == "" {
				v.add(l, id, "description is missing")
			}
		}
	}
	for i, c := range ext.Categories {
		v.category(entryID(c.Key, i), c)
	}
	v.purposes(ext.Purposes)
	if v.base == nil {
		v.contract(ext)
	}
	return v.errs
}

func entryID(key string, i int) string {
	if key == "" {
		return fmt.Sprintf("#%d", i+1)
	}
	return key
}

func (v *validator) category(id string, c Category) {
	seen := map[string]bool{}
	for _, letter := range c.CCPA {
		switch {
		case letter == "L":
			v.add(Categories, id, "ccpa letter L is implied by sensitive; list only A-K")
		case len(letter) != 1 || letter < "A" || letter > "K":
			v.add(Categories, id, "ccpa letter %q is not one of A-K (Cal. Civ. Code 1798.140(v)(1))", letter)
		case seen[letter]:
			v.add(Categories, id, "ccpa letter %q listed twice", letter)
		}
		seen[letter] = true
	}
	if len(c.CCPA) == 0 && c.Sensitive == "" {
		v.add(Categories, id, "maps to no statutory category: give ccpa letters or a sensitive clause")
	}
	if v.stat == nil {
		return // statutory.yaml is broken; that is reported already
	}
	if c.Sensitive != "" {
		if _, ok := v.stat.sensitiveClass(c.Sensitive); !ok {
			v.add(Categories, id, "sensitive clause %q is not in %s sensitive_classes", c.Sensitive, StatutoryFile)
		}
		// 11 CCR 7024(d) covers every government identification number and
		// unique biometric data, so these clauses imply never_disclose.
		if (c.Sensitive == "(1)(A)" || c.Sensitive == "(2)(A)") && !c.NeverDisclose {
			v.add(Categories, id, "sensitive %s data must be never_disclose: true (11 CCR 7024(d))", c.Sensitive)
		}
	}
	if c.GDPRSpecial != "" {
		if _, ok := v.stat.gdpr(c.GDPRSpecial); !ok {
			v.add(Categories, id, "gdpr_special %q is not in %s gdpr_special", c.GDPRSpecial, StatutoryFile)
		}
	}
}

func (v *validator) purposes(ps []Purpose) {
	stRE := regexp.MustCompile(`^1798\.140\(e\)\([1-8]\)$`)
	business := map[string]bool{} // keys of business purposes visible here
	if v.base != nil {
		for k, p := range v.base.purposes {
			business[k] = p.Kind == BusinessPurpose
		}
	}
	for _, p := range ps {
		if p.Kind == BusinessPurpose {
			business[p.Key] = true
		}
	}
	statutes := map[string]string{}
	for i, p := range ps {
		id := entryID(p.Key, i)
		switch p.Kind {
		case BusinessPurpose:
			if v.base != nil {
				v.add(Purposes, id, "extensions cannot add business purposes (the eight of 1798.140(e) are fixed); use kind: commercial with business_purpose")
				continue
			}
			if !stRE.MatchString(p.Statutory) {
				v.add(Purposes, id, "business purpose needs statutory: \"1798.140(e)(N)\", N in 1-8; got %q", p.Statutory)
			} else if other, dup := statutes[p.Statutory]; dup {
				v.add(Purposes, id, "statutory %s is already used by %s", p.Statutory, other)
			} else {
				statutes[p.Statutory] = id
			}
			if p.BusinessPurpose != "" {
				v.add(Purposes, id, "business_purpose is only for commercial purposes")
			}
		case CommercialPurpose:
			if p.Statutory != "" {
				v.add(Purposes, id, "statutory is only for business purposes; a commercial purpose may name one in business_purpose")
			}
			if p.BusinessPurpose != "" && !business[p.BusinessPurpose] {
				v.add(Purposes, id, "business_purpose %q is not a business purpose", p.BusinessPurpose)
			}
		default:
			v.add(Purposes, id, "kind must be %q or %q, got %q", BusinessPurpose, CommercialPurpose, p.Kind)
		}
	}
	if v.base == nil && !v.broken[Purposes] {
		for n := 1; n <= 8; n++ {
			if s := fmt.Sprintf("1798.140(e)(%d)", n); statutes[s] == "" {
				v.add(Purposes, "", "no business purpose for %s", s)
			}
		}
	}
}

// requiredTerms are the terms the event contract in SPEC.md names: the
// base taxonomy must define them (other services and tenants rely on them).
func requiredTerms() map[List][]string {
	return map[List][]string{
		Categories: {"contact.email", "financial.card_number", "online.ip_address", "device.identifier",
			"commercial.purchase_history", "credentials.password", "government_id.ssn", "geolocation.precise",
			"audio_visual.call_recording", "inference.preferences", "protected.gender"},
		SourceKinds: {"consumer", "device", "affiliate", "service_provider", "business_partner", "data_broker",
			"social_network", "advertising_network", "analytics_provider", "public_source", "government",
			"customer_account", "inferred"},
		RecipientKinds: {"affiliate", "service_provider", "contractor", "business_partner", "reseller",
			"advertising_network", "analytics_provider", "data_broker", "social_network", "payment_processor",
			"isp", "os_platform", "app_developer", "government", "acquirer"},
		RecipientRoles:    {"service_provider", "contractor", "third_party", "affiliate"},
		DisclosureTypes:   {"business_purpose", "sale", "sharing", "consumer_directed", "legal_requirement", "merger"},
		LegalBases:        {"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"},
		ConsentChoices:    {"sale", "sharing", "targeted_advertising", "marketing_email", "marketing_sms", "sensitive_use", "profiling"},
		ConsentMechanisms: {"gpc", "form", "email_link", "banner", "agent"},
		ErasureReasons:    {"consumer_request", "retention", "account_closed"},
		TransferMechanisms: {"adequacy_decision", "standard_contractual_clauses", "binding_corporate_rules",
			"consent", "contract_necessity", "dpf", "none_required"},
	}
}

// contract checks the base against the event contract of SPEC.md.
func (v *validator) contract(ext Extension) {
	required := requiredTerms()
	for _, l := range Lists() {
		if v.broken[l] {
			continue
		}
		keys := required[l]
		have := map[string]bool{}
		for _, t := range ext.terms(l) {
			have[t.Key] = true
		}
		for _, k := range keys {
			if !have[k] {
				v.add(l, k, "required by the event contract (SPEC.md) but missing")
			}
		}
	}
	for _, d := range ext.DisclosureTypes {
		want := d.Key == "sale" || d.Key == "sharing"
		if slices.Contains(required[DisclosureTypes], d.Key) && d.SoldOrShared != want {
			v.add(DisclosureTypes, d.Key, "sold_or_shared must be %t", want)
		}
	}
}

// validateStatutory checks statutory.yaml on its own.
func validateStatutory(doc statutoryFile) []error {
	var errs []error
	add := func(section, key, format string, args ...any) {
		errs = append(errs, &ValidationError{File: StatutoryFile, List: section, Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	need := func(section, key, field, value string) {
		if strings.TrimSpace(value) == "" {
			add(section, key, "%s is missing", field)
		}
	}

	const letters = "ABCDEFGHIJKL"
	seen := map[string]bool{}
	for i, c := range doc.CCPACategories {
		id := entryID(c.Letter, i)
		if len(c.Letter) != 1 || !strings.Contains(letters, c.Letter) {
			add("ccpa_categories", id, "letter must be one of A-L (1798.140(v)(1)(A)-(L))")
		} else if seen[c.Letter] {
			add("ccpa_categories", id, "duplicate letter")
		}
		seen[c.Letter] = true
		need("ccpa_categories", id, "name", c.Name)
		need("ccpa_categories", id, "description", c.Description)
	}
	for _, r := range letters {
		if !seen[string(r)] {
			add("ccpa_categories", string(r), "missing")
		}
	}

	idRE := regexp.MustCompile(`^\([12]\)\([A-Z]\)$`)
	seen = map[string]bool{}
	for i, s := range doc.SensitiveClasses {
		id := entryID(s.ID, i)
		if !idRE.MatchString(s.ID) {
			add("sensitive_classes", id, "id must look like (1)(A) or (2)(C)")
		} else if seen[s.ID] {
			add("sensitive_classes", id, "duplicate id")
		}
		seen[s.ID] = true
		need("sensitive_classes", id, "text", s.Text)
		need("sensitive_classes", id, "description", s.Description)
	}
	for _, want := range []string{"(1)(A)", "(1)(B)", "(1)(C)", "(1)(D)", "(1)(E)", "(1)(F)", "(2)(A)", "(2)(B)", "(2)(C)"} {
		if !seen[want] {
			add("sensitive_classes", want, "missing (1798.140(ae))")
		}
	}

	keyRE := keyPattern()
	seen = map[string]bool{}
	if len(doc.NeverDisclose) == 0 {
		add("never_disclose", "", "list is empty (11 CCR 7024(d))")
	}
	for i, n := range doc.NeverDisclose {
		id := entryID(n.Key, i)
		if !keyRE.MatchString(n.Key) {
			add("never_disclose", id, "key must be lowercase ASCII words joined by dots")
		} else if seen[n.Key] {
			add("never_disclose", id, "duplicate key")
		}
		seen[n.Key] = true
		need("never_disclose", id, "text", n.Text)
		need("never_disclose", id, "description", n.Description)
	}

	seen = map[string]bool{}
	for i, g := range doc.GDPRSpecial {
		id := entryID(g.Key, i)
		if !keyRE.MatchString(g.Key) {
			add("gdpr_special", id, "key must be lowercase ASCII words joined by dots")
		} else if seen[g.Key] {
			add("gdpr_special", id, "duplicate key")
		}
		seen[g.Key] = true
		need("gdpr_special", id, "article", g.Article)
		need("gdpr_special", id, "name", g.Name)
		need("gdpr_special", id, "description", g.Description)
	}
	return errs
}
