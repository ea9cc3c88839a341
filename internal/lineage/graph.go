package lineage

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/custodyhq/custody/internal/event"
)

// Options configure a Graph.
type Options struct {
	// PersonOf names the person an event is about. Default: rec.SubjectKey.
	// Identity resolution (linking identifiers) is the caller's business.
	PersonOf func(rec event.Recorded) string
}

// Node is a node as of a query's time.
type Node struct {
	ID     string
	Kind   NodeKind
	Tenant string
	// Person is the person of a subject or element.
	Person string
	// Name is the element's, system's, source's (may be empty), activity's
	// or recipient's name.
	Name string
	// Category is the element's data category.
	Category string
	// Type is the source's origin kind or the recipient's kind.
	Type string
	// System is the system an activity runs in.
	System string
	// Roles and Countries are a recipient's legal roles and countries, as
	// disclosures named them (sorted).
	Roles     []string
	Countries []string
	// First is the time of the earliest event that mentions the node.
	First time.Time
	// Erased is true for an element erased from every system that held it
	// (and not stored again since); ErasedAt is when that became so.
	Erased   bool
	ErasedAt time.Time
	// ErasedFrom lists the system node IDs the element is erased from (its
	// latest fact there is an erasure), even when it is still held
	// elsewhere. An erasure that names no system counts in all of them.
	ErasedFrom []string
}

// Edge is an edge as of a query's time.
type Edge struct {
	Kind EdgeKind
	From string
	To   string
	// Via qualifies the edge: the activity node of a derived-from, the
	// origin system node of a transferred-to, the disclosure type of a
	// shared-with; empty otherwise.
	Via      string
	First    time.Time
	Last     time.Time
	EventIDs []string            // sorted, distinct
	Attrs    map[string][]string // values sorted, distinct; nil if none
}

type edgeKey struct {
	kind     EdgeKind
	from, to string
	via      string
}

type attr struct{ k, v string }

type occurrence struct {
	at    time.Time
	event string
	attrs []attr // sorted, distinct
}

type edgeState struct {
	occ []occurrence // sorted by (at, event); one per event
}

type nodeState struct {
	node      Node // static fields only
	first     time.Time
	roles     map[string]time.Time // value → earliest time
	countries map[string]time.Time
}

// scopeErasure is an erasure by categories or all, kept so that it also
// applies to elements whose events arrive later.
type scopeErasure struct {
	event      string
	at         time.Time
	system     string // system node ID; "" when the erasure names none
	all        bool
	categories []string // sorted
	attrs      []attr
}

// Graph is the lineage graph. The zero value is not usable: use New or Build.
type Graph struct {
	personOf func(event.Recorded) string

	applied  map[string]struct{}
	nodes    map[string]*nodeState
	edges    map[edgeKey]*edgeState
	out      map[string]map[edgeKey]struct{}
	in       map[string]map[edgeKey]struct{}
	elements map[string]map[string]struct{}      // subject ID → element IDs
	scopes   map[string]map[string]*scopeErasure // subject ID → event id → erasure
}

// New returns an empty graph.
func New(opts Options) *Graph {
	p := opts.PersonOf
	if p == nil {
		p = func(rec event.Recorded) string { return rec.SubjectKey }
	}
	return &Graph{
		personOf: p,
		applied:  map[string]struct{}{},
		nodes:    map[string]*nodeState{},
		edges:    map[edgeKey]*edgeState{},
		out:      map[string]map[edgeKey]struct{}{},
		in:       map[string]map[edgeKey]struct{}{},
		elements: map[string]map[string]struct{}{},
		scopes:   map[string]map[string]*scopeErasure{},
	}
}

// Build returns the graph of recs, in any order, duplicates included.
func Build(recs []event.Recorded, opts Options) *Graph {
	g := New(opts)
	for _, r := range recs {
		g.Apply(r)
	}
	return g
}

// Apply adds one event and reports whether it was new. An id seen before is
// ignored, as is an event without data. consent.changed, subject.linked and
// request.* events carry no lineage and only mark their id as seen.
func (g *Graph) Apply(rec event.Recorded) bool {
	e := rec.Event
	if e == nil || e.Data == nil {
		return false
	}
	id := e.ID.String()
	if _, ok := g.applied[id]; ok {
		return false
	}
	g.applied[id] = struct{}{}
	tenant := e.Tenant
	if tenant == "" {
		tenant = event.DefaultTenant
	}
	a := &applier{g: g, event: id, at: e.Time, tenant: tenant, person: g.personOf(rec)}
	switch d := e.Data.(type) {
	case *event.Collected:
		a.collected(d)
	case *event.Shared:
		a.shared(d)
	case *event.Processed:
		a.processed(d)
	case *event.Transferred:
		a.transferred(d)
	case *event.Corrected:
		a.corrected(d)
	case *event.Erased:
		a.erased(d)
	}
	return true
}

// Len returns the number of nodes and edges (everything, regardless of time).
func (g *Graph) Len() (nodes, edges int) { return len(g.nodes), len(g.edges) }

type applier struct {
	g      *Graph
	event  string
	at     time.Time
	tenant string
	person string
}

func (a *applier) collected(d *event.Collected) {
	src := a.node(Node{ID: SourceID(a.tenant, d.Origin.Kind, d.Origin.Name), Kind: NodeSource, Name: d.Origin.Name, Type: d.Origin.Kind})
	attrs := attrsOf(map[string][]string{AttrPurpose: d.Purposes, AttrLegalBasis: {d.LegalBasis}, AttrNotice: {d.Notice}, AttrSystem: {d.System}})
	for _, el := range d.Elements {
		e := a.element(el)
		a.edge(EdgeCollectedFrom, e, src, "", attrs)
		a.stored(e, d.System)
	}
}

func (a *applier) shared(d *event.Shared) {
	r := d.Recipient
	rid := a.node(Node{ID: RecipientID(a.tenant, r.Kind, r.Name), Kind: NodeRecipient, Name: r.Name, Type: r.Kind})
	ns := a.g.nodes[rid]
	ns.roles = earliest(ns.roles, r.Role, a.at)
	ns.countries = earliest(ns.countries, r.Country, a.at)
	attrs := attrsOf(map[string][]string{AttrPurpose: d.Purposes, AttrRole: {r.Role}, AttrCountry: {r.Country}, AttrSystem: {d.System}})
	for _, el := range d.Elements {
		e := a.element(el)
		a.edge(EdgeSharedWith, e, rid, d.Disclosure, attrs)
		a.stored(e, d.System)
	}
}

func (a *applier) processed(d *event.Processed) {
	act := a.node(Node{ID: ActivityID(a.tenant, d.System, d.Activity), Kind: NodeActivity, Name: d.Activity, System: d.System})
	purposes := attrsOf(map[string][]string{AttrPurpose: d.Purposes})
	inAttrs := purposes
	if ad := d.AutomatedDecision; ad != nil {
		v := "not_significant"
		if ad.Significant {
			v = "significant"
		}
		inAttrs = attrsOf(map[string][]string{AttrPurpose: d.Purposes, AttrAutomatedDecision: {v}})
	}
	inputs := make([]string, 0, len(d.Inputs))
	for _, el := range d.Inputs {
		e := a.element(el)
		inputs = append(inputs, e)
		a.edge(EdgeProcessedBy, e, act, "", inAttrs)
	}
	for _, el := range d.Outputs {
		o := a.element(el)
		a.edge(EdgeProducedBy, o, act, "", purposes)
		a.stored(o, d.System)
		for _, in := range inputs {
			if in != o {
				a.edge(EdgeDerivedFrom, o, in, act, purposes)
			}
		}
	}
}

func (a *applier) transferred(d *event.Transferred) {
	from := ""
	if d.FromSystem != "" {
		from = a.system(d.FromSystem)
	}
	attrs := attrsOf(map[string][]string{AttrCountry: {d.ToCountry}, AttrMechanism: {d.Mechanism}})
	for _, el := range d.Elements {
		e := a.element(el)
		a.stored(e, d.FromSystem)
		if d.ToSystem != "" {
			a.edge(EdgeTransferredTo, e, a.system(d.ToSystem), from, attrs)
			a.stored(e, d.ToSystem)
		}
	}
}

func (a *applier) corrected(d *event.Corrected) {
	attrs := attrsOf(map[string][]string{AttrSystem: {d.System}})
	for _, el := range d.Elements {
		e := a.element(el)
		a.edge(EdgeCorrected, e, e, "", attrs)
		a.stored(e, d.System)
	}
}

func (a *applier) erased(d *event.Erased) {
	attrs := attrsOf(map[string][]string{AttrReason: {d.Reason}, AttrRequestID: {d.RequestID}})
	sys := ""
	if d.System != "" {
		sys = a.system(d.System)
	}
	for _, el := range d.Elements {
		e := a.element(el)
		to := sys
		if to == "" {
			to = e
		}
		a.edge(EdgeErased, e, to, "", attrs)
	}
	if !d.All && len(d.Categories) == 0 {
		return
	}
	s := &scopeErasure{event: a.event, at: a.at, system: sys, all: d.All, attrs: attrs}
	if !d.All {
		s.categories = slices.Clone(d.Categories)
		slices.Sort(s.categories)
		s.categories = slices.Compact(s.categories)
	}
	subj := SubjectID(a.tenant, a.person)
	if a.g.scopes[subj] == nil {
		a.g.scopes[subj] = map[string]*scopeErasure{}
	}
	a.g.scopes[subj][a.event] = s
	for _, e := range sortedKeys(a.g.elements[subj]) {
		a.g.applyScope(s, e)
	}
}

// applyScope records s as an erasure of element e if e is of a category s
// covers and was stored in s's system (any, when s names none) at or before
// s's time. It depends only on facts that never go away, so the result is
// the same whichever arrives first.
func (g *Graph) applyScope(s *scopeErasure, e string) {
	ns := g.nodes[e]
	if !s.all {
		if _, ok := slices.BinarySearch(s.categories, ns.node.Category); !ok {
			return
		}
	}
	to := s.system
	if to == "" {
		to = e
	}
	for k := range g.out[e] {
		if k.kind != EdgeStoredIn || (s.system != "" && k.to != s.system) {
			continue
		}
		if !g.edges[k].occ[0].at.After(s.at) {
			g.addEdge(edgeKey{EdgeErased, e, to, ""}, occurrence{at: s.at, event: s.event, attrs: s.attrs})
			return
		}
	}
}

// element adds (or finds) an element of the event's person, with its
// subject and belongs-to edge, and returns its ID.
func (a *applier) element(el event.Element) string {
	subj := a.node(Node{ID: SubjectID(a.tenant, a.person), Kind: NodeSubject, Person: a.person})
	id := a.node(Node{ID: ElementID(a.tenant, a.person, el.Category, el.Name), Kind: NodeElement, Person: a.person, Name: el.Name, Category: el.Category})
	set := a.g.elements[subj]
	if set == nil {
		set = map[string]struct{}{}
		a.g.elements[subj] = set
	}
	set[id] = struct{}{}
	a.edge(EdgeBelongsTo, id, subj, "", nil)
	return id
}

func (a *applier) system(name string) string {
	return a.node(Node{ID: SystemID(a.tenant, name), Kind: NodeSystem, Name: name})
}

// stored records that element e was held in system name at this event's
// time, and applies the person's category/all erasures that now cover it.
func (a *applier) stored(e, name string) {
	if name == "" {
		return
	}
	sys := a.system(name)
	if !a.edge(EdgeStoredIn, e, sys, "", nil) {
		return
	}
	subj := SubjectID(a.tenant, a.person)
	for _, ev := range sortedKeys(a.g.scopes[subj]) {
		s := a.g.scopes[subj][ev]
		if (s.system == "" || s.system == sys) && !a.at.After(s.at) {
			a.g.applyScope(s, e)
		}
	}
}

// node adds n (with the tenant set) or moves an existing node's First back
// to this event's time if earlier, and returns its ID.
func (a *applier) node(n Node) string {
	ns, ok := a.g.nodes[n.ID]
	if !ok {
		n.Tenant = a.tenant
		a.g.nodes[n.ID] = &nodeState{node: n, first: a.at}
		return n.ID
	}
	if a.at.Before(ns.first) {
		ns.first = a.at
	}
	return n.ID
}

func (a *applier) edge(kind EdgeKind, from, to, via string, attrs []attr) bool {
	return a.g.addEdge(edgeKey{kind, from, to, via}, occurrence{at: a.at, event: a.event, attrs: attrs})
}

// addEdge adds one occurrence to an edge, creating it if needed, and
// reports whether the occurrence is new (an event counts once per edge).
func (g *Graph) addEdge(k edgeKey, o occurrence) bool {
	es := g.edges[k]
	if es == nil {
		es = &edgeState{}
		g.edges[k] = es
		link(g.out, k.from, k)
		link(g.in, k.to, k)
	}
	i, found := slices.BinarySearchFunc(es.occ, o, cmpOcc)
	if found {
		return false
	}
	es.occ = slices.Insert(es.occ, i, o)
	return true
}

func cmpOcc(a, b occurrence) int {
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.event, b.event)
}

func link(m map[string]map[edgeKey]struct{}, n string, k edgeKey) {
	set := m[n]
	if set == nil {
		set = map[edgeKey]struct{}{}
		m[n] = set
	}
	set[k] = struct{}{}
}

// earliest records value v at time t in m, keeping the earliest time.
func earliest(m map[string]time.Time, v string, t time.Time) map[string]time.Time {
	if v == "" {
		return m
	}
	if m == nil {
		m = map[string]time.Time{}
	}
	if old, ok := m[v]; !ok || t.Before(old) {
		m[v] = t
	}
	return m
}

// attrsOf builds a sorted, distinct attribute list, skipping empty values.
func attrsOf(m map[string][]string) []attr {
	var out []attr
	for k, vs := range m {
		for _, v := range vs {
			if v != "" {
				out = append(out, attr{k, v})
			}
		}
	}
	slices.SortFunc(out, func(a, b attr) int {
		if c := cmp.Compare(a.k, b.k); c != 0 {
			return c
		}
		return cmp.Compare(a.v, b.v)
	})
	return slices.Compact(out)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
