package lineage

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// ErrNotFound is returned for a start node the graph does not have (or did
// not have yet as of the query's time).
var ErrNotFound = errors.New("lineage: no such node")

// Direction is the direction of a lineage query.
type Direction string

// Directions.
const (
	DirUpstream   Direction = "upstream"   // where it came from
	DirDownstream Direction = "downstream" // where it went, derived data included
	DirBoth       Direction = "both"       // the union of the two
)

// Query limits a lineage query. The zero value is unlimited, as of now.
type Query struct {
	// Depth is the most hops from the start node; 0 (or less) is unlimited.
	Depth int
	// PerHop is the most neighbours one node expands to, the first by node
	// ID; 0 (or less) is unlimited.
	PerHop int
	// AsOf shows the graph as it stood at that instant (events at or before
	// it); zero is everything.
	AsOf time.Time
}

// Subgraph is the answer to a lineage query. Nodes are sorted by ID; edges
// by From, To, Kind and Via.
type Subgraph struct {
	Root      string
	Direction Direction
	AsOf      time.Time
	Nodes     []Node
	Edges     []Edge
	// IsPartial is true exactly when Depth or PerHop cut something off: an
	// upstream or downstream answer is partial exactly when the unlimited
	// query would have returned more; Both is partial when either direction
	// is (even if the other direction happens to cover what was cut).
	IsPartial bool
}

// Node returns the node with ID id, if the subgraph has it.
func (s Subgraph) Node(id string) (Node, bool) {
	i, ok := slices.BinarySearchFunc(s.Nodes, id, func(n Node, id string) int { return cmp.Compare(n.ID, id) })
	if !ok {
		return Node{}, false
	}
	return s.Nodes[i], true
}

// NodesOfKind returns the subgraph's nodes of one kind, e.g. the recipients
// that received a datum or anything derived from it.
func (s Subgraph) NodesOfKind(k NodeKind) []Node {
	var out []Node
	for _, n := range s.Nodes {
		if n.Kind == k {
			out = append(out, n)
		}
	}
	return out
}

// Upstream answers where the node's data came from.
func (g *Graph) Upstream(id string, q Query) (Subgraph, error) {
	return g.Lineage(id, DirUpstream, q)
}

// Downstream answers where the node's data went, including everything
// derived from it, transitively.
func (g *Graph) Downstream(id string, q Query) (Subgraph, error) {
	return g.Lineage(id, DirDownstream, q)
}

// Both is the union of Upstream and Downstream.
func (g *Graph) Both(id string, q Query) (Subgraph, error) {
	return g.Lineage(id, DirBoth, q)
}

// Lineage answers a query from node id in direction dir.
func (g *Graph) Lineage(id string, dir Direction, q Query) (Subgraph, error) {
	ns, ok := g.nodes[id]
	if !ok || !visible(ns.first, q.AsOf) {
		return Subgraph{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	var w *walk
	switch dir {
	case DirUpstream, DirDownstream:
		w = g.walk(id, dir, q)
	case DirBoth:
		w = g.walk(id, DirUpstream, q)
		w.merge(g.walk(id, DirDownstream, q))
	default:
		return Subgraph{}, fmt.Errorf("lineage: unknown direction %q", dir)
	}
	s := Subgraph{Root: id, Direction: dir, AsOf: q.AsOf, IsPartial: w.partial}
	for _, n := range sortedKeys(w.nodes) {
		s.Nodes = append(s.Nodes, g.nodeAsOf(g.nodes[n], q.AsOf))
	}
	s.Edges = g.edgesAsOf(w.edges, q.AsOf)
	return s, nil
}

// Node returns the node with ID id as of asOf (zero: now).
func (g *Graph) Node(id string, asOf time.Time) (Node, bool) {
	ns, ok := g.nodes[id]
	if !ok || !visible(ns.first, asOf) {
		return Node{}, false
	}
	return g.nodeAsOf(ns, asOf), true
}

// Nodes returns every node as of asOf (zero: now), sorted by ID.
func (g *Graph) Nodes(asOf time.Time) []Node {
	var out []Node
	for _, id := range sortedKeys(g.nodes) {
		if ns := g.nodes[id]; visible(ns.first, asOf) {
			out = append(out, g.nodeAsOf(ns, asOf))
		}
	}
	return out
}

// Edges returns every edge as of asOf (zero: now), sorted.
func (g *Graph) Edges(asOf time.Time) []Edge {
	all := make(map[edgeKey]struct{}, len(g.edges))
	for k := range g.edges {
		all[k] = struct{}{}
	}
	return g.edgesAsOf(all, asOf)
}

func visible(at, asOf time.Time) bool { return asOf.IsZero() || !at.After(asOf) }

// step is one kind of hop: along out-edges (to the edge's To) or in-edges
// (to its From) of a kind.
type step struct {
	kind EdgeKind
	out  bool
}

// steps returns the hops from a node of kind k in direction dir. Shared
// nodes (systems, sources, activities, recipients) and subjects only expand
// when the walk starts at them.
func steps(k NodeKind, dir Direction, start bool) []step {
	down := dir == DirDownstream
	switch {
	case k == NodeElement && down:
		return []step{{EdgeTransferredTo, true}, {EdgeSharedWith, true}, {EdgeProcessedBy, true}, {EdgeDerivedFrom, false}}
	case k == NodeElement:
		return []step{{EdgeCollectedFrom, true}, {EdgeProducedBy, true}, {EdgeDerivedFrom, true}}
	case !start:
		return nil
	case k == NodeSubject:
		return []step{{EdgeBelongsTo, false}}
	case k == NodeSystem:
		return []step{{EdgeStoredIn, false}}
	case k == NodeSource && down:
		return []step{{EdgeCollectedFrom, false}}
	case k == NodeRecipient && !down:
		return []step{{EdgeSharedWith, false}}
	case k == NodeActivity && down:
		return []step{{EdgeProducedBy, false}}
	case k == NodeActivity:
		return []step{{EdgeProcessedBy, false}}
	}
	return nil
}

// context is the kinds of edge that describe an element rather than lead
// anywhere: every element in a result comes with them.
func isContext(k EdgeKind) bool {
	return k == EdgeBelongsTo || k == EdgeStoredIn || k == EdgeCorrected || k == EdgeErased
}

type walk struct {
	nodes   map[string]struct{}
	edges   map[edgeKey]struct{}
	partial bool
}

func (w *walk) merge(o *walk) {
	for n := range o.nodes {
		w.nodes[n] = struct{}{}
	}
	for k := range o.edges {
		w.edges[k] = struct{}{}
	}
	w.partial = w.partial || o.partial
}

// neighbours returns the hop neighbours of n visible as of asOf, each with
// the edges leading there.
func (g *Graph) neighbours(n string, dir Direction, start bool, asOf time.Time) map[string][]edgeKey {
	var out map[string][]edgeKey
	for _, st := range steps(g.nodes[n].node.Kind, dir, start) {
		adj := g.in[n]
		if st.out {
			adj = g.out[n]
		}
		for k := range adj {
			if k.kind != st.kind || !visible(g.edges[k].occ[0].at, asOf) {
				continue
			}
			m := k.from
			if st.out {
				m = k.to
			}
			if m == n {
				continue
			}
			if out == nil {
				out = map[string][]edgeKey{}
			}
			out[m] = append(out[m], k)
		}
	}
	return out
}

// walk is a breadth-first walk from start. Nodes at the depth limit are not
// expanded, but their edges to nodes in the result anyway are kept, and an
// edge cut by PerHop counts as cut only if the result lacks it in the end:
// the result is partial exactly when something is missing.
func (g *Graph) walk(start string, dir Direction, q Query) *walk {
	w := &walk{nodes: map[string]struct{}{}, edges: map[edgeKey]struct{}{}}
	depth := map[string]int{start: 0}
	queue := []string{start}
	var frontier []string
	var cut []edgeKey
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		nb := g.neighbours(n, dir, n == start, q.AsOf)
		if len(nb) == 0 {
			continue
		}
		if q.Depth > 0 && depth[n] >= q.Depth {
			frontier = append(frontier, n)
			continue
		}
		ids := sortedKeys(nb)
		if q.PerHop > 0 && len(ids) > q.PerHop {
			for _, m := range ids[q.PerHop:] {
				cut = append(cut, nb[m]...)
			}
			ids = ids[:q.PerHop]
		}
		for _, m := range ids {
			for _, k := range nb[m] {
				w.edges[k] = struct{}{}
			}
			if _, seen := depth[m]; !seen {
				depth[m] = depth[n] + 1
				queue = append(queue, m)
			}
		}
	}
	for n := range depth {
		w.nodes[n] = struct{}{}
		if g.nodes[n].node.Kind != NodeElement {
			continue
		}
		for k := range g.out[n] {
			if isContext(k.kind) && visible(g.edges[k].occ[0].at, q.AsOf) {
				w.edges[k] = struct{}{}
				w.nodes[k.to] = struct{}{}
			}
		}
	}
	for _, n := range frontier {
		for m, ks := range g.neighbours(n, dir, n == start, q.AsOf) {
			if _, ok := w.nodes[m]; !ok {
				w.partial = true
				continue
			}
			for _, k := range ks {
				w.edges[k] = struct{}{}
			}
		}
	}
	for _, k := range cut {
		if _, ok := w.edges[k]; !ok {
			w.partial = true
		}
	}
	return w
}

// visibleOcc returns the occurrences of es at or before asOf.
func visibleOcc(es *edgeState, asOf time.Time) []occurrence {
	if asOf.IsZero() {
		return es.occ
	}
	return es.occ[:sort.Search(len(es.occ), func(i int) bool { return es.occ[i].at.After(asOf) })]
}

func (g *Graph) edgesAsOf(keys map[edgeKey]struct{}, asOf time.Time) []Edge {
	sorted := make([]edgeKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.SortFunc(sorted, func(a, b edgeKey) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to), cmp.Compare(a.kind, b.kind), cmp.Compare(a.via, b.via))
	})
	out := make([]Edge, 0, len(sorted))
	for _, k := range sorted {
		occ := visibleOcc(g.edges[k], asOf)
		if len(occ) == 0 {
			continue
		}
		e := Edge{Kind: k.kind, From: k.from, To: k.to, Via: k.via, First: occ[0].at, Last: occ[len(occ)-1].at}
		e.EventIDs = make([]string, len(occ))
		for i, o := range occ {
			e.EventIDs[i] = o.event
			for _, a := range o.attrs {
				if e.Attrs == nil {
					e.Attrs = map[string][]string{}
				}
				e.Attrs[a.k] = append(e.Attrs[a.k], a.v)
			}
		}
		slices.Sort(e.EventIDs)
		for a, vs := range e.Attrs {
			slices.Sort(vs)
			e.Attrs[a] = slices.Compact(vs)
		}
		out = append(out, e)
	}
	return out
}

func (g *Graph) nodeAsOf(ns *nodeState, asOf time.Time) Node {
	n := ns.node
	n.First = ns.first
	n.Roles = valuesAsOf(ns.roles, asOf)
	n.Countries = valuesAsOf(ns.countries, asOf)
	if n.Kind == NodeElement {
		g.erasure(&n, asOf)
	}
	return n
}

func valuesAsOf(m map[string]time.Time, asOf time.Time) []string {
	var out []string
	for v, at := range m {
		if visible(at, asOf) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// erasure sets n's erasure state as of asOf. In each system that held or
// erased the element, the latest fact decides (an erasure wins a tie); an
// erasure naming no system counts in every system.
func (g *Graph) erasure(n *Node, asOf time.Time) {
	type state struct {
		held, erased     time.Time
		isHeld, isErased bool
	}
	systems := map[string]*state{}
	var everywhere time.Time
	anywhere := false
	for k := range g.out[n.ID] {
		if k.kind != EdgeStoredIn && k.kind != EdgeErased {
			continue
		}
		occ := visibleOcc(g.edges[k], asOf)
		if len(occ) == 0 {
			continue
		}
		last := occ[len(occ)-1].at
		if k.kind == EdgeErased && k.to == n.ID {
			everywhere, anywhere = last, true
			continue
		}
		st := systems[k.to]
		if st == nil {
			st = &state{}
			systems[k.to] = st
		}
		if k.kind == EdgeStoredIn {
			st.held, st.isHeld = last, true
		} else {
			st.erased, st.isErased = last, true
		}
	}
	if len(systems) == 0 {
		n.Erased, n.ErasedAt = anywhere, everywhere
		return
	}
	all := true
	var at time.Time
	for _, sys := range sortedKeys(systems) {
		st := systems[sys]
		if anywhere && (!st.isErased || everywhere.After(st.erased)) {
			st.erased, st.isErased = everywhere, true
		}
		if !st.isErased || (st.isHeld && st.held.After(st.erased)) {
			all = false
			continue
		}
		n.ErasedFrom = append(n.ErasedFrom, sys)
		if st.erased.After(at) {
			at = st.erased
		}
	}
	if all {
		n.Erased, n.ErasedAt = true, at
	}
}
