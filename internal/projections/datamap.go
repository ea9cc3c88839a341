package projections

import (
	"cmp"
	"slices"

	"github.com/custodyhq/custody/internal/event"
)

// Flow says which question a data map row answers.
type Flow string

// Data map flows.
const (
	// FlowCollected: a category came in from a kind of source for a
	// purpose (data.collected; data.processed outputs with source kind
	// "inferred"). Recipient fields are empty.
	FlowCollected Flow = "collected"
	// FlowDisclosed: a category went out to a kind of recipient, in a role,
	// as a disclosure type, for a purpose (data.shared). SourceKind is empty:
	// a disclosure does not say where the data came from.
	FlowDisclosed Flow = "disclosed"
)

// DataMapRow is one combination the events of a window show, with the number
// of distinct people it concerns. A row per purpose: an event with two
// purposes counts towards two rows; an event without purposes towards one
// row with an empty Purpose.
type DataMapRow struct {
	Flow          Flow
	Category      string
	SourceKind    string
	Purpose       string
	RecipientKind string
	RecipientRole string
	Disclosure    string
	People        int
}

// DataMap returns tenant's data map over window w, sorted by every field but
// People in declaration order. People are counted as resolved from all
// events, inside the window or not.
func (p *Projector) DataMap(tenant string, w Window) []DataMapRow {
	t := p.tenants[tenant]
	if t == nil {
		return nil
	}
	g := p.ids.tenants[tenant]
	people := map[DataMapRow]set[PersonID]{}
	count := func(row DataMapRow, person PersonID, purposes []string) {
		if len(purposes) == 0 {
			purposes = []string{""}
		}
		for _, pu := range purposes {
			row.Purpose = pu
			s := people[row]
			if s == nil {
				s = set[PersonID]{}
				people[row] = s
			}
			s.add(person)
		}
	}
	for _, rec := range t.all {
		e := rec.Event
		if !w.Contains(e.Time) {
			continue
		}
		person := g.person(g.index[rec.Identifiers[0]])
		switch d := e.Data.(type) {
		case *event.Collected:
			for _, el := range d.Elements {
				count(DataMapRow{Flow: FlowCollected, Category: el.Category, SourceKind: d.Origin.Kind}, person, d.Purposes)
			}
		case *event.Processed:
			for _, el := range d.Outputs {
				count(DataMapRow{Flow: FlowCollected, Category: el.Category, SourceKind: SourceInferred}, person, d.Purposes)
			}
		case *event.Shared:
			for _, el := range d.Elements {
				count(DataMapRow{Flow: FlowDisclosed, Category: el.Category, RecipientKind: d.Recipient.Kind,
					RecipientRole: d.Recipient.Role, Disclosure: d.Disclosure}, person, d.Purposes)
			}
		}
	}
	out := make([]DataMapRow, 0, len(people))
	for row, s := range people {
		row.People = len(s)
		out = append(out, row)
	}
	slices.SortFunc(out, compareRows)
	if len(out) == 0 {
		return nil
	}
	return out
}

// CompareDataMapRows orders data map rows as DataMap returns them: by every
// field but People, in declaration order.
func CompareDataMapRows(a, b DataMapRow) int { return compareRows(a, b) }

func compareRows(a, b DataMapRow) int {
	return cmp.Or(cmp.Compare(a.Flow, b.Flow), cmp.Compare(a.Category, b.Category), cmp.Compare(a.SourceKind, b.SourceKind),
		cmp.Compare(a.Purpose, b.Purpose), cmp.Compare(a.RecipientKind, b.RecipientKind),
		cmp.Compare(a.RecipientRole, b.RecipientRole), cmp.Compare(a.Disclosure, b.Disclosure))
}
