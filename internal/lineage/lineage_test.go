package lineage

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

const tenant = "inkcartridges"

func at(days, hours int) time.Time {
	return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(days*24+hours) * time.Hour)
}

// fixture is one event of a scenario in its external JSON form, decoded and
// validated against the real taxonomy, so every term used here exists.
type fixture struct {
	n      int
	typ    event.Type
	at     time.Time
	person string
	data   string
}

func decodeAll(t *testing.T, fs []fixture) []event.Recorded {
	t.Helper()
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatalf("taxonomy: %v", err)
	}
	opts := event.Options{Vocabulary: tax, Now: func() time.Time { return at(365, 0) }}
	var out []event.Recorded
	for _, f := range fs {
		raw := fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","type":%q,"source":"test","time":%q,"tenant":%q,
			"subject":{"identifiers":[{"kind":"customer_id","value":%q}]},"data":%s}`,
			f.n, f.typ, f.at.Format(time.RFC3339), tenant, f.person, f.data)
		ev, errs := event.Decode([]byte(raw), opts)
		if len(errs) > 0 {
			t.Fatalf("fixture %d: %v", f.n, errs)
		}
		out = append(out, event.Recorded{Event: ev, SubjectKey: f.person})
	}
	return out
}

// The ink-cartridge retailer (seeds/004): it collects an email through a web
// form and a purchase history at checkout, sells the email to an ad network,
// profiles the person into preferences it shares with a data broker, segments
// the preferences into a segment it shares with a social network, and copies
// the email to an EU marketing system. A second person shares the activities,
// systems and recipients and must never leak into the first one's lineage.
func scenario() []fixture {
	return []fixture{
		{1, event.TypeCollected, at(0, 0), "jane", `{"elements":[{"name":"email","category":"contact.email","value":"jane@example.com"}],
			"origin":{"kind":"consumer","name":"web form"},"purposes":["marketing"],"system":"crm"}`},
		{2, event.TypeCollected, at(0, 1), "jane", `{"elements":[{"name":"purchases","category":"commercial.purchase_history"}],
			"origin":{"kind":"consumer","name":"checkout"},"purposes":["order_fulfilment"],"system":"orders"}`},
		{3, event.TypeShared, at(1, 0), "jane", `{"recipient":{"name":"AdNetwork Inc","kind":"advertising_network","role":"third_party","country":"US"},
			"elements":[{"name":"email","category":"contact.email"}],"purposes":["targeted_advertising"],"disclosure":"sale","system":"crm"}`},
		{4, event.TypeProcessed, at(2, 0), "jane", `{"activity":"profiling","purposes":["personalization"],
			"inputs":[{"name":"purchases","category":"commercial.purchase_history"},{"name":"email","category":"contact.email"}],
			"outputs":[{"name":"preferences","category":"inference.preferences"}],"system":"recommender"}`},
		{5, event.TypeShared, at(3, 0), "jane", `{"recipient":{"name":"DataBroker Co","kind":"data_broker","role":"third_party"},
			"elements":[{"name":"preferences","category":"inference.preferences"}],"purposes":["targeted_advertising"],"disclosure":"sharing","system":"recommender"}`},
		{6, event.TypeTransferred, at(4, 0), "jane", `{"elements":[{"name":"email","category":"contact.email"}],
			"from_system":"crm","to_system":"marketing-eu","to_country":"DE","mechanism":"standard_contractual_clauses"}`},
		{7, event.TypeProcessed, at(5, 0), "jane", `{"activity":"segmentation","purposes":["targeted_advertising"],
			"inputs":[{"name":"preferences","category":"inference.preferences"}],
			"outputs":[{"name":"segment","category":"inference.segment"}],"system":"recommender"}`},
		{8, event.TypeShared, at(6, 0), "jane", `{"recipient":{"name":"Social Co","kind":"social_network","role":"third_party"},
			"elements":[{"name":"segment","category":"inference.segment"}],"purposes":["targeted_advertising"],"disclosure":"sharing","system":"recommender"}`},
		// Someone else, through the same systems, activity and recipients.
		{20, event.TypeCollected, at(0, 2), "john", `{"elements":[{"name":"email","category":"contact.email"},{"name":"purchases","category":"commercial.purchase_history"}],
			"origin":{"kind":"consumer","name":"web form"},"purposes":["marketing"],"system":"crm"}`},
		{21, event.TypeProcessed, at(2, 1), "john", `{"activity":"profiling","purposes":["personalization"],
			"inputs":[{"name":"purchases","category":"commercial.purchase_history"}],
			"outputs":[{"name":"preferences","category":"inference.preferences"}],"system":"recommender"}`},
		{22, event.TypeShared, at(3, 1), "john", `{"recipient":{"name":"Other Broker","kind":"data_broker","role":"third_party"},
			"elements":[{"name":"preferences","category":"inference.preferences"}],"purposes":["targeted_advertising"],"disclosure":"sale","system":"recommender"}`},
		{23, event.TypeConsentChanged, at(7, 0), "john", `{"choice":"sale","status":"opted_out","mechanism":"gpc"}`},
	}
}

var (
	janeEmail       = ElementID(tenant, "jane", "contact.email", "email")
	janePurchases   = ElementID(tenant, "jane", "commercial.purchase_history", "purchases")
	janePreferences = ElementID(tenant, "jane", "inference.preferences", "preferences")
	janeSegment     = ElementID(tenant, "jane", "inference.segment", "segment")
	johnPreferences = ElementID(tenant, "john", "inference.preferences", "preferences")
	adNetwork       = RecipientID(tenant, "advertising_network", "AdNetwork Inc")
	dataBroker      = RecipientID(tenant, "data_broker", "DataBroker Co")
	socialCo        = RecipientID(tenant, "social_network", "Social Co")
	otherBroker     = RecipientID(tenant, "data_broker", "Other Broker")
	crm             = SystemID(tenant, "crm")
	orders          = SystemID(tenant, "orders")
	marketingEU     = SystemID(tenant, "marketing-eu")
	recommender     = SystemID(tenant, "recommender")
	webForm         = SourceID(tenant, "consumer", "web form")
	checkout        = SourceID(tenant, "consumer", "checkout")
	profiling       = ActivityID(tenant, "recommender", "profiling")
	segmentation    = ActivityID(tenant, "recommender", "segmentation")
)

func build(t *testing.T, extra ...fixture) *Graph {
	t.Helper()
	return Build(decodeAll(t, append(scenario(), extra...)), Options{})
}

func query(t *testing.T, g *Graph, dir Direction, start string, q Query) Subgraph {
	t.Helper()
	s, err := g.Lineage(start, dir, q)
	if err != nil {
		t.Fatalf("%s %s: %v", dir, start, err)
	}
	return s
}

func ids(s Subgraph) []string {
	var out []string
	for _, n := range s.Nodes {
		out = append(out, n.ID)
	}
	return out
}

func findEdge(s Subgraph, kind EdgeKind, from, to string) (Edge, bool) {
	for _, e := range s.Edges {
		if e.Kind == kind && e.From == from && e.To == to {
			return e, true
		}
	}
	return Edge{}, false
}

func wantNodes(t *testing.T, s Subgraph, want, notWant []string) {
	t.Helper()
	got := ids(s)
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Errorf("%s from %s: missing %s; got %v", s.Direction, s.Root, id, got)
		}
	}
	for _, id := range notWant {
		if slices.Contains(got, id) {
			t.Errorf("%s from %s: has %s, which it must not", s.Direction, s.Root, id)
		}
	}
}

func TestUpstreamFromDerivedInferenceReachesOriginalSources(t *testing.T) {
	g := build(t)
	for _, start := range []string{janePreferences, janeSegment} {
		s := query(t, g, DirUpstream, start, Query{})
		wantNodes(t, s,
			[]string{janePurchases, janeEmail, checkout, webForm, orders, crm, profiling, SubjectID(tenant, "jane")},
			[]string{adNetwork, dataBroker, socialCo, otherBroker, johnPreferences})
		if s.IsPartial {
			t.Errorf("unlimited upstream from %s is partial", start)
		}
		e, ok := findEdge(s, EdgeDerivedFrom, janePreferences, janePurchases)
		if !ok || e.Via != profiling || !slices.Equal(e.EventIDs, []string{"00000000-0000-4000-8000-000000000004"}) {
			t.Errorf("derived-from preferences → purchases = %+v, %v", e, ok)
		}
		if e, ok := findEdge(s, EdgeCollectedFrom, janePurchases, checkout); !ok || !slices.Equal(e.Attrs[AttrSystem], []string{"orders"}) {
			t.Errorf("collected-from purchases → checkout = %+v, %v", e, ok)
		}
	}
	// Upstream does not wander down to siblings: nothing shared appears.
	if s := query(t, g, DirUpstream, janeSegment, Query{}); len(s.NodesOfKind(NodeRecipient)) != 0 {
		t.Errorf("upstream has recipients: %v", s.NodesOfKind(NodeRecipient))
	}
}

func TestDownstreamFromEmailReachesEveryRecipientIncludingDerived(t *testing.T) {
	g := build(t)
	s := query(t, g, DirDownstream, janeEmail, Query{})
	wantNodes(t, s,
		[]string{adNetwork, dataBroker, socialCo, marketingEU, crm, janePreferences, janeSegment, profiling, segmentation},
		[]string{otherBroker, johnPreferences, webForm, janePurchases})
	var got []string
	for _, n := range s.NodesOfKind(NodeRecipient) {
		got = append(got, n.Name)
	}
	if want := []string{"AdNetwork Inc", "DataBroker Co", "Social Co"}; !slices.Equal(got, want) {
		t.Errorf("recipients = %v, want %v", got, want)
	}
	if e, ok := findEdge(s, EdgeTransferredTo, janeEmail, marketingEU); !ok || e.Via != crm ||
		!slices.Equal(e.Attrs[AttrCountry], []string{"DE"}) || !e.First.Equal(at(4, 0)) {
		t.Errorf("transferred-to = %+v, %v", e, ok)
	}
	if e, ok := findEdge(s, EdgeSharedWith, janeEmail, adNetwork); !ok || e.Via != "sale" || !slices.Equal(e.Attrs[AttrRole], []string{"third_party"}) {
		t.Errorf("shared-with ad network = %+v, %v", e, ok)
	}
	if n, _ := s.Node(adNetwork); !slices.Equal(n.Countries, []string{"US"}) || n.Type != "advertising_network" {
		t.Errorf("ad network node = %+v", n)
	}
	if s.IsPartial {
		t.Error("unlimited downstream is partial")
	}
}

func TestDownstreamFromPurchaseHistoryReachesBrokerThroughInference(t *testing.T) {
	g := build(t)
	s := query(t, g, DirDownstream, janePurchases, Query{})
	wantNodes(t, s, []string{janePreferences, dataBroker, socialCo}, []string{adNetwork, marketingEU, otherBroker})
	if _, ok := findEdge(s, EdgeDerivedFrom, janePreferences, janePurchases); !ok {
		t.Error("no derived-from edge into the purchase history")
	}
}

func TestAsOfBeforeDisclosureDoesNotShowIt(t *testing.T) {
	g := build(t)
	tests := []struct {
		name          string
		asOf          time.Time
		want, notWant []string
	}{
		{"before the sale", at(0, 12), []string{crm}, []string{adNetwork, marketingEU, dataBroker, janePreferences}},
		{"at the sale", at(1, 0), []string{adNetwork}, []string{marketingEU, dataBroker}},
		{"after profiling, before the broker", at(2, 12), []string{adNetwork, janePreferences}, []string{dataBroker, marketingEU}},
		{"everything", time.Time{}, []string{adNetwork, dataBroker, socialCo, marketingEU}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := query(t, g, DirDownstream, janeEmail, Query{AsOf: tt.asOf})
			wantNodes(t, s, tt.want, tt.notWant)
			for _, e := range s.Edges {
				if !tt.asOf.IsZero() && e.Last.After(tt.asOf) {
					t.Errorf("edge %+v is after %v", e, tt.asOf)
				}
			}
		})
	}
	if _, err := g.Downstream(janePreferences, Query{AsOf: at(1, 0)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("preferences before they existed: err = %v, want ErrNotFound", err)
	}
	// A recipient's country appears only once a disclosure named it.
	if n, _ := g.Node(adNetwork, at(0, 0)); n.ID != "" {
		t.Errorf("ad network exists before its first disclosure: %+v", n)
	}
}

func TestErasedDataStaysInTheGraph(t *testing.T) {
	eraseCRM := fixture{30, event.TypeErased, at(8, 0), "jane", `{"elements":[{"name":"email","category":"contact.email"}],
		"reason":"consumer_request","system":"crm","request_id":"R-1"}`}
	eraseEU := fixture{31, event.TypeErased, at(9, 0), "jane", `{"categories":["contact.email"],"reason":"consumer_request","system":"marketing-eu"}`}
	recollect := fixture{32, event.TypeCollected, at(10, 0), "jane", `{"elements":[{"name":"email","category":"contact.email"}],
		"origin":{"kind":"consumer","name":"web form"},"purposes":["marketing"],"system":"crm"}`}
	eraseAll := fixture{33, event.TypeErased, at(8, 0), "jane", `{"all":true,"reason":"account_closed","system":"crm"}`}

	tests := []struct {
		name       string
		extra      []fixture
		asOf       time.Time
		erased     bool
		erasedAt   time.Time
		erasedFrom []string
	}{
		{"not erased", nil, time.Time{}, false, time.Time{}, nil},
		{"erased from one of two systems", []fixture{eraseCRM}, time.Time{}, false, time.Time{}, []string{crm}},
		{"erased everywhere", []fixture{eraseCRM, eraseEU}, time.Time{}, true, at(9, 0), []string{crm, marketingEU}},
		{"as of before the second erasure", []fixture{eraseCRM, eraseEU}, at(8, 12), false, time.Time{}, []string{crm}},
		{"collected again after erasure", []fixture{eraseCRM, eraseEU, recollect}, time.Time{}, false, time.Time{}, []string{marketingEU}},
		{"erase all in crm, by category in the EU", []fixture{eraseAll, eraseEU}, time.Time{}, true, at(9, 0), []string{crm, marketingEU}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(t, tt.extra...)
			s := query(t, g, DirDownstream, janeEmail, Query{AsOf: tt.asOf})
			n, ok := s.Node(janeEmail)
			if !ok {
				t.Fatal("erased email vanished")
			}
			if n.Erased != tt.erased || !n.ErasedAt.Equal(tt.erasedAt) || !slices.Equal(n.ErasedFrom, tt.erasedFrom) {
				t.Errorf("email: Erased=%v ErasedAt=%v ErasedFrom=%v; want %v %v %v", n.Erased, n.ErasedAt, n.ErasedFrom, tt.erased, tt.erasedAt, tt.erasedFrom)
			}
			// Lineage still answers: the erased email still leads everywhere it went.
			wantNodes(t, s, []string{adNetwork, dataBroker, socialCo, marketingEU}, nil)
			up := query(t, g, DirUpstream, janePreferences, Query{AsOf: tt.asOf})
			wantNodes(t, up, []string{janeEmail, webForm}, nil)
			for _, sys := range tt.erasedFrom {
				if e, ok := findEdge(s, EdgeErased, janeEmail, sys); !ok || len(e.Attrs[AttrReason]) == 0 {
					t.Errorf("no erased edge email → %s: %+v", sys, e)
				}
			}
		})
	}

	t.Run("erase all covers only what was held there before", func(t *testing.T) {
		g := build(t, eraseAll)
		if n, _ := g.Node(janePurchases, time.Time{}); len(n.ErasedFrom) != 0 {
			t.Errorf("purchases (never in crm) erased from %v", n.ErasedFrom)
		}
		// The segment was produced in the recommender, never held in crm.
		if n, _ := g.Node(janeSegment, time.Time{}); n.Erased {
			t.Error("segment erased by an erasure in another system")
		}
		late := fixture{34, event.TypeCollected, at(9, 0), "jane", `{"elements":[{"name":"phone","category":"contact.phone"}],
			"origin":{"kind":"consumer","name":"web form"},"purposes":["marketing"],"system":"crm"}`}
		g = build(t, eraseAll, late)
		if n, _ := g.Node(ElementID(tenant, "jane", "contact.phone", "phone"), time.Time{}); n.Erased {
			t.Error("a phone collected after the erasure is erased")
		}
	})
}

func TestDepthAndPerHopSetIsPartialExactlyWhenSomethingIsCut(t *testing.T) {
	g := build(t)
	// Downstream from the email: hop 1 reaches the ad network, marketing-eu,
	// profiling and the preferences; hop 2 the broker, segmentation and the
	// segment; hop 3 Social Co. The email has 4 neighbours, the preferences 3.
	tests := []struct {
		name    string
		q       Query
		partial bool
		has     []string
		hasNot  []string
	}{
		{"unlimited", Query{}, false, []string{socialCo}, nil},
		{"depth exactly enough", Query{Depth: 3}, false, []string{socialCo}, nil},
		{"depth more than enough", Query{Depth: 10}, false, []string{socialCo}, nil},
		{"depth one short", Query{Depth: 2}, true, []string{dataBroker, janeSegment}, []string{socialCo}},
		{"depth one", Query{Depth: 1}, true, []string{adNetwork, janePreferences}, []string{dataBroker}},
		{"per hop exactly enough", Query{PerHop: 4}, false, []string{socialCo, marketingEU}, nil},
		{"per hop one short", Query{PerHop: 3}, true, []string{adNetwork, socialCo}, nil},
		{"both limits exactly enough", Query{Depth: 3, PerHop: 4}, false, []string{socialCo}, nil},
		{"depth enough before the segment existed", Query{Depth: 2, AsOf: at(4, 0)}, false, []string{dataBroker}, []string{janeSegment}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := query(t, g, DirDownstream, janeEmail, tt.q)
			if s.IsPartial != tt.partial {
				t.Errorf("IsPartial = %v, want %v (nodes %v)", s.IsPartial, tt.partial, ids(s))
			}
			wantNodes(t, s, tt.has, tt.hasNot)
			// The fourth neighbour by ID is marketing-eu: the transfer is cut
			// (the system still shows as where the email is held).
			if _, ok := findEdge(s, EdgeTransferredTo, janeEmail, marketingEU); ok == (tt.q.PerHop == 3) {
				t.Errorf("transferred-to present = %v with PerHop %d", ok, tt.q.PerHop)
			}
		})
	}
	// Leaves at the depth limit cut nothing: upstream from the preferences
	// reaches every source at depth 2.
	if s := query(t, g, DirUpstream, janePreferences, Query{Depth: 2}); s.IsPartial {
		t.Errorf("upstream depth 2 is partial: %v", ids(s))
	}
	if s := query(t, g, DirUpstream, janePreferences, Query{Depth: 1}); !s.IsPartial {
		t.Error("upstream depth 1 (sources cut) is not partial")
	}
}

func TestSharedNodesDoNotLeakBetweenPeople(t *testing.T) {
	g := build(t)
	tests := []struct {
		name  string
		dir   Direction
		start string
		want  []string
		not   []string
	}{
		{"subject downstream is only their data", DirDownstream, SubjectID(tenant, "jane"), []string{janeEmail, adNetwork, socialCo}, []string{johnPreferences, otherBroker}},
		{"subject upstream", DirUpstream, SubjectID(tenant, "john"), []string{webForm, johnPreferences}, []string{janeEmail, checkout}},
		{"system downstream: where data in crm went", DirDownstream, crm, []string{janeEmail, adNetwork, marketingEU, otherBroker}, nil},
		{"system upstream: where data in orders came from", DirUpstream, orders, []string{janePurchases, checkout}, []string{webForm, janeEmail}},
		{"source downstream", DirDownstream, checkout, []string{janePurchases, dataBroker}, []string{adNetwork, otherBroker}},
		{"recipient upstream: what the broker got and from where", DirUpstream, dataBroker, []string{janePreferences, janePurchases, checkout}, []string{otherBroker, johnPreferences}},
		{"recipient downstream is nothing further", DirDownstream, dataBroker, nil, []string{janePreferences}},
		{"activity downstream: its outputs", DirDownstream, profiling, []string{janePreferences, johnPreferences, dataBroker, otherBroker}, []string{janePurchases}},
		{"activity upstream: its inputs", DirUpstream, profiling, []string{janePurchases, janeEmail, webForm}, []string{janePreferences}},
		{"element does not cross through a shared activity", DirUpstream, johnPreferences, []string{webForm}, []string{janeEmail, janePurchases, checkout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantNodes(t, query(t, g, tt.dir, tt.start, Query{}), tt.want, tt.not)
		})
	}
}

func TestBothIsTheUnionOfUpstreamAndDownstream(t *testing.T) {
	g := build(t)
	b := query(t, g, DirBoth, janePreferences, Query{})
	up := query(t, g, DirUpstream, janePreferences, Query{})
	down := query(t, g, DirDownstream, janePreferences, Query{})
	want := append(ids(up), ids(down)...)
	slices.Sort(want)
	want = slices.Compact(want)
	if got := ids(b); !slices.Equal(got, want) {
		t.Errorf("both = %v, want %v", got, want)
	}
	if len(b.Edges) < len(up.Edges) || len(b.Edges) < len(down.Edges) {
		t.Error("both has fewer edges than one direction")
	}
	// Not an undirected walk: the inputs' other uses are not included.
	wantNodes(t, b, []string{checkout, dataBroker, socialCo}, []string{adNetwork})
	if _, ok := findEdge(b, EdgeTransferredTo, janeEmail, marketingEU); ok {
		t.Error("both follows an input's transfers")
	}
}

func TestDuplicatesAreIgnoredAndEdgesProveTheirEvents(t *testing.T) {
	recs := decodeAll(t, scenario())
	g := New(Options{})
	for i, r := range recs {
		if !g.Apply(r) {
			t.Errorf("event %d not new", i)
		}
	}
	for i, r := range recs {
		if g.Apply(r) {
			t.Errorf("duplicate %d applied", i)
		}
	}
	again := fixture{40, event.TypeShared, at(20, 0), "jane", `{"recipient":{"name":"AdNetwork Inc","kind":"advertising_network","role":"third_party","country":"CA"},
		"elements":[{"name":"email","category":"contact.email"}],"purposes":["marketing"],"disclosure":"sale","system":"crm"}`}
	g.Apply(decodeAll(t, []fixture{again})[0])
	s := query(t, g, DirDownstream, janeEmail, Query{})
	e, _ := findEdge(s, EdgeSharedWith, janeEmail, adNetwork)
	if !e.First.Equal(at(1, 0)) || !e.Last.Equal(at(20, 0)) || len(e.EventIDs) != 2 ||
		!slices.Equal(e.Attrs[AttrPurpose], []string{"marketing", "targeted_advertising"}) || !slices.Equal(e.Attrs[AttrCountry], []string{"CA", "US"}) {
		t.Errorf("repeated disclosure edge = %+v", e)
	}
	if n, _ := s.Node(adNetwork); !slices.Equal(n.Countries, []string{"CA", "US"}) {
		t.Errorf("countries = %v", n.Countries)
	}
	if s := query(t, g, DirDownstream, janeEmail, Query{AsOf: at(10, 0)}); func() bool {
		e, _ := findEdge(s, EdgeSharedWith, janeEmail, adNetwork)
		return len(e.EventIDs) != 1 || !e.Last.Equal(at(1, 0))
	}() {
		t.Error("as of before the second disclosure shows it")
	}
}

func TestIDsAreUnambiguous(t *testing.T) {
	if a, b := SystemID("a/b", "c"), SystemID("a", "b/c"); a == b {
		t.Errorf("%q == %q", a, b)
	}
	if got := SourceID("t", "consumer", "web form"); got != "source:t/consumer/web form" {
		t.Errorf("source ID = %q", got)
	}
	if got := ElementID("t", "p", "contact.email", "a/b%"); got != "element:t/p/contact.email/a%2Fb%25" {
		t.Errorf("element ID = %q", got)
	}
}

func TestUnknownStartNodeAndDirection(t *testing.T) {
	g := build(t)
	if _, err := g.Upstream("element:nope", Query{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	if _, err := g.Lineage(janeEmail, "sideways", Query{}); err == nil {
		t.Error("unknown direction accepted")
	}
}
