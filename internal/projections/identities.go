package projections

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// PersonID names a person within a tenant: the key (identity.Ref.String) of
// the person's smallest identifier (see compareRefs). It changes only when the
// person merges with someone whose smallest identifier is smaller.
type PersonID string

// Merge records that an event joined two or more people into one.
type Merge struct {
	Event  uuid.UUID // the event that named identifiers of all of them
	Time   time.Time // its time
	Former []PersonID
	Into   PersonID // the merged person right after the event
}

// Identities resolves identifiers to people: a union-find over identifier
// keys per tenant, fed one event at a time. The zero value is not usable;
// call NewIdentities.
type Identities struct {
	tenants map[string]*idGraph
	seen    map[uuid.UUID]struct{}
}

// idGraph is one tenant's identifiers. root is kept exact for every node
// (the smaller component is relabelled on union), so reads never write.
type idGraph struct {
	index   map[identity.Ref]int
	byKey   map[PersonID]int // Ref.String() -> node
	refs    []identity.Ref
	root    []int
	members map[int][]int // root -> its nodes
	min     map[int]int   // root -> its smallest node
	events  []linkEvent   // every applied event, for Merges
}

type linkEvent struct {
	id    uuid.UUID
	time  time.Time
	nodes []int
}

// NewIdentities returns an empty identity graph.
func NewIdentities() *Identities {
	return &Identities{tenants: map[string]*idGraph{}, seen: map[uuid.UUID]struct{}{}}
}

// Apply adds an event's identifiers as one person. It reports whether the
// event was new: duplicates (by id), request.* events and events without
// identifiers are ignored.
func (ids *Identities) Apply(rec event.Recorded) bool {
	if !relevant(rec) {
		return false
	}
	if _, dup := ids.seen[rec.Event.ID]; dup {
		return false
	}
	ids.seen[rec.Event.ID] = struct{}{}
	g := ids.graph(tenantOf(rec.Event))
	nodes := make([]int, 0, len(rec.Identifiers))
	for _, r := range rec.Identifiers {
		nodes = append(nodes, g.node(r))
	}
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	for _, n := range nodes[1:] {
		g.union(nodes[0], n)
	}
	g.events = append(g.events, linkEvent{id: rec.Event.ID, time: rec.Event.Time, nodes: nodes})
	return true
}

// relevant reports whether projections use the event at all.
func relevant(rec event.Recorded) bool {
	return rec.Event != nil && !rec.Event.Type.Internal() && len(rec.Identifiers) > 0
}

func tenantOf(e *event.Event) string {
	if e.Tenant == "" {
		return event.DefaultTenant
	}
	return e.Tenant
}

func (ids *Identities) graph(tenant string) *idGraph {
	g := ids.tenants[tenant]
	if g == nil {
		g = &idGraph{index: map[identity.Ref]int{}, byKey: map[PersonID]int{}, members: map[int][]int{}, min: map[int]int{}}
		ids.tenants[tenant] = g
	}
	return g
}

// node returns r's node, adding it as a person of its own if new.
func (g *idGraph) node(r identity.Ref) int {
	if n, ok := g.index[r]; ok {
		return n
	}
	n := len(g.refs)
	g.index[r] = n
	g.byKey[PersonID(r.String())] = n
	g.refs = append(g.refs, r)
	g.root = append(g.root, n)
	g.members[n] = []int{n}
	g.min[n] = n
	return n
}

func (g *idGraph) union(a, b int) {
	ra, rb := g.root[a], g.root[b]
	if ra == rb {
		return
	}
	if len(g.members[ra]) < len(g.members[rb]) {
		ra, rb = rb, ra
	}
	for _, m := range g.members[rb] {
		g.root[m] = ra
	}
	g.members[ra] = append(g.members[ra], g.members[rb]...)
	if compareRefs(g.refs[g.min[rb]], g.refs[g.min[ra]]) < 0 {
		g.min[ra] = g.min[rb]
	}
	delete(g.members, rb)
	delete(g.min, rb)
}

func (g *idGraph) person(n int) PersonID { return PersonID(g.refs[g.min[g.root[n]]].String()) }

// resolve finds the root of the person whose identifier key is id.
func (g *idGraph) resolve(id PersonID) (int, bool) {
	if g == nil {
		return 0, false
	}
	n, ok := g.byKey[id]
	if !ok {
		return 0, false
	}
	return g.root[n], true
}

func (g *idGraph) identifiers(root int) []identity.Ref {
	out := make([]identity.Ref, 0, len(g.members[root]))
	for _, m := range g.members[root] {
		out = append(out, g.refs[m])
	}
	slices.SortFunc(out, compareRefs)
	return out
}

// PersonOf returns the person an identifier belongs to in tenant.
func (ids *Identities) PersonOf(tenant string, ref identity.Ref) (PersonID, bool) {
	g := ids.tenants[tenant]
	if g == nil {
		return "", false
	}
	n, ok := g.index[ref]
	if !ok {
		return "", false
	}
	return g.person(n), true
}

// Resolve returns the current PersonID of the person that id names: id
// itself, or, if id is a former PersonID (or any identifier key) of someone
// since merged, the merged person.
func (ids *Identities) Resolve(tenant string, id PersonID) (PersonID, bool) {
	g := ids.tenants[tenant]
	r, ok := g.resolve(id)
	if !ok {
		return "", false
	}
	return g.person(r), true
}

// Identifiers returns every identifier of the person id names, sorted.
func (ids *Identities) Identifiers(tenant string, id PersonID) []identity.Ref {
	g := ids.tenants[tenant]
	r, ok := g.resolve(id)
	if !ok {
		return nil
	}
	return g.identifiers(r)
}

// Persons returns every person of tenant, sorted.
func (ids *Identities) Persons(tenant string) []PersonID {
	g := ids.tenants[tenant]
	if g == nil {
		return nil
	}
	out := make([]PersonID, 0, len(g.min))
	for _, m := range g.min {
		out = append(out, PersonID(g.refs[m].String()))
	}
	slices.Sort(out)
	return out
}

// Tenants returns every tenant with at least one identifier, sorted.
func (ids *Identities) Tenants() []string {
	out := make([]string, 0, len(ids.tenants))
	for t := range ids.tenants {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Merges returns tenant's merge history: the events replayed in (time, id)
// order, one Merge per event that named identifiers of two or more people
// already known at that point (Former sorted). Identifiers first seen in
// that event join silently. The result depends only on the set of events.
func (ids *Identities) Merges(tenant string) []Merge {
	g := ids.tenants[tenant]
	if g == nil {
		return nil
	}
	evs := slices.Clone(g.events)
	slices.SortFunc(evs, func(a, b linkEvent) int { return compareEvents(a.time, a.id, b.time, b.id) })
	// A fresh union-find, in event-time order (path halving is fine here:
	// it is local to this call).
	parent := make([]int, len(g.refs))
	minOf := make([]int, len(g.refs))
	known := make([]bool, len(g.refs))
	for i := range parent {
		parent[i], minOf[i] = i, i
	}
	find := func(n int) int {
		for parent[n] != n {
			parent[n] = parent[parent[n]]
			n = parent[n]
		}
		return n
	}
	pid := func(root int) PersonID { return PersonID(g.refs[minOf[root]].String()) }
	var out []Merge
	for _, e := range evs {
		var former []PersonID
		for _, n := range e.nodes {
			if known[n] {
				if p := pid(find(n)); !slices.Contains(former, p) {
					former = append(former, p)
				}
			}
		}
		for _, n := range e.nodes[1:] {
			ra, rb := find(e.nodes[0]), find(n)
			if ra != rb {
				parent[rb] = ra
				if compareRefs(g.refs[minOf[rb]], g.refs[minOf[ra]]) < 0 {
					minOf[ra] = minOf[rb]
				}
			}
		}
		for _, n := range e.nodes {
			known[n] = true
		}
		if len(former) > 1 {
			slices.Sort(former)
			out = append(out, Merge{Event: e.id, Time: e.time, Former: former, Into: pid(find(e.nodes[0]))})
		}
	}
	return out
}

// compareRefs orders identifiers: by kind in identity.Kinds order (unknown
// kinds last, by name), then namespace, then hash.
func compareRefs(a, b identity.Ref) int {
	if c := cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Hash, b.Hash))
}

func kindRank(k identity.Kind) int {
	if i := slices.Index(identity.Kinds(), k); i >= 0 {
		return i
	}
	return len(identity.Kinds())
}

// compareEvents orders events by time, then id.
func compareEvents(at time.Time, aid uuid.UUID, bt time.Time, bid uuid.UUID) int {
	if c := at.Compare(bt); c != 0 {
		return c
	}
	return bytes.Compare(aid[:], bid[:])
}
