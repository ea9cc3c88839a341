package report

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// Build makes the report of in.Record. It checks the input first and
// returns every problem found, each a *FieldError naming the field (and
// wrapping ErrInvalidInput); a term of the record missing from the taxonomy
// is such a problem too, since the report could not name it.
func Build(in Input) (Report, error) {
	tenant := in.Record.Tenant
	if tenant == "" {
		tenant = event.DefaultTenant
	}
	if err := in.validate(tenant); err != nil {
		return Report{}, err
	}
	b := &builder{in: in, tax: in.Taxonomy, tenant: tenant, cats: map[string]taxonomy.Category{}}
	r := b.report()
	if len(b.errs) > 0 {
		return Report{}, errors.Join(b.errs...)
	}
	return r, nil
}

// builder makes one report; it records every problem it meets in errs
// rather than stopping at the first.
type builder struct {
	in     Input
	tax    *taxonomy.Taxonomy
	tenant string
	cats   map[string]taxonomy.Category
	errs   []error
}

func (b *builder) fail(field, format string, args ...any) {
	b.errs = append(b.errs, fieldErr(field, format, args...))
}

// category returns a data category, recording an error if it is unknown.
func (b *builder) category(key string) (taxonomy.Category, bool) {
	if c, ok := b.cats[key]; ok {
		return c, true
	}
	c, ok := b.tax.Category(b.tenant, key)
	if !ok {
		b.fail("record", "data category %q is not in tenant %q's taxonomy; the report cannot name it", key, b.tenant)
		return taxonomy.Category{}, false
	}
	b.cats[key] = c
	return c, true
}

// term returns a taxonomy term with its description.
func (b *builder) term(list taxonomy.List, key string) Term {
	t, ok := b.tax.Term(b.tenant, list, key)
	if !ok {
		b.fail("record", "%q is not a term of %s in tenant %q's taxonomy; the report cannot name it", key, list, b.tenant)
		return Term{Key: key, Name: key}
	}
	return Term{Key: t.Key, Name: t.Name, Description: t.Description}
}

// short returns a taxonomy term without its description.
func (b *builder) short(list taxonomy.List, key string) Term {
	t := b.term(list, key)
	t.Description = ""
	return t
}

func (b *builder) report() Report {
	in, rec := b.in, b.in.Record
	r := Report{
		Schema:      SchemaID,
		GeneratedAt: in.GeneratedAt.UTC(),
		Business:    in.Business,
		Window:      Window{From: in.Window.From.UTC(), To: in.Window.To.UTC(), Default: in.Window.Default},
	}
	if r.Business.Name == "" {
		r.Business.Name = b.tenant
	}
	j, scope := in.Jurisdiction, in.Scope
	if req := in.Request; req != nil {
		j, scope = req.Jurisdiction, req.Scope()
		r.Request = requestInfo(req)
	}
	if j == "" {
		j = requests.CCPA
	}
	if scope == "" {
		scope = requests.LevelCategories
	}
	r.Jurisdiction = Term{Key: string(j), Name: j.Name()}
	r.Scope, r.ScopeNote = string(scope), scopeNote(in.Request, scope)
	r.IdentifierKinds = identifierKinds(rec.Identifiers)

	r.DataCategories = b.dataCategories(rec)
	r.Categories = b.statutory(r.DataCategories)
	r.Sources = b.sources(rec)
	r.Purposes = b.purposes(rec)
	r.SoldOrShared, r.DisclosedForBusinessPurpose, r.OtherDisclosures = b.disclosures(rec)
	r.Recipients = b.recipients(rec)
	r.SpecificPieces = []Piece{}
	if scope == requests.LevelSpecificPieces {
		r.SpecificPieces = b.pieces(rec)
	}
	r.AutomatedDecisions = b.automatedDecisions(rec)
	r.Choices = b.choices(rec)
	r.Erasures = b.erasures(rec)
	r.Corrections = b.corrections(rec)
	return r
}

func (b *builder) dataCategories(rec projections.Record) []DataCategory {
	out := []DataCategory{}
	for _, cs := range rec.Categories {
		c, ok := b.category(cs.Category)
		if !ok {
			continue
		}
		dc := DataCategory{
			Key: c.Key, Name: c.Name, Description: c.Description, Letters: c.Letters(), NeverDisclose: c.NeverDisclose,
			FirstCollected: timePtr(cs.FirstCollected), LastCollected: timePtr(cs.LastCollected),
			Sources: sourceRefs(cs.Sources), Purposes: nonNil(cs.Purposes), Retention: b.in.Retention.For(c.Key),
		}
		if c.Sensitive != "" {
			s := Sensitive{Clause: c.Sensitive}
			if sc, ok := b.tax.SensitiveClass(c.Sensitive); ok {
				s.Citation, s.Text = sc.Citation(), sc.Text
			}
			dc.Sensitive = &s
		}
		if c.GDPRSpecial != "" {
			g := Term{Key: c.GDPRSpecial, Name: c.GDPRSpecial}
			if gs, ok := b.tax.GDPRSpecial(c.GDPRSpecial); ok {
				g.Name = gs.Name + " (GDPR " + gs.Article + ")"
			}
			dc.GDPRSpecial = &g
		}
		out = append(out, dc)
	}
	return out
}

// statutory rolls data categories up into their statutory categories.
func (b *builder) statutory(dcs []DataCategory) []StatutoryCategory {
	byLetter := map[string]*StatutoryCategory{}
	for _, dc := range dcs {
		for _, s := range b.cats[dc.Key].StatutoryCategories() {
			sc := byLetter[s.Letter]
			if sc == nil {
				sc = &StatutoryCategory{Letter: s.Letter, Name: s.Name, Detail: s.Detail, Description: s.Description, Sensitive: s.Letter == "L"}
				byLetter[s.Letter] = sc
			}
			sc.DataCategories = append(sc.DataCategories, Term{Key: dc.Key, Name: dc.Name})
		}
	}
	out := []StatutoryCategory{}
	for _, l := range slices.Sorted(maps.Keys(byLetter)) {
		sc := byLetter[l]
		slices.SortFunc(sc.DataCategories, func(a, b Term) int { return cmp.Compare(a.Key, b.Key) })
		out = append(out, *sc)
	}
	return out
}

// fromYou are the source kinds that mean "collected from the person".
func fromYou(kind string) bool { return kind == "consumer" || kind == "device" }

func (b *builder) sources(rec projections.Record) []SourceCategory {
	type acc struct{ named, cats map[string]bool }
	byKind := map[string]*acc{}
	for _, cs := range rec.Categories {
		for _, s := range cs.Sources {
			a := byKind[s.Kind]
			if a == nil {
				a = &acc{named: map[string]bool{}, cats: map[string]bool{}}
				byKind[s.Kind] = a
			}
			if s.Name != "" {
				a.named[s.Name] = true
			}
			a.cats[cs.Category] = true
		}
	}
	out := []SourceCategory{}
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		a := byKind[k]
		out = append(out, SourceCategory{Term: b.term(taxonomy.SourceKinds, k), FromYou: fromYou(k),
			Named: sortedKeys(a.named), DataCategories: b.catTerms(sortedKeys(a.cats))})
	}
	return out
}

func (b *builder) purposes(rec projections.Record) []Purpose {
	cats := map[string]map[string]bool{}
	add := func(purposes []string, categories ...string) {
		for _, p := range purposes {
			if cats[p] == nil {
				cats[p] = map[string]bool{}
			}
			for _, c := range categories {
				cats[p][c] = true
			}
		}
	}
	for _, cs := range rec.Categories {
		add(cs.Purposes, cs.Category)
	}
	for _, d := range rec.Disclosures {
		add(d.Purposes, d.Categories...)
	}
	for _, a := range rec.Activities {
		add(a.Purposes, elementCategories(a.Inputs, a.Outputs)...)
	}
	out := []Purpose{}
	for key, cs := range cats {
		p, ok := b.tax.Purpose(b.tenant, key)
		if !ok {
			b.fail("record", "purpose %q is not in tenant %q's taxonomy; the report cannot name it", key, b.tenant)
			continue
		}
		out = append(out, Purpose{Term: Term{Key: p.Key, Name: p.Name, Description: p.Description}, Kind: string(p.Kind),
			Statutory: p.Statutory, DataCategories: b.catTerms(sortedKeys(cs))})
	}
	slices.SortFunc(out, func(a, b Purpose) int {
		// Business purposes (1798.140(e)) first, then commercial ones.
		return cmp.Or(cmp.Compare(purposeRank(a.Kind), purposeRank(b.Kind)), cmp.Compare(a.Key, b.Key))
	})
	return out
}

func purposeRank(kind string) int {
	if kind == string(taxonomy.BusinessPurpose) {
		return 0
	}
	return 1
}

func elementCategories(lists ...[]projections.ElementKey) []string {
	s := map[string]bool{}
	for _, l := range lists {
		for _, k := range l {
			s[k.Category] = true
		}
	}
	return sortedKeys(s)
}

func (b *builder) shorts(list taxonomy.List, keys []string) []Term {
	out := make([]Term, 0, len(keys))
	for _, k := range keys {
		out = append(out, b.short(list, k))
	}
	return out
}

// recipients lists the named recipients, one per name, kind and role.
func (b *builder) recipients(rec projections.Record) []Recipient {
	type key struct{ name, kind, role string }
	type acc struct {
		disclosures, countries, cats, purposes map[string]bool
		first, last                            time.Time
	}
	byKey := map[key]*acc{}
	for _, d := range rec.Disclosures {
		k := key{d.Recipient, d.Kind, d.Role}
		a := byKey[k]
		if a == nil {
			a = &acc{disclosures: map[string]bool{}, countries: map[string]bool{}, cats: map[string]bool{}, purposes: map[string]bool{}}
			byKey[k] = a
		}
		a.disclosures[d.Disclosure] = true
		for _, c := range d.Countries {
			a.countries[c] = true
		}
		for _, c := range d.Categories {
			a.cats[c] = true
		}
		for _, p := range d.Purposes {
			a.purposes[p] = true
		}
		if a.first.IsZero() || d.First.Before(a.first) {
			a.first = d.First
		}
		if d.Last.After(a.last) {
			a.last = d.Last
		}
	}
	out := []Recipient{}
	for k, a := range byKey {
		r := Recipient{Name: k.name, Kind: b.short(taxonomy.RecipientKinds, k.kind), Role: b.short(taxonomy.RecipientRoles, k.role),
			Disclosures: b.shorts(taxonomy.DisclosureTypes, sortedKeys(a.disclosures)), Countries: []Country{},
			DataCategories: b.catTerms(sortedKeys(a.cats)), Purposes: sortedKeys(a.purposes), First: a.first.UTC(), Last: a.last.UTC()}
		for _, c := range sortedKeys(a.countries) {
			r.Countries = append(r.Countries, Country{Code: c, Name: countryName(c)})
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Recipient) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind.Key, b.Kind.Key), cmp.Compare(a.Role.Key, b.Role.Key))
	})
	return out
}

// catTerms names data categories, keeping keys' order.
func (b *builder) catTerms(keys []string) []Term {
	out := make([]Term, 0, len(keys))
	for _, k := range keys {
		t := Term{Key: k, Name: k}
		if c, ok := b.category(k); ok {
			t.Name = c.Name
		}
		out = append(out, t)
	}
	return out
}
