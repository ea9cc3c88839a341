package demo

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/custodyhq/custody/internal/taxonomy"
)

// ErrInvalidProfile is wrapped by every *ValidationError.
var ErrInvalidProfile = errors.New("invalid demo profile")

// Problem is one thing wrong with a profile.
type Problem struct {
	// Path is the YAML path, e.g. collections[2].elements[0].category.
	Path string
	// Line is the line in the YAML source, 0 when unknown.
	Line int
	// Reason says what is wrong and, where it can, what was meant.
	Reason string
}

func (p Problem) String() string {
	s := p.Path + ": " + p.Reason
	if p.Line > 0 {
		s = "line " + strconv.Itoa(p.Line) + ": " + s
	}
	return s
}

// ValidationError lists every problem of a profile.
type ValidationError struct {
	Profile  string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s: %d problem", e.Profile, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Unwrap returns ErrInvalidProfile.
func (e *ValidationError) Unwrap() error { return ErrInvalidProfile }

var (
	tenantPattern  = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	keyPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
	phonePattern   = regexp.MustCompile(`^\+[1-9][0-9]{0,3}$`)
	sitePattern    = regexp.MustCompile(`^https://[a-z0-9.-]+\.(test|example|invalid|localhost|example\.com|example\.net|example\.org)$`)
)

// Validate checks the profile against tax (the base taxonomy; the
// profile's own Taxonomy extension is applied for its tenant) and returns
// a *ValidationError listing every problem, or nil.
func (p *Profile) Validate(tax *taxonomy.Taxonomy) error {
	c := &checker{p: p, tax: tax}
	c.run()
	if len(c.problems) == 0 {
		return nil
	}
	name := p.Tenant
	if name == "" {
		name = "(no tenant)"
	}
	for i := range c.problems {
		c.problems[i].Line = lineOf(p.root, c.problems[i].Path)
	}
	return &ValidationError{Profile: name, Problems: c.problems}
}

// checker accumulates the problems of one profile.
type checker struct {
	p        *Profile
	tax      *taxonomy.Taxonomy
	problems []Problem

	segments, interactions, systems, sources, recipients, consents map[string]bool
	triggers                                                       map[string]bool
	ids                                                            map[string]string // practice id -> path
}

func (c *checker) fail(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func at(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func (c *checker) run() {
	p := c.p
	switch {
	case p.Tenant == "":
		c.fail("tenant", "is required")
	case !tenantPattern.MatchString(p.Tenant):
		c.fail("tenant", "%q must be 1-64 characters of a-z, 0-9, _ and -", p.Tenant)
	}
	c.required("name", p.Name)
	c.required("policy", p.Policy)
	c.country("country", p.Country, true)
	if p.Taxonomy != nil {
		if c.tax == nil {
			c.fail("taxonomy", "cannot be checked without a base taxonomy")
		} else if ext, err := c.tax.WithExtension(orDefault(p.Tenant, "default"), *p.Taxonomy); err != nil {
			c.fail("taxonomy", "%v", err)
		} else {
			c.tax = ext
		}
	}
	if c.tax == nil {
		c.fail("", "Validate needs the taxonomy")
		return
	}
	c.identity()
	c.lifecycle()
	c.index()
	c.interactionList()
	for i, s := range p.Sources {
		path := at("sources", i)
		c.term(path+".kind", taxonomy.SourceKinds, s.Kind, true)
		c.required(path+".name", s.Name)
	}
	for i, r := range p.Recipients {
		path := at("recipients", i)
		c.required(path+".name", r.Name)
		c.term(path+".kind", taxonomy.RecipientKinds, r.Kind, true)
		c.term(path+".role", taxonomy.RecipientRoles, r.Role, true)
		c.country(path+".country", r.Country, false)
	}
	for i, s := range p.Systems {
		c.country(at("systems", i)+".country", s.Country, false)
	}
	for i := range p.Collections {
		c.collection(at("collections", i), &p.Collections[i], false)
	}
	for i := range p.Disclosures {
		c.disclosure(at("disclosures", i), &p.Disclosures[i], false)
	}
	for i := range p.Processing {
		c.activity(at("processing", i), &p.Processing[i], false)
	}
	for i := range p.Transfers {
		c.transfer(at("transfers", i), &p.Transfers[i])
	}
	for i := range p.Consents {
		c.consent(at("consents", i), &p.Consents[i], false)
	}
	for i := range p.Corrections {
		c.correction(at("corrections", i), &p.Corrections[i])
	}
	for i := range p.Erasures {
		c.erasure(at("erasures", i), &p.Erasures[i])
	}
	for i := range p.Retention {
		c.retention(at("retention", i), &p.Retention[i])
	}
	v := &p.Violations
	for i := range v.Collections {
		c.collection(at("violations.collections", i), &v.Collections[i], true)
	}
	for i := range v.Disclosures {
		c.disclosure(at("violations.disclosures", i), &v.Disclosures[i], true)
	}
	for i := range v.Processing {
		c.activity(at("violations.processing", i), &v.Processing[i], true)
	}
	for i := range v.Consents {
		c.consent(at("violations.consents", i), &v.Consents[i], true)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *checker) required(path, v string) {
	if strings.TrimSpace(v) == "" {
		c.fail(path, "is required")
	}
}

func (c *checker) country(path, v string, required bool) {
	switch {
	case v == "" && required:
		c.fail(path, "is required (an ISO 3166-1 alpha-2 code such as US)")
	case v != "" && !countryPattern.MatchString(v):
		c.fail(path, "%q is not an ISO 3166-1 alpha-2 code (two capital letters such as US)", v)
	}
}

func (c *checker) share(path string, v float64) {
	if v < 0 || v > 1 {
		c.fail(path, "%v is not a share between 0 and 1", v)
	}
}

// term checks a taxonomy key, suggesting the closest known one.
func (c *checker) term(path string, list taxonomy.List, key string, required bool) {
	if key == "" {
		if required {
			c.fail(path, "is required (a key of the taxonomy's %s)", list)
		}
		return
	}
	ok, suggestion := c.tax.Lookup(orDefault(c.p.Tenant, "default"), list, key)
	if ok {
		return
	}
	if suggestion != "" {
		c.fail(path, "unknown %s %q (did you mean %q?)", singular(list), key, suggestion)
		return
	}
	c.fail(path, "unknown %s %q", singular(list), key)
}

func singular(l taxonomy.List) string {
	switch l {
	case taxonomy.Categories:
		return "category"
	case taxonomy.Purposes:
		return "purpose"
	case taxonomy.SourceKinds:
		return "source kind"
	case taxonomy.RecipientKinds:
		return "recipient kind"
	case taxonomy.RecipientRoles:
		return "recipient role"
	case taxonomy.DisclosureTypes:
		return "disclosure type"
	case taxonomy.LegalBases:
		return "legal basis"
	case taxonomy.ConsentChoices:
		return "consent choice"
	case taxonomy.ConsentMechanisms:
		return "consent mechanism"
	case taxonomy.ErasureReasons:
		return "erasure reason"
	case taxonomy.TransferMechanisms:
		return "transfer mechanism"
	}
	return string(l)
}

func (c *checker) terms(path string, list taxonomy.List, keys []string, required bool) {
	if len(keys) == 0 && required {
		c.fail(path, "needs at least one %s", singular(list))
	}
	for i, k := range keys {
		c.term(at(path, i), list, k, true)
	}
}

// ref checks a reference to a key of one of the profile's own lists.
func (c *checker) ref(path, what string, known map[string]bool, key string, required bool) {
	switch {
	case key == "" && required:
		c.fail(path, "is required (a key of %s)", what)
	case key != "" && !known[key]:
		c.fail(path, "%q is not a key of %s (known: %s)", key, what, strings.Join(sortedKeys(known), ", "))
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (c *checker) identity() {
	id := c.p.Identity
	switch id.AccountID {
	case "":
		c.fail("identity.account_id", "is required: customer_id, user_id or account_id")
	case "customer_id", "user_id", "account_id":
	default:
		c.fail("identity.account_id", "%q must be customer_id, user_id or account_id", id.AccountID)
	}
	c.required("identity.prefix", id.Prefix)
	if !phonePattern.MatchString(id.Phone) {
		c.fail("identity.phone", "%q must be a country calling code such as +1", id.Phone)
	}
	if !sitePattern.MatchString(id.Site) {
		c.fail("identity.site", "%q must be an https origin under a reserved domain (.test, .example, example.com …), e.g. https://shop.acme.test", id.Site)
	}
	if _, ok := poolFor(id.Names); !ok {
		c.fail("identity.names", "%q must be one of %s", id.Names, strings.Join(poolNames(), ", "))
	}
}

func (c *checker) lifecycle() {
	l := c.p.Lifecycle
	c.share("lifecycle.signup", l.Signup)
	c.share("lifecycle.mobile", l.Mobile)
	c.share("lifecycle.account_closure", l.AccountClosure)
	c.share("lifecycle.deletion_request", l.DeletionRequest)
	c.share("lifecycle.correction", l.Correction)
	if l.MaxDevices < 0 || l.MaxDevices > 5 {
		c.fail("lifecycle.max_devices", "%d must be between 1 and 5 (0 means 1)", l.MaxDevices)
	}
	if l.VisitsPerMonth < 0 || l.VisitsPerMonth > 100 {
		c.fail("lifecycle.visits_per_month", "%v must be between 0 and 100", l.VisitsPerMonth)
	}
	if l.LoginsPerMonth < 0 || l.LoginsPerMonth > 100 {
		c.fail("lifecycle.logins_per_month", "%v must be between 0 and 100", l.LoginsPerMonth)
	}
	if l.Correction > 0 && len(c.p.Corrections) == 0 {
		c.fail("lifecycle.correction", "people correct things but the profile lists no corrections")
	}
}

// unique records key in seen, reporting a missing, malformed or duplicate key.
func (c *checker) unique(path string, seen map[string]bool, key string) {
	switch {
	case key == "":
		c.fail(path, "is required")
	case !keyPattern.MatchString(key):
		c.fail(path, "%q must be lower case letters, digits, _, . and -", key)
	case seen[key]:
		c.fail(path, "%q is used twice", key)
	}
	seen[key] = true
}

// index collects the keys practices refer to.
func (c *checker) index() {
	p := c.p
	c.segments, c.interactions, c.systems = map[string]bool{}, map[string]bool{}, map[string]bool{}
	c.sources, c.recipients, c.consents = map[string]bool{}, map[string]bool{}, map[string]bool{}
	c.ids = map[string]string{}
	for i, s := range p.Segments {
		c.unique(at("segments", i)+".key", c.segments, s.Key)
		c.share(at("segments", i)+".share", s.Share)
	}
	for i, s := range p.Systems {
		c.unique(at("systems", i)+".key", c.systems, s.Key)
	}
	for i, s := range p.Sources {
		c.unique(at("sources", i)+".key", c.sources, s.Key)
	}
	for i, r := range p.Recipients {
		c.unique(at("recipients", i)+".key", c.recipients, r.Key)
	}
	c.triggers = map[string]bool{}
	for _, t := range BuiltinTriggers() {
		c.triggers[t] = true
	}
	for i, in := range p.Interactions {
		path := at("interactions", i) + ".key"
		if c.triggers[in.Key] {
			c.fail(path, "%q is a built-in trigger; choose another key", in.Key)
		}
		c.unique(path, c.interactions, in.Key)
		c.triggers[in.Key] = true
	}
	consents := func(list string, cs []Consent) {
		for i, cn := range cs {
			path := at(list, i) + ".id"
			if c.triggers[cn.ID] && !c.consents[cn.ID] {
				c.fail(path, "%q is already a trigger (built-in or interaction); choose another id", cn.ID)
			}
			c.unique(path, c.consents, cn.ID)
			c.triggers[cn.ID] = true
		}
	}
	consents("consents", p.Consents)
	consents("violations.consents", p.Violations.Consents)
}

func (c *checker) interactionList() {
	for i, in := range c.p.Interactions {
		path := at("interactions", i)
		if in.PerMonth <= 0 || in.PerMonth > 100 {
			c.fail(path+".per_month", "%v must be more than 0 and at most 100", in.PerMonth)
		}
		switch in.Audience {
		case "", AudienceCustomers, AudienceEveryone:
		default:
			c.fail(path+".audience", "%q must be %s or %s", in.Audience, AudienceCustomers, AudienceEveryone)
		}
		c.ref(path+".segment", "segments", c.segments, in.Segment, false)
	}
}

// when checks the common fields of a practice.
func (c *checker) when(path string, w *When, violation, endings bool) {
	if _, dup := c.ids[w.ID]; dup && w.ID != "" {
		c.fail(path+".id", "%q is used twice (first at %s)", w.ID, c.ids[w.ID])
	} else if w.ID == "" {
		c.fail(path+".id", "is required")
	} else if !keyPattern.MatchString(w.ID) {
		c.fail(path+".id", "%q must be lower case letters, digits, _, . and -", w.ID)
	} else {
		c.ids[w.ID] = path
	}
	c.on(path+".on", w.On, endings)
	c.ref(path+".segment", "segments", c.segments, w.Segment, false)
	if w.Chance < 0 || w.Chance > 1 {
		c.fail(path+".chance", "%v is not a probability between 0 and 1 (0 or absent means 1)", w.Chance)
	}
	c.terms(path+".stops_on", taxonomy.ConsentChoices, w.StopsOn, false)
	c.violates(path, w.Violates, violation)
}

func (c *checker) violates(path, quote string, violation bool) {
	switch {
	case violation && strings.TrimSpace(quote) == "":
		c.fail(path+".violates", "is required in violations: quote the policy passage the practice contradicts")
	case !violation && quote != "":
		c.fail(path+".violates", "belongs only to practices under violations")
	}
}

// on checks a trigger list. Practices other than erasures must not happen
// on the end of a person's relationship with the business.
func (c *checker) on(path string, on Triggers, endings bool) {
	if len(on) == 0 {
		c.fail(path, "needs at least one trigger (built-in: %s; or an interaction key or consent id)", strings.Join(BuiltinTriggers(), ", "))
	}
	for i, t := range on {
		p := at(path, i)
		if len(on) == 1 {
			p = path
		}
		switch {
		case !c.triggers[t]:
			c.fail(p, "unknown trigger %q (known: %s)", t, strings.Join(sortedKeys(c.triggers), ", "))
		case !endings && (t == TriggerAccountClosed || t == TriggerDeletionRequest):
			c.fail(p, "only erasures happen on %s: nothing else happens once a person has left", t)
		}
	}
}

func (c *checker) elements(path string, els []Element, required bool) {
	if len(els) == 0 && required {
		c.fail(path, "needs at least one element")
	}
	seen := map[elementKey]bool{}
	for i, el := range els {
		p := at(path, i)
		c.required(p+".name", el.Name)
		c.term(p+".category", taxonomy.Categories, el.Category, true)
		key := elementKey{el.Name, el.Category}
		if seen[key] {
			c.fail(p, "element %s (%s) is listed twice", el.Name, el.Category)
		}
		seen[key] = true
	}
}

func (p *Profile) source(key string) (Source, bool) {
	for _, s := range p.Sources {
		if s.Key == key {
			return s, true
		}
	}
	return Source{}, false
}

func (p *Profile) recipient(key string) (Recipient, bool) {
	for _, r := range p.Recipients {
		if r.Key == key {
			return r, true
		}
	}
	return Recipient{}, false
}
