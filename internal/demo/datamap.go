package demo

import (
	"cmp"
	"slices"

	"github.com/custodyhq/custody/internal/projections"
)

// DataMap returns the data map rows the profile declares: each collected
// category by source kind and purpose (derived outputs with source kind
// "inferred"), and each disclosed category by recipient kind, role,
// disclosure type and purpose. People is 0. Violations are not included;
// see ViolationMap. Rows are sorted and distinct.
//
// A data map built from the profile's events holds exactly these rows and
// those of ViolationMap: anything else is drift the profile did not model.
func (p *Profile) DataMap() []projections.DataMapRow {
	return rows(p.sourceKinds(), p.recipientsByKey(), p.Collections, p.Processing, p.Disclosures)
}

// ViolationMap returns the data map rows of the profile's violations that
// its declared practices do not already produce.
func (p *Profile) ViolationMap() []projections.DataMapRow {
	v := p.Violations
	all := rows(p.sourceKinds(), p.recipientsByKey(), v.Collections, v.Processing, v.Disclosures)
	declared := p.DataMap()
	return slices.DeleteFunc(all, func(r projections.DataMapRow) bool {
		_, found := slices.BinarySearchFunc(declared, r, compareRows)
		return found
	})
}

func (p *Profile) sourceKinds() map[string]string {
	m := make(map[string]string, len(p.Sources))
	for _, s := range p.Sources {
		m[s.Key] = s.Kind
	}
	return m
}

func (p *Profile) recipientsByKey() map[string]Recipient {
	m := make(map[string]Recipient, len(p.Recipients))
	for _, r := range p.Recipients {
		m[r.Key] = r
	}
	return m
}

func rows(kinds map[string]string, recipients map[string]Recipient, cols []Collection, acts []Activity, dis []Disclosure) []projections.DataMapRow {
	set := map[projections.DataMapRow]bool{}
	for _, c := range cols {
		for _, key := range c.sourceKeys() {
			for _, el := range c.Elements {
				for _, pu := range c.Purposes {
					set[projections.DataMapRow{Flow: projections.FlowCollected, Category: el.Category, SourceKind: kinds[key], Purpose: pu}] = true
				}
			}
		}
	}
	for _, a := range acts {
		for _, el := range a.Outputs {
			for _, pu := range a.Purposes {
				set[projections.DataMapRow{Flow: projections.FlowCollected, Category: el.Category, SourceKind: projections.SourceInferred, Purpose: pu}] = true
			}
		}
	}
	for _, d := range dis {
		r := recipients[d.Recipient]
		for _, el := range d.Elements {
			for _, pu := range d.Purposes {
				set[projections.DataMapRow{Flow: projections.FlowDisclosed, Category: el.Category, Purpose: pu,
					RecipientKind: r.Kind, RecipientRole: r.Role, Disclosure: d.Disclosure}] = true
			}
		}
	}
	out := make([]projections.DataMapRow, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	slices.SortFunc(out, compareRows)
	return out
}

// compareRows orders rows as projections.DataMap does.
func compareRows(a, b projections.DataMapRow) int {
	return cmp.Or(cmp.Compare(a.Flow, b.Flow), cmp.Compare(a.Category, b.Category), cmp.Compare(a.SourceKind, b.SourceKind),
		cmp.Compare(a.Purpose, b.Purpose), cmp.Compare(a.RecipientKind, b.RecipientKind),
		cmp.Compare(a.RecipientRole, b.RecipientRole), cmp.Compare(a.Disclosure, b.Disclosure))
}
