// Package model holds the Go types the GraphQL schema binds to that the
// domain packages do not provide: views over a read (a subject's record
// with its events, a lineage answer with lookups by node), the custom
// scalars, and the types gqlgen generates from the schema (models_gen.go,
// never edited by hand). Domain types (projections, report, requests, …)
// are bound directly in gqlgen.yml.
package model

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/projections"
)

// Subject is one person's record over a window, with the events behind it
// (GraphQL Subject), as reads show it: element values of never-disclose
// categories masked. The record's fields are promoted, except Elements,
// the masked view of Record.Elements; Timeline is the person's events in
// the window, oldest first, masked likewise, paginated by the events
// resolver.
type Subject struct {
	projections.Record
	Elements []Element
	Merges   []projections.Merge
	Timeline []Event
}

// Element is a data element of a person's record as reads show it
// (GraphQL Element): Value is masked when Masked is true.
type Element struct {
	projections.Element
	Masked bool
}

// EventCount is the number of distinct events about the person in the
// window (Record.Events; the GraphQL events field is the timeline).
func (s *Subject) EventCount() int { return s.Record.Events }

// Event is one recorded event (GraphQL Event) as reads show it: when
// Masked is true, element values in its data are masked.
type Event struct {
	Rec    event.Recorded
	Masked bool
}

// ID is the event's id.
func (e Event) ID() uuid.UUID { return e.Rec.Event.ID }

// Type is the event's type.
func (e Event) Type() string { return string(e.Rec.Event.Type) }

// Source is the service that emitted it.
func (e Event) Source() string { return e.Rec.Event.Source }

// Time is when it happened.
func (e Event) Time() time.Time { return e.Rec.Event.Time }

// RecordedAt is when Custody recorded it.
func (e Event) RecordedAt() time.Time { return e.Rec.Event.RecordedAt }

// Tenant is the event's tenant.
func (e Event) Tenant() string { return e.Rec.Event.Tenant }

// Identifiers are the identifiers it named, hashed.
func (e Event) Identifiers() []identity.Ref { return e.Rec.Identifiers }

// Shredded is true when values it carried can no longer be decrypted.
func (e Event) Shredded() bool { return e.Rec.Shredded }

// Data is the event's data in its contract form. subject.linked has none.
func (e Event) Data() (json.RawMessage, error) {
	d := e.Rec.Event.Data
	if d == nil {
		return nil, nil
	}
	if _, linked := d.(*event.Linked); linked {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("event %s: encode data: %w", e.Rec.Event.ID, err)
	}
	return b, nil
}

// RevealedValue is one element value shown in clear to an admin who
// stated a purpose (GraphQL RevealedValue).
type RevealedValue struct {
	Tenant   string
	PersonID projections.PersonID
	Category string
	Name     string
	// EventID is the event the value was read from when one was named; nil
	// for the element's current value.
	EventID  *uuid.UUID
	Value    json.RawMessage
	Shredded bool
}

// Lineage is the answer to a lineage question (GraphQL Lineage), with
// lookups by node id built once, on first use, for every field that needs
// them: edges' endpoints, nodes' edges and paths resolve from one index
// instead of scanning the answer per item.
type Lineage struct {
	Sub      lineage.Subgraph
	PersonID projections.PersonID

	once  sync.Once
	nodes []*LineageNode
	edges []*LineageEdge
	byID  map[string]*LineageNode
	out   map[string][]*LineageEdge
	in    map[string][]*LineageEdge
}

// NewLineage wraps an answer.
func NewLineage(sub lineage.Subgraph, person projections.PersonID) *Lineage {
	return &Lineage{Sub: sub, PersonID: person}
}

func (l *Lineage) index() {
	l.once.Do(func() {
		l.byID = make(map[string]*LineageNode, len(l.Sub.Nodes))
		l.out = map[string][]*LineageEdge{}
		l.in = map[string][]*LineageEdge{}
		for _, n := range l.Sub.Nodes {
			v := &LineageNode{Node: n, g: l}
			l.nodes = append(l.nodes, v)
			l.byID[n.ID] = v
		}
		for _, e := range l.Sub.Edges {
			v := &LineageEdge{Edge: e, g: l}
			l.edges = append(l.edges, v)
			l.out[e.From] = append(l.out[e.From], v)
			l.in[e.To] = append(l.in[e.To], v)
		}
	})
}

// Root is the node the question started from.
func (l *Lineage) Root() string { return l.Sub.Root }

// Direction is the question's direction.
func (l *Lineage) Direction() lineage.Direction { return l.Sub.Direction }

// AsOf is the question's time (zero: now).
func (l *Lineage) AsOf() time.Time { return l.Sub.AsOf }

// IsPartial is true exactly when a limit cut something off.
func (l *Lineage) IsPartial() bool { return l.Sub.IsPartial }

// Nodes are the answer's nodes, by id.
func (l *Lineage) Nodes() []*LineageNode {
	l.index()
	return l.nodes
}

// Edges are the answer's edges, in the subgraph's order.
func (l *Lineage) Edges() []*LineageEdge {
	l.index()
	return l.edges
}

// node returns the node with id. Every edge's endpoints are in the
// answer; a missing one (a bug upstream) is a placeholder with just the id,
// so one bad edge does not fail the whole answer.
func (l *Lineage) node(id string) *LineageNode {
	l.index()
	if n, ok := l.byID[id]; ok {
		return n
	}
	return &LineageNode{Node: lineage.Node{ID: id}, g: l}
}

// Paths returns, for every node but the root, one shortest path to it from
// the root through the answer's edges, walked either way. Only the root
// and elements are walked through: shared nodes (systems, sources,
// activities, recipients, the subject) end a path, as they end the lineage
// walk, so a path never jumps from one datum to another through a system
// they share. Targets are in node-id order.
func (l *Lineage) Paths() []LineagePath {
	l.index()
	type step struct {
		prev string
		edge *LineageEdge
	}
	reached := map[string]step{l.Sub.Root: {}}
	queue := []string{l.Sub.Root}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n != l.Sub.Root && l.node(n).Kind != lineage.NodeElement {
			continue
		}
		// Out-edges, then in-edges, each in the subgraph's order: the
		// paths are deterministic.
		for _, e := range l.out[n] {
			if _, ok := reached[e.To]; !ok {
				reached[e.To] = step{n, e}
				queue = append(queue, e.To)
			}
		}
		for _, e := range l.in[n] {
			if _, ok := reached[e.From]; !ok {
				reached[e.From] = step{n, e}
				queue = append(queue, e.From)
			}
		}
	}
	var out []LineagePath
	for _, n := range l.nodes {
		if n.ID == l.Sub.Root {
			continue
		}
		if _, ok := reached[n.ID]; !ok {
			continue
		}
		p := LineagePath{Target: n.ID}
		for at := n.ID; at != l.Sub.Root; at = reached[at].prev {
			p.NodeIDs = append(p.NodeIDs, at)
			p.Edges = append(p.Edges, reached[at].edge)
		}
		p.NodeIDs = append(p.NodeIDs, l.Sub.Root)
		slices.Reverse(p.NodeIDs)
		slices.Reverse(p.Edges)
		out = append(out, p)
	}
	return out
}

// LineageNode is a node of an answer (GraphQL LineageNode).
type LineageNode struct {
	lineage.Node
	g *Lineage
}

// Outgoing are the answer's edges from the node.
func (n *LineageNode) Outgoing() []*LineageEdge {
	n.g.index()
	return n.g.out[n.ID]
}

// Incoming are the answer's edges to the node.
func (n *LineageNode) Incoming() []*LineageEdge {
	n.g.index()
	return n.g.in[n.ID]
}

// LineageEdge is an edge of an answer (GraphQL LineageEdge).
type LineageEdge struct {
	lineage.Edge
	g *Lineage
}

// FromNode is the node the edge leaves.
func (e *LineageEdge) FromNode() *LineageNode { return e.g.node(e.From) }

// ToNode is the node the edge reaches.
func (e *LineageEdge) ToNode() *LineageNode { return e.g.node(e.To) }

// Attributes are the edge's attributes, by key.
func (e *LineageEdge) Attributes() []LineageAttribute {
	out := make([]LineageAttribute, 0, len(e.Attrs))
	for k, vs := range e.Attrs {
		out = append(out, LineageAttribute{Key: k, Values: vs})
	}
	slices.SortFunc(out, func(a, b LineageAttribute) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// LineageAttribute is one attribute of an edge and its values.
type LineageAttribute struct {
	Key    string
	Values []string
}

// LineagePath is one shortest path from the root to Target.
type LineagePath struct {
	Target  string
	NodeIDs []string
	Edges   []*LineageEdge
}
