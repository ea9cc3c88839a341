package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// The property: for random streams of every event type, with identity links,
// duplicates and shuffled delivery, the projections built incrementally in
// order, incrementally from a shuffled copy with duplicates, and by Rebuild
// all equal a reference fold written here independently, in the most direct
// way: components by repeated merging of identifier sets, and every field of
// a record computed straight from its definition over the filtered events.

func TestPropertyIncrementalEqualsRebuildEqualsReference(t *testing.T) {
	covered := map[string]int{} // what the streams exercised, over all seeds
	defer func() {
		for _, what := range []string{"held", "corrected", "erased", "value", "shredded", "transferred only", "disclosure", "activity", "automated decision", "consent", "merge", "empty record"} {
			if covered[what] == 0 && !t.Failed() {
				t.Errorf("the generated streams never produced: %s (%v)", what, covered)
			}
		}
	}()
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed*7919))
			stream := genStream(rng, 300)

			inOrder := NewProjector()
			for _, r := range stream {
				inOrder.Apply(r)
			}

			shuffled := append([]event.Recorded(nil), stream...)
			for range len(stream) / 5 {
				shuffled = append(shuffled, stream[rng.IntN(len(stream))])
			}
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			incremental := NewProjector()
			for i, r := range shuffled {
				incremental.Apply(r)
				if i == len(shuffled)/3 || i == 2*len(shuffled)/3 {
					// Mid-stream, the projection equals the reference over what arrived so far.
					checkAgainstReference(t, fmt.Sprintf("shuffled prefix %d", i+1), incremental, newReference(shuffled[:i+1]))
				}
			}

			rebuilt := Rebuild(stream)
			want := newReference(stream)
			if len(want.persons("ink")) < 3 {
				t.Fatalf("generator made too few people (%d) to test merging", len(want.persons("ink")))
			}
			checkAgainstReference(t, "in order", inOrder, want)
			checkAgainstReference(t, "shuffled with duplicates", incremental, want)
			checkAgainstReference(t, "rebuilt", rebuilt, want)
			t.Logf("%d events, %d people (ink), %d merges", len(stream), len(want.persons("ink")), len(want.merges("ink")))
			covered["merge"] += len(want.merges("ink"))
			for _, person := range want.persons("ink") {
				r := want.record("ink", person, Window{})
				for _, e := range r.Elements {
					covered[string(e.Status)]++
					if e.Value != nil {
						covered["value"]++
					}
					if e.Shredded {
						covered["shredded"]++
					}
					if e.StatusAt.IsZero() {
						covered["transferred only"]++
					}
				}
				covered["disclosure"] += len(r.Disclosures)
				covered["activity"] += len(r.Activities)
				for _, a := range r.Activities {
					covered["automated decision"] += len(a.AutomatedDecisions)
				}
				covered["consent"] += len(r.Consents)
				if r := want.record("ink", person, Window{From: day(25), To: day(25)}); r.Events == 0 {
					covered["empty record"]++
				}
			}
		})
	}
}

func checkAgainstReference(t *testing.T, name string, p *Projector, want *reference) {
	t.Helper()
	windows := []Window{{}, {From: day(10), To: day(40)}, {From: day(30)}, {To: day(20)}, {From: day(25), To: day(25)}}
	for _, tenant := range []string{"ink", "acme", "empty"} {
		persons := want.persons(tenant)
		if got := p.Persons(tenant); !reflect.DeepEqual(got, persons) {
			t.Fatalf("%s: %s persons:%s", name, tenant, diff(persons, got))
		}
		for _, c := range want.components[tenant] {
			for _, r := range c {
				if got, _ := p.PersonOf(tenant, r); got != want.personOf(tenant, r) {
					t.Fatalf("%s: %s PersonOf(%v) = %s, want %s", name, tenant, r, got, want.personOf(tenant, r))
				}
			}
		}
		if got, ws := p.Identities().Merges(tenant), want.merges(tenant); !reflect.DeepEqual(got, ws) {
			t.Fatalf("%s: %s merges:\n want %+v\n  got %+v", name, tenant, ws, got)
		}
		for _, w := range windows {
			if got, ws := p.DataMap(tenant, w), want.dataMap(tenant, w); !reflect.DeepEqual(got, ws) {
				t.Fatalf("%s: %s data map %v:\n want %+v\n  got %+v", name, tenant, w, ws, got)
			}
			for _, person := range persons {
				got, ok := p.Record(tenant, person, w)
				if !ok {
					t.Fatalf("%s: no record for %s", name, person)
				}
				if d := diff(want.record(tenant, person, w), got); d != "" {
					t.Fatalf("%s: %s record of %s over %v differs:%s", name, tenant, person, w, d)
				}
			}
		}
	}
}

// ---- generator ----

var (
	genElements = []event.Element{
		{Name: "email", Category: "contact.email"}, {Name: "phone", Category: "contact.phone"},
		{Name: "card", Category: "financial.card_number"}, {Name: "orders", Category: "commercial.purchase_history"},
		{Name: "ip", Category: "online.ip_address"}, {Name: "device", Category: "device.identifier"},
		{Name: "name", Category: "identity.name"}, {Name: "prefs", Category: "inference.preferences"},
		{Name: "segment", Category: "inference.segment"}, {Name: "browsing", Category: "online.browsing_history"},
	}
	genPurposes   = []string{"order_fulfilment", "payment_processing", "marketing", "targeted_advertising", "analytics", "personalization"}
	genOrigins    = []event.Origin{{Kind: "consumer", Name: "checkout"}, {Kind: "social_network", Name: "Google"}, {Kind: "data_broker", Name: "Acxiom"}, {Kind: "device"}}
	genSystems    = []string{"orders-db", "crm", "warehouse", "ads", ""}
	genRecipients = []event.Recipient{
		{Name: "AdNet", Kind: "advertising_network", Role: "third_party", Country: "US"},
		{Name: "Resell", Kind: "reseller", Role: "service_provider"},
		{Name: "Resell", Kind: "reseller", Role: "third_party", Country: "CA"},
		{Name: "Broker", Kind: "data_broker", Role: "third_party", Country: "GB"},
	}
	genDisclosures = []string{"business_purpose", "sale", "sharing"}
	genChoices     = []string{"sale", "sharing", "marketing_email"}
	genMechanisms  = []string{"gpc", "form", "banner"}
	genActivities  = []string{"profiling", "scoring"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// pickN returns 1..n distinct items of xs.
func pickN[T any](rng *rand.Rand, xs []T, n int) []T {
	k := 1 + rng.IntN(n)
	out := make([]T, 0, k)
	for _, i := range rng.Perm(len(xs))[:k] {
		out = append(out, xs[i])
	}
	return out
}

func withValues(rng *rand.Rand, els []event.Element) []event.Element {
	out := make([]event.Element, len(els))
	for i, e := range els {
		out[i] = e
		if rng.IntN(2) == 0 {
			out[i].Value = json.RawMessage(fmt.Sprintf(`"v%d"`, rng.IntN(1000)))
		}
	}
	return out
}

func withoutValues(els []event.Element) []event.Element {
	out := make([]event.Element, len(els))
	for i, e := range els {
		out[i] = event.Element{Name: e.Name, Category: e.Category}
	}
	return out
}

// genStream makes n events over ~24 identifiers in two tenants (the same
// identifier hashes in both, which must not join them), with few enough
// multi-identifier events to leave several people, times on a coarse grid so
// that ties are common, and every event type.
func genStream(rng *rand.Rand, n int) []event.Recorded {
	var pool []identity.Ref
	for i := range 24 {
		k := identity.Kinds()[i%len(identity.Kinds())]
		r := identity.Ref{Kind: k, Hash: fmt.Sprintf("%016x", rng.Uint64())}
		if k == identity.External {
			r.Namespace = pick(rng, []string{"crm", "zendesk"})
		}
		pool = append(pool, r)
	}
	var out []event.Recorded
	for i := range n {
		tenant := "ink"
		if rng.IntN(5) == 0 {
			tenant = "acme"
		}
		ids := []identity.Ref{pick(rng, pool)}
		if rng.IntN(50) == 0 {
			ids = append(ids, pick(rng, pool)) // may repeat: one identifier named twice
		}
		var data event.Data
		shredded := false
		switch x := rng.IntN(100); {
		case x < 24:
			d := &event.Collected{Elements: withValues(rng, pickN(rng, genElements, 3)), Origin: pick(rng, genOrigins),
				Purposes: pickN(rng, genPurposes, 2), System: pick(rng, genSystems)}
			if rng.IntN(10) == 0 {
				d.Purposes = nil
			}
			if rng.IntN(15) == 0 {
				shredded = true
				d.Elements = withoutValues(d.Elements)
			}
			data = d
		case x < 36:
			data = &event.Shared{Recipient: pick(rng, genRecipients), Elements: withValues(rng, pickN(rng, genElements, 3)),
				Purposes: pickN(rng, genPurposes, 2), Disclosure: pick(rng, genDisclosures), System: pick(rng, genSystems)}
		case x < 46:
			d := &event.Processed{Activity: pick(rng, genActivities), Purposes: pickN(rng, genPurposes, 2),
				Inputs: pickN(rng, genElements[:7], 2), System: pick(rng, genSystems[:4])}
			if rng.IntN(3) > 0 {
				d.Outputs = withValues(rng, pickN(rng, genElements[7:9], 2))
			}
			if rng.IntN(3) == 0 {
				d.AutomatedDecision = &event.AutomatedDecision{Significant: rng.IntN(2) == 0, Logic: pick(rng, []string{"score > 5", "segment rules"})}
			}
			data = d
		case x < 53:
			data = &event.Transferred{Elements: pickN(rng, genElements, 3), FromSystem: pick(rng, genSystems[:4]), ToSystem: pick(rng, genSystems[:4])}
		case x < 61:
			data = &event.Corrected{Elements: withValues(rng, pickN(rng, genElements, 2)), System: pick(rng, genSystems)}
		case x < 70:
			d := &event.Erased{Reason: pick(rng, []string{"consumer_request", "retention"}), System: pick(rng, genSystems)}
			switch rng.IntN(3) {
			case 0:
				d.Elements = withoutValues(pickN(rng, genElements, 2))
			case 1:
				for _, e := range pickN(rng, genElements, 2) {
					d.Categories = append(d.Categories, e.Category)
				}
			default:
				d.All, d.RequestID = true, "req-1"
			}
			data = d
		case x < 82:
			data = &event.ConsentChanged{Choice: pick(rng, genChoices), Status: pick(rng, event.ConsentStatuses()),
				Mechanism: pick(rng, genMechanisms)}
		case x < 92:
			data = &event.Linked{}
			ids = append(ids, pick(rng, pool))
			if rng.IntN(4) == 0 {
				ids = append(ids, pick(rng, pool))
			}
			if rng.IntN(3) > 0 {
				ids = []identity.Ref{pick(rng, pool)} // a link naming one identifier is just a sighting
			}
		case x < 97:
			data = &event.Request{RequestID: "req-1", Kind: "know"}
			ids = append(ids, pick(rng, pool)) // must not link
		default:
			data = &event.Collected{Elements: pickN(rng, genElements, 1), Origin: pick(rng, genOrigins), Purposes: genPurposes[:1]}
			ids = nil // no identifiers: ignored
		}
		at := day(rng.IntN(60)).Add(time.Duration(rng.IntN(3)) * time.Hour)
		r := rec(0, at, tenant, ids, data)
		binary.BigEndian.PutUint64(r.Event.ID[:8], rng.Uint64()) // random ids: ties in time break in no particular order
		binary.BigEndian.PutUint64(r.Event.ID[8:], uint64(i))
		r.Shredded = shredded
		out = append(out, r)
	}
	return out
}

// ---- reference fold ----

type reference struct {
	events     map[string][]event.Recorded          // per tenant, distinct by id, without request.* or identifier-less events
	components map[string][][]identity.Ref          // per tenant
	owner      map[string]map[identity.Ref]PersonID // per tenant
}

func refLess(a, b identity.Ref) bool {
	ra, rb := -1, -1
	for i, k := range identity.Kinds() {
		if a.Kind == k {
			ra = i
		}
		if b.Kind == k {
			rb = i
		}
	}
	if ra != rb {
		return ra < rb
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Hash < b.Hash
}

func newReference(stream []event.Recorded) *reference {
	ref := &reference{events: map[string][]event.Recorded{}, components: map[string][][]identity.Ref{}, owner: map[string]map[identity.Ref]PersonID{}}
	seen := map[uuid.UUID]bool{}
	for _, r := range stream {
		if seen[r.Event.ID] || r.Event.Type.Internal() || len(r.Identifiers) == 0 {
			continue
		}
		seen[r.Event.ID] = true
		ref.events[r.Event.Tenant] = append(ref.events[r.Event.Tenant], r)
	}
	for tenant, evs := range ref.events {
		// Start with one group per event; merge any two groups sharing an
		// identifier until none do.
		var groups []map[identity.Ref]bool
		for _, e := range evs {
			g := map[identity.Ref]bool{}
			for _, r := range e.Identifiers {
				g[r] = true
			}
			groups = append(groups, g)
		}
		for merged := true; merged; {
			merged = false
			for i := 0; i < len(groups) && !merged; i++ {
				for j := i + 1; j < len(groups) && !merged; j++ {
					for r := range groups[j] {
						if groups[i][r] {
							for r2 := range groups[j] {
								groups[i][r2] = true
							}
							groups = append(groups[:j], groups[j+1:]...)
							merged = true
							break
						}
					}
				}
			}
		}
		ref.owner[tenant] = map[identity.Ref]PersonID{}
		for _, g := range groups {
			var c []identity.Ref
			for r := range g {
				c = append(c, r)
			}
			sort.Slice(c, func(i, j int) bool { return refLess(c[i], c[j]) })
			ref.components[tenant] = append(ref.components[tenant], c)
			for _, r := range c {
				ref.owner[tenant][r] = PersonID(c[0].String())
			}
		}
	}
	return ref
}

func (ref *reference) personOf(tenant string, r identity.Ref) PersonID { return ref.owner[tenant][r] }

func (ref *reference) persons(tenant string) []PersonID {
	var out []PersonID
	for _, c := range ref.components[tenant] {
		out = append(out, PersonID(c[0].String()))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (ref *reference) component(tenant string, person PersonID) []identity.Ref {
	for _, c := range ref.components[tenant] {
		if PersonID(c[0].String()) == person {
			return c
		}
	}
	return nil
}

func eventLess(a, b *event.Event) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	return bytes.Compare(a.ID[:], b.ID[:]) < 0
}

func (ref *reference) merges(tenant string) []Merge {
	evs := append([]event.Recorded(nil), ref.events[tenant]...)
	sort.Slice(evs, func(i, j int) bool { return eventLess(evs[i].Event, evs[j].Event) })
	var groups []map[identity.Ref]bool
	smallest := func(g map[identity.Ref]bool) PersonID {
		var best *identity.Ref
		for r := range g {
			if best == nil || refLess(r, *best) {
				best = &r
			}
		}
		return PersonID(best.String())
	}
	var out []Merge
	for _, e := range evs {
		joined := map[identity.Ref]bool{}
		var former []PersonID
		var rest []map[identity.Ref]bool
		for _, g := range groups {
			touches := false
			for _, r := range e.Identifiers {
				touches = touches || g[r]
			}
			if !touches {
				rest = append(rest, g)
				continue
			}
			former = append(former, smallest(g))
			for r := range g {
				joined[r] = true
			}
		}
		for _, r := range e.Identifiers {
			joined[r] = true
		}
		groups = append(rest, joined)
		if len(former) > 1 {
			sort.Slice(former, func(i, j int) bool { return former[i] < former[j] })
			out = append(out, Merge{Event: e.Event.ID, Time: e.Event.Time, Former: former, Into: smallest(joined)})
		}
	}
	return out
}

// eventsOf returns the person's events in the window.
func (ref *reference) eventsOf(tenant string, person PersonID, w Window) []event.Recorded {
	var out []event.Recorded
	for _, e := range ref.events[tenant] {
		inWindow := (w.From.IsZero() || !e.Event.Time.Before(w.From)) && (w.To.IsZero() || e.Event.Time.Before(w.To))
		if inWindow && ref.owner[tenant][e.Identifiers[0]] == person {
			out = append(out, e)
		}
	}
	return out
}

func sortedStrings(m map[string]bool) []string {
	var out []string
	for s, ok := range m {
		if ok && s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[ElementKey]bool) []ElementKey {
	var out []ElementKey
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Category != out[j].Category {
			return out[i].Category < out[j].Category
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func sortedSources(m map[Source]bool) []Source {
	var out []Source
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// mention is one element an event names, with what the event says about it.
type mention struct {
	key       ElementKey
	value     json.RawMessage
	collected bool   // a collection or derivation
	source    Source // if collected
	purposes  []string
	systems   []string
	status    Status // "" if the event decides no status for it
}

func mentions(e event.Recorded) []mention {
	var out []mention
	switch d := e.Event.Data.(type) {
	case *event.Collected:
		for _, x := range d.Elements {
			out = append(out, mention{ElementKey{x.Name, x.Category}, x.Value, true, Source{d.Origin.Kind, d.Origin.Name}, d.Purposes, []string{d.System}, StatusHeld})
		}
	case *event.Processed:
		for _, x := range d.Outputs {
			out = append(out, mention{ElementKey{x.Name, x.Category}, x.Value, true, Source{"inferred", d.Activity}, d.Purposes, []string{d.System}, StatusHeld})
		}
	case *event.Transferred:
		for _, x := range d.Elements {
			out = append(out, mention{key: ElementKey{x.Name, x.Category}, systems: []string{d.FromSystem, d.ToSystem}})
		}
	case *event.Corrected:
		for _, x := range d.Elements {
			out = append(out, mention{key: ElementKey{x.Name, x.Category}, value: x.Value, systems: []string{d.System}, status: StatusCorrected})
		}
	case *event.Erased:
		for _, x := range d.Elements {
			out = append(out, mention{key: ElementKey{x.Name, x.Category}, status: StatusErased})
		}
	}
	return out
}

func erases(e event.Recorded, k ElementKey) bool {
	d, ok := e.Event.Data.(*event.Erased)
	if !ok {
		return false
	}
	if d.All {
		return true
	}
	for _, c := range d.Categories {
		if c == k.Category {
			return true
		}
	}
	for _, x := range d.Elements {
		if x.Name == k.Name && x.Category == k.Category {
			return true
		}
	}
	return false
}

func (ref *reference) record(tenant string, person PersonID, w Window) Record {
	evs := ref.eventsOf(tenant, person, w)
	r := Record{Tenant: tenant, Person: person, Identifiers: ref.component(tenant, person), Window: w, Events: len(evs)}

	keys := map[ElementKey]bool{}
	for _, e := range evs {
		for _, m := range mentions(e) {
			keys[m.key] = true
		}
	}
	for _, k := range sortedKeys(keys) {
		x := Element{ElementKey: k, Status: StatusHeld}
		sources, purposes, systems := map[Source]bool{}, map[string]bool{}, map[string]bool{}
		var statusEv, valueEv *event.Recorded
		var statusOf Status
		var value json.RawMessage
		for i, e := range evs {
			for _, m := range mentions(e) {
				if m.key != k {
					continue
				}
				if m.collected {
					if x.FirstCollected.IsZero() || e.Event.Time.Before(x.FirstCollected) {
						x.FirstCollected = e.Event.Time
					}
					if e.Event.Time.After(x.LastCollected) {
						x.LastCollected = e.Event.Time
					}
					sources[m.source] = true
					for _, p := range m.purposes {
						purposes[p] = true
					}
				}
				for _, s := range m.systems {
					systems[s] = true
				}
				if m.status == StatusHeld || m.status == StatusCorrected {
					if (len(m.value) > 0 || e.Shredded) && (valueEv == nil || eventLess(valueEv.Event, e.Event)) {
						valueEv, value = &evs[i], m.value
					}
				}
				if m.status != "" && m.status != StatusErased && (statusEv == nil || eventLess(statusEv.Event, e.Event)) {
					statusEv, statusOf = &evs[i], m.status
				}
			}
			if erases(e, k) {
				if statusEv == nil || eventLess(statusEv.Event, e.Event) {
					statusEv, statusOf = &evs[i], StatusErased
				}
				if valueEv == nil || eventLess(valueEv.Event, e.Event) {
					valueEv, value = &evs[i], nil
				}
			}
		}
		x.Sources, x.Purposes, x.Systems = nil, sortedStrings(purposes), sortedStrings(systems)
		if len(sources) > 0 {
			x.Sources = sortedSources(sources)
		}
		if statusEv != nil {
			x.Status, x.StatusAt, x.StatusEvent = statusOf, statusEv.Event.Time, statusEv.Event.ID
		}
		if valueEv != nil {
			if len(value) > 0 {
				x.Value = value
			} else if valueEv.Shredded && !erases(*valueEv, k) {
				x.Shredded = true
			}
		}
		r.Elements = append(r.Elements, x)
	}

	// Categories, from the elements just computed.
	byCat := map[string][]Element{}
	var cats []string
	for _, x := range r.Elements {
		if byCat[x.Category] == nil {
			cats = append(cats, x.Category)
		}
		byCat[x.Category] = append(byCat[x.Category], x)
	}
	sort.Strings(cats)
	for _, c := range cats {
		s := CategorySummary{Category: c}
		sources, purposes, systems := map[Source]bool{}, map[string]bool{}, map[string]bool{}
		for _, x := range byCat[c] {
			s.Elements = append(s.Elements, x.Name)
			if !x.FirstCollected.IsZero() && (s.FirstCollected.IsZero() || x.FirstCollected.Before(s.FirstCollected)) {
				s.FirstCollected = x.FirstCollected
			}
			if x.LastCollected.After(s.LastCollected) {
				s.LastCollected = x.LastCollected
			}
			for _, v := range x.Sources {
				sources[v] = true
			}
			for _, v := range x.Purposes {
				purposes[v] = true
			}
			for _, v := range x.Systems {
				systems[v] = true
			}
		}
		sort.Strings(s.Elements)
		if len(sources) > 0 {
			s.Sources = sortedSources(sources)
		}
		s.Purposes, s.Systems = sortedStrings(purposes), sortedStrings(systems)
		r.Categories = append(r.Categories, s)
	}

	// Disclosures.
	dkeys := map[DisclosureKey]bool{}
	for _, e := range evs {
		if d, ok := e.Event.Data.(*event.Shared); ok {
			dkeys[DisclosureKey{d.Recipient.Name, d.Recipient.Kind, d.Recipient.Role, d.Disclosure}] = true
		}
	}
	var dks []DisclosureKey
	for k := range dkeys {
		dks = append(dks, k)
	}
	sort.Slice(dks, func(i, j int) bool {
		a, b := dks[i], dks[j]
		return fmt.Sprint(a.Recipient, "\x00", a.Kind, "\x00", a.Role, "\x00", a.Disclosure) < fmt.Sprint(b.Recipient, "\x00", b.Kind, "\x00", b.Role, "\x00", b.Disclosure)
	})
	for _, k := range dks {
		x := Disclosure{DisclosureKey: k}
		cats, els, purposes, countries := map[string]bool{}, map[ElementKey]bool{}, map[string]bool{}, map[string]bool{}
		for _, e := range evs {
			d, ok := e.Event.Data.(*event.Shared)
			if !ok || (DisclosureKey{d.Recipient.Name, d.Recipient.Kind, d.Recipient.Role, d.Disclosure}) != k {
				continue
			}
			x.Count++
			if x.First.IsZero() || e.Event.Time.Before(x.First) {
				x.First = e.Event.Time
			}
			if e.Event.Time.After(x.Last) {
				x.Last = e.Event.Time
			}
			for _, v := range d.Elements {
				cats[v.Category], els[ElementKey{v.Name, v.Category}] = true, true
			}
			for _, p := range d.Purposes {
				purposes[p] = true
			}
			countries[d.Recipient.Country] = true
		}
		x.Categories, x.Purposes, x.Countries = sortedStrings(cats), sortedStrings(purposes), sortedStrings(countries)
		if len(els) > 0 {
			x.Elements = sortedKeys(els)
		}
		r.Disclosures = append(r.Disclosures, x)
	}

	// Activities.
	akeys := map[ActivityKey]bool{}
	for _, e := range evs {
		if d, ok := e.Event.Data.(*event.Processed); ok {
			akeys[ActivityKey{d.Activity, d.System}] = true
		}
	}
	var aks []ActivityKey
	for k := range akeys {
		aks = append(aks, k)
	}
	sort.Slice(aks, func(i, j int) bool {
		if aks[i].Activity != aks[j].Activity {
			return aks[i].Activity < aks[j].Activity
		}
		return aks[i].System < aks[j].System
	})
	for _, k := range aks {
		x := Activity{ActivityKey: k}
		purposes, ins, outs := map[string]bool{}, map[ElementKey]bool{}, map[ElementKey]bool{}
		decisions := map[event.AutomatedDecision]bool{}
		for _, e := range evs {
			d, ok := e.Event.Data.(*event.Processed)
			if !ok || (ActivityKey{d.Activity, d.System}) != k {
				continue
			}
			x.Count++
			if x.First.IsZero() || e.Event.Time.Before(x.First) {
				x.First = e.Event.Time
			}
			if e.Event.Time.After(x.Last) {
				x.Last = e.Event.Time
			}
			for _, p := range d.Purposes {
				purposes[p] = true
			}
			for _, v := range d.Inputs {
				ins[ElementKey{v.Name, v.Category}] = true
			}
			for _, v := range d.Outputs {
				outs[ElementKey{v.Name, v.Category}] = true
			}
			if d.AutomatedDecision != nil {
				decisions[*d.AutomatedDecision] = true
			}
		}
		x.Purposes = sortedStrings(purposes)
		if len(ins) > 0 {
			x.Inputs = sortedKeys(ins)
		}
		if len(outs) > 0 {
			x.Outputs = sortedKeys(outs)
		}
		for d := range decisions {
			x.AutomatedDecisions = append(x.AutomatedDecisions, d)
		}
		sort.Slice(x.AutomatedDecisions, func(i, j int) bool {
			a, b := x.AutomatedDecisions[i], x.AutomatedDecisions[j]
			if a.Significant != b.Significant {
				return !a.Significant
			}
			return a.Logic < b.Logic
		})
		r.Activities = append(r.Activities, x)
	}

	// Consents, erasures and corrections, in event order.
	sorted := append([]event.Recorded(nil), evs...)
	sort.Slice(sorted, func(i, j int) bool { return eventLess(sorted[i].Event, sorted[j].Event) })
	consents := map[string]*Consent{}
	var choices []string
	for _, e := range sorted {
		switch d := e.Event.Data.(type) {
		case *event.ConsentChanged:
			c := consents[d.Choice]
			if c == nil {
				c = &Consent{Choice: d.Choice}
				consents[d.Choice] = c
				choices = append(choices, d.Choice)
			}
			c.Timeline = append(c.Timeline, ConsentChange{e.Event.ID, e.Event.Time, d.Status, d.Mechanism, d.System})
			c.Current, c.Since = d.Status, e.Event.Time
		case *event.Erased:
			x := Erasure{Event: e.Event.ID, Time: e.Event.Time, All: d.All, Reason: d.Reason, System: d.System, RequestID: d.RequestID}
			els := map[ElementKey]bool{}
			for _, v := range d.Elements {
				els[ElementKey{v.Name, v.Category}] = true
			}
			if len(els) > 0 {
				x.Elements = sortedKeys(els)
			}
			cats := map[string]bool{}
			for _, c := range d.Categories {
				cats[c] = true
			}
			x.Categories = sortedStrings(cats)
			r.Erasures = append(r.Erasures, x)
		case *event.Corrected:
			els := map[ElementKey]bool{}
			for _, v := range d.Elements {
				els[ElementKey{v.Name, v.Category}] = true
			}
			r.Corrections = append(r.Corrections, Correction{Event: e.Event.ID, Time: e.Event.Time, Elements: sortedKeys(els), System: d.System})
		}
	}
	sort.Strings(choices)
	for _, c := range choices {
		r.Consents = append(r.Consents, *consents[c])
	}
	return r
}

func (ref *reference) dataMap(tenant string, w Window) []DataMapRow {
	people := map[DataMapRow]map[PersonID]bool{}
	add := func(row DataMapRow, person PersonID, purposes []string) {
		if len(purposes) == 0 {
			purposes = []string{""}
		}
		for _, p := range purposes {
			row.Purpose = p
			if people[row] == nil {
				people[row] = map[PersonID]bool{}
			}
			people[row][person] = true
		}
	}
	for _, person := range ref.persons(tenant) {
		for _, e := range ref.eventsOf(tenant, person, w) {
			switch d := e.Event.Data.(type) {
			case *event.Collected:
				for _, x := range d.Elements {
					add(DataMapRow{Flow: FlowCollected, Category: x.Category, SourceKind: d.Origin.Kind}, person, d.Purposes)
				}
			case *event.Processed:
				for _, x := range d.Outputs {
					add(DataMapRow{Flow: FlowCollected, Category: x.Category, SourceKind: "inferred"}, person, d.Purposes)
				}
			case *event.Shared:
				for _, x := range d.Elements {
					add(DataMapRow{Flow: FlowDisclosed, Category: x.Category, RecipientKind: d.Recipient.Kind, RecipientRole: d.Recipient.Role, Disclosure: d.Disclosure}, person, d.Purposes)
				}
			}
		}
	}
	var out []DataMapRow
	for row, ps := range people {
		row.People = len(ps)
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		ka := []string{string(a.Flow), a.Category, a.SourceKind, a.Purpose, a.RecipientKind, a.RecipientRole, a.Disclosure}
		kb := []string{string(b.Flow), b.Category, b.SourceKind, b.Purpose, b.RecipientKind, b.RecipientRole, b.Disclosure}
		for i := range ka {
			if ka[i] != kb[i] {
				return ka[i] < kb[i]
			}
		}
		return false
	})
	return out
}
