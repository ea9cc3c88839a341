package projections

import (
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// Projector holds the events of the log, deduplicated by id and indexed by
// person, and answers Record and DataMap from them. Apply events in any
// order, any number of times: the answers depend only on the set of events.
// The zero value is not usable; call NewProjector or Rebuild.
type Projector struct {
	ids     *Identities
	tenants map[string]*tenantEvents
}

type tenantEvents struct {
	// byNode holds each event under the node of its first identifier: all
	// of an event's identifiers are one person, so gathering over a
	// person's nodes finds each of their events exactly once.
	byNode map[int][]*event.Recorded
	all    []*event.Recorded
}

// NewProjector returns an empty Projector.
func NewProjector() *Projector {
	return &Projector{ids: NewIdentities(), tenants: map[string]*tenantEvents{}}
}

// Rebuild folds recs into a new Projector.
func Rebuild(recs []event.Recorded) *Projector {
	p := NewProjector()
	for _, rec := range recs {
		p.Apply(rec)
	}
	return p
}

// Apply folds one event in and reports whether it was new. Duplicates (by
// id), request.* events and events without identifiers are ignored. The
// Projector keeps rec.Event: do not modify it afterwards.
func (p *Projector) Apply(rec event.Recorded) bool {
	if !p.ids.Apply(rec) {
		return false
	}
	tenant := tenantOf(rec.Event)
	t := p.tenants[tenant]
	if t == nil {
		t = &tenantEvents{byNode: map[int][]*event.Recorded{}}
		p.tenants[tenant] = t
	}
	r := &rec
	n := p.ids.tenants[tenant].index[rec.Identifiers[0]]
	t.byNode[n] = append(t.byNode[n], r)
	t.all = append(t.all, r)
	return true
}

// Identities returns the identity graph. It belongs to the Projector: read
// it, do not Apply to it.
func (p *Projector) Identities() *Identities { return p.ids }

// PersonOf returns the person an identifier belongs to in tenant.
func (p *Projector) PersonOf(tenant string, ref identity.Ref) (PersonID, bool) {
	return p.ids.PersonOf(tenant, ref)
}

// Persons returns every person of tenant, sorted.
func (p *Projector) Persons(tenant string) []PersonID { return p.ids.Persons(tenant) }

// Record returns the record of the person person names (a current or former
// PersonID) over window w. It reports false if tenant has no such person.
func (p *Projector) Record(tenant string, person PersonID, w Window) (Record, bool) {
	g := p.ids.tenants[tenant]
	root, ok := g.resolve(person)
	if !ok {
		return Record{}, false
	}
	b := newRecordBuilder()
	t := p.tenants[tenant]
	for _, n := range g.members[root] {
		for _, rec := range t.byNode[n] {
			if w.Contains(rec.Event.Time) {
				b.add(rec)
			}
		}
	}
	r := b.record()
	r.Tenant, r.Person, r.Identifiers, r.Window = tenant, g.person(root), g.identifiers(root), w
	return r, true
}
