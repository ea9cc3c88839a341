package lineage

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
)

// randomStream returns n events over a small world, so that they collide:
// two people, four elements each, four systems, recipients, activities,
// erasures of every scope, and times that often coincide.
func randomStream(r *rand.Rand, n int) []event.Recorded {
	elems := []event.Element{
		{Name: "email", Category: "contact.email"},
		{Name: "purchases", Category: "commercial.purchase_history"},
		{Name: "prefs", Category: "inference.preferences"},
		{Name: "seg", Category: "inference.segment"},
	}
	systems := []string{"crm", "orders", "rec", "eu"}
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	some := func() []event.Element {
		out := []event.Element{elems[r.IntN(len(elems))]}
		if r.IntN(3) == 0 {
			out = append(out, elems[r.IntN(len(elems))])
		}
		return out
	}
	var recs []event.Recorded
	for i := range n {
		var typ event.Type
		var d event.Data
		switch r.IntN(8) {
		case 0, 1:
			typ, d = event.TypeCollected, &event.Collected{Elements: some(), Origin: event.Origin{Kind: "consumer", Name: pick([]string{"web form", "checkout"})},
				Purposes: []string{pick([]string{"marketing", "analytics"})}, System: pick(systems)}
		case 2:
			typ, d = event.TypeShared, &event.Shared{Elements: some(), Disclosure: pick([]string{"sale", "sharing"}), System: pick(systems),
				Recipient: event.Recipient{Name: pick([]string{"Ads", "Broker"}), Kind: "data_broker", Role: "third_party", Country: pick([]string{"", "US", "CA"})}}
		case 3:
			typ, d = event.TypeProcessed, &event.Processed{Activity: pick([]string{"profiling", "segmentation"}), Inputs: some(), Outputs: some(), System: "rec",
				Purposes: []string{"personalization"}}
		case 4:
			from, to := pick(systems), pick(systems)
			typ, d = event.TypeTransferred, &event.Transferred{Elements: some(), FromSystem: from, ToSystem: to, ToCountry: pick([]string{"", "DE"})}
		case 5:
			typ, d = event.TypeCorrected, &event.Corrected{Elements: some(), System: pick([]string{"", "crm"})}
		case 6:
			e := &event.Erased{Reason: "consumer_request", System: pick([]string{"crm", "eu", "rec", ""})}
			switch r.IntN(3) {
			case 0:
				e.Elements = some()
			case 1:
				e.Categories = []string{elems[r.IntN(len(elems))].Category}
			default:
				e.All = true
			}
			typ, d = event.TypeErased, e
		default:
			typ, d = event.TypeConsentChanged, &event.ConsentChanged{Choice: "sale", Status: event.OptedOut, Mechanism: "gpc"}
		}
		var id uuid.UUID
		id[0], id[1], id[15] = byte(i>>8), byte(i), 1
		recs = append(recs, event.Recorded{
			Event:      &event.Event{ID: id, Type: typ, Time: at(0, r.IntN(24)), Tenant: tenant, Data: d},
			SubjectKey: pick([]string{"p1", "p2"}),
		})
	}
	return recs
}

// sameState compares everything a graph holds except its PersonOf function.
func sameState(a, b *Graph) bool {
	return reflect.DeepEqual(a.applied, b.applied) && reflect.DeepEqual(a.nodes, b.nodes) &&
		reflect.DeepEqual(a.edges, b.edges) && reflect.DeepEqual(a.out, b.out) && reflect.DeepEqual(a.in, b.in) &&
		reflect.DeepEqual(a.elements, b.elements) && reflect.DeepEqual(a.scopes, b.scopes)
}

func queries() []Query {
	return []Query{{}, {Depth: 1}, {Depth: 2}, {PerHop: 1}, {PerHop: 2, Depth: 3}}
}

type answer struct {
	label    string
	notFound bool
	s        Subgraph
}

// answers runs every query from every node in every direction as of asOf.
func answers(g *Graph, starts []string, asOf time.Time) []answer {
	var out []answer
	for _, id := range starts {
		for _, dir := range []Direction{DirUpstream, DirDownstream, DirBoth} {
			for _, q := range queries() {
				label := fmt.Sprintf("%s %s depth %d per hop %d", id, dir, q.Depth, q.PerHop)
				q.AsOf = asOf
				s, err := g.Lineage(id, dir, q)
				s.AsOf = time.Time{}
				out = append(out, answer{label, errors.Is(err, ErrNotFound), s})
			}
		}
	}
	return out
}

func sameAnswers(t *testing.T, what string, a, b []answer) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d answers, %d answers", what, len(a), len(b))
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("%s: %s:\n%#v\n%#v", what, a[i].label, a[i], b[i])
		}
	}
}

func allIDs(g *Graph) []string { return sortedKeys(g.nodes) }

func TestBuildEqualsShuffledApplyWithDuplicates(t *testing.T) {
	t.Parallel()
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 1))
		recs := randomStream(r, 10+r.IntN(50))
		want := Build(recs, Options{})
		for round := range 3 {
			stream := slices.Clone(recs)
			for range r.IntN(len(recs)) + 1 {
				stream = append(stream, recs[r.IntN(len(recs))])
			}
			r.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
			got := New(Options{})
			for _, rec := range stream {
				got.Apply(rec)
			}
			if !sameState(want, got) {
				t.Fatalf("seed %d round %d: shuffled graph differs from Build", seed, round)
			}
			if round == 0 {
				ids := allIDs(want)
				sameAnswers(t, fmt.Sprintf("seed %d", seed), answers(want, ids, time.Time{}), answers(got, ids, time.Time{}))
			}
		}
	}
}

// The graph as of t is the graph of the events at or before t.
func TestAsOfEqualsGraphOfEarlierEvents(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 2))
		recs := randomStream(r, 10+r.IntN(40))
		full := Build(recs, Options{})
		ids := allIDs(full)
		for _, h := range []int{0, 7, 12, 18} {
			asOf := at(0, h)
			var early []event.Recorded
			for _, rec := range recs {
				if !rec.Event.Time.After(asOf) {
					early = append(early, rec)
				}
			}
			past := Build(early, Options{})
			if !reflect.DeepEqual(full.Nodes(asOf), past.Nodes(time.Time{})) {
				t.Fatalf("seed %d as of %d: nodes differ", seed, h)
			}
			if !reflect.DeepEqual(full.Edges(asOf), past.Edges(time.Time{})) {
				t.Fatalf("seed %d as of %d: edges differ", seed, h)
			}
			sameAnswers(t, fmt.Sprintf("seed %d as of %d", seed, h), answers(full, ids, asOf), answers(past, ids, time.Time{}))
		}
	}
}

// Upstream and downstream, IsPartial is true exactly when the limited answer
// differs from the unlimited one; Both is partial when either direction is
// (the other may happen to cover what was cut). A limited answer is always
// part of the unlimited one.
func TestIsPartialExactlyWhenResultDiffers(t *testing.T) {
	t.Parallel()
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 3))
		g := Build(randomStream(r, 10+r.IntN(50)), Options{})
		for _, id := range allIDs(g) {
			for _, dir := range []Direction{DirUpstream, DirDownstream, DirBoth} {
				full, err := g.Lineage(id, dir, Query{})
				if err != nil {
					t.Fatal(err)
				}
				if full.IsPartial {
					t.Fatalf("seed %d %s %s: unlimited answer is partial", seed, dir, id)
				}
				fullEdges := map[edgeKey]Edge{}
				for _, e := range full.Edges {
					fullEdges[edgeKey{e.Kind, e.From, e.To, e.Via}] = e
				}
				for _, q := range []Query{{Depth: 1}, {Depth: 2}, {Depth: 3}, {PerHop: 1}, {PerHop: 2}, {Depth: 2, PerHop: 2}} {
					s, _ := g.Lineage(id, dir, q)
					same := reflect.DeepEqual(s.Nodes, full.Nodes) && reflect.DeepEqual(s.Edges, full.Edges)
					if dir == DirBoth {
						up, _ := g.Upstream(id, q)
						down, _ := g.Downstream(id, q)
						if s.IsPartial != (up.IsPartial || down.IsPartial) || (!s.IsPartial && !same) {
							t.Fatalf("seed %d both %s %+v: IsPartial %v, up %v, down %v, equal to unlimited %v", seed, id, q, s.IsPartial, up.IsPartial, down.IsPartial, same)
						}
					} else if s.IsPartial == same {
						t.Fatalf("seed %d %s %s %+v: IsPartial %v but equal to unlimited: %v", seed, dir, id, q, s.IsPartial, same)
					}
					for _, n := range s.Nodes {
						if m, ok := full.Node(n.ID); !ok || !reflect.DeepEqual(m, n) {
							t.Fatalf("seed %d %s %s %+v: node %s not in the unlimited answer", seed, dir, id, q, n.ID)
						}
					}
					for _, e := range s.Edges {
						if f, ok := fullEdges[edgeKey{e.Kind, e.From, e.To, e.Via}]; !ok || !reflect.DeepEqual(e, f) {
							t.Fatalf("seed %d %s %s %+v: edge %+v not in the unlimited answer", seed, dir, id, q, e)
						}
					}
				}
			}
		}
	}
}

// Every query result is sorted, and every edge's endpoints are in it.
func TestResultsAreSortedAndClosed(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	g := Build(randomStream(r, 80), Options{})
	for _, id := range allIDs(g) {
		s, _ := g.Both(id, Query{PerHop: 2})
		if !slices.IsSortedFunc(s.Nodes, func(a, b Node) int { return compareStrings(a.ID, b.ID) }) {
			t.Fatalf("%s: nodes unsorted", id)
		}
		for i, e := range s.Edges {
			if _, ok := s.Node(e.From); !ok {
				t.Fatalf("%s: edge from missing node %s", id, e.From)
			}
			if _, ok := s.Node(e.To); !ok {
				t.Fatalf("%s: edge to missing node %s", id, e.To)
			}
			if !slices.IsSorted(e.EventIDs) || len(e.EventIDs) == 0 || e.Last.Before(e.First) {
				t.Fatalf("%s: bad edge %+v", id, e)
			}
			if i > 0 && !edgeLess(s.Edges[i-1], e) {
				t.Fatalf("%s: edges unsorted at %d", id, i)
			}
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func edgeLess(a, b Edge) bool {
	if a.From != b.From {
		return a.From < b.From
	}
	if a.To != b.To {
		return a.To < b.To
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Via < b.Via
}

func TestPersonOfDecidesWhoseDataItIs(t *testing.T) {
	recs := decodeAll(t, scenario())
	// Everyone is one person: John's and Jane's emails become one datum.
	g := Build(recs, Options{PersonOf: func(event.Recorded) string { return "everyone" }})
	email := ElementID(tenant, "everyone", "contact.email", "email")
	s, err := g.Downstream(email, Query{})
	if err != nil {
		t.Fatal(err)
	}
	wantNodes(t, s, []string{adNetwork, otherBroker}, nil)
	if _, ok := g.Node(janeEmail, time.Time{}); ok {
		t.Error("the default person was used")
	}
}
