package report

import (
	"maps"
	"slices"

	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// disclosedList accumulates one of the per-category disclosure lists, by
// statutory letter.
type disclosedList map[string]*disclosedAcc

type disclosedAcc struct {
	stat       taxonomy.StatutoryCategory
	cats       map[string]bool
	recipients map[string]*recipientAcc // by recipient kind
	purposes   map[string]bool
}

type recipientAcc struct {
	disclosures, roles map[string]bool
}

// add records that data category c went to d's recipient, under each of
// c's statutory categories.
func (l disclosedList) add(c taxonomy.Category, d projections.Disclosure) {
	for _, s := range c.StatutoryCategories() {
		a := l[s.Letter]
		if a == nil {
			a = &disclosedAcc{stat: s, cats: map[string]bool{}, recipients: map[string]*recipientAcc{}, purposes: map[string]bool{}}
			l[s.Letter] = a
		}
		a.cats[c.Key] = true
		ra := a.recipients[d.Kind]
		if ra == nil {
			ra = &recipientAcc{disclosures: map[string]bool{}, roles: map[string]bool{}}
			a.recipients[d.Kind] = ra
		}
		ra.disclosures[d.Disclosure] = true
		ra.roles[d.Role] = true
		for _, p := range d.Purposes {
			a.purposes[p] = true
		}
	}
}

// disclosures splits the record's disclosures into sold or shared
// (sale, sharing), for a business purpose, and other (at the person's
// direction, legal requirement, merger); each by statutory category, as
// Cal. Civ. Code 1798.130(a)(4)(B) and (C) require the first two apart.
func (b *builder) disclosures(rec projections.Record) (sold, business, other []DisclosedCategory) {
	lists := map[string]disclosedList{"sold": {}, "business": {}, "other": {}}
	for _, d := range rec.Disclosures {
		dt, ok := b.tax.Disclosure(b.tenant, d.Disclosure)
		if !ok {
			b.fail("record", "disclosure type %q is not in tenant %q's taxonomy; the report cannot name it", d.Disclosure, b.tenant)
			continue
		}
		list := lists["other"]
		switch {
		case dt.SoldOrShared:
			list = lists["sold"]
		case dt.Key == "business_purpose":
			list = lists["business"]
		}
		for _, key := range d.Categories {
			if c, ok := b.category(key); ok {
				list.add(c, d)
			}
		}
	}
	return b.renderDisclosed(lists["sold"]), b.renderDisclosed(lists["business"]), b.renderDisclosed(lists["other"])
}

func (b *builder) renderDisclosed(l disclosedList) []DisclosedCategory {
	out := []DisclosedCategory{}
	for _, letter := range slices.Sorted(maps.Keys(l)) {
		a := l[letter]
		dc := DisclosedCategory{Letter: letter, Name: a.stat.Name, Sensitive: letter == "L",
			DataCategories: b.catTerms(sortedKeys(a.cats)), Purposes: sortedKeys(a.purposes), Recipients: []RecipientCategory{}}
		for _, kind := range slices.Sorted(maps.Keys(a.recipients)) {
			ra := a.recipients[kind]
			dc.Recipients = append(dc.Recipients, RecipientCategory{Term: b.term(taxonomy.RecipientKinds, kind),
				Disclosures: b.shorts(taxonomy.DisclosureTypes, sortedKeys(ra.disclosures)),
				Roles:       b.shorts(taxonomy.RecipientRoles, sortedKeys(ra.roles))})
		}
		out = append(out, dc)
	}
	return out
}
