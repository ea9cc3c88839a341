package projectionstore_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/projectionstore"
	"github.com/custodyhq/custody/internal/projectionstore/readtest"
)

// env is the real stack: the event log on embedded chDB, the stored
// projections and the inventory service over them.
type env struct {
	readtest.Env
	store *projectionstore.Store
	inv   *inventory.Service
}

func open(t testing.TB) env {
	t.Helper()
	e := readtest.Open(t)
	return env{Env: e, store: e.Store, inv: e.Inventory}
}

// ---- generator ----

var (
	genCategories = []string{"contact.email", "contact.phone", "commercial.purchase_history", "online.ip_address",
		"device.identifier", "inference.preferences", "geolocation.precise"}
	genSources    = []event.Origin{{Kind: "consumer", Name: "signup-form"}, {Kind: "social_network", Name: "Google SSO"}, {Kind: "data_broker", Name: "Acxiom"}}
	genPurposes   = []string{"performing_services", "security", "targeted_advertising", "marketing"}
	genSystems    = []string{"crm", "warehouse", "shop"}
	genRecipients = []struct {
		r event.Recipient
		d string
	}{
		{event.Recipient{Name: "AdNet", Kind: "advertising_network", Role: "third_party", Country: "US"}, "sale"},
		{event.Recipient{Name: "Reseller GmbH", Kind: "reseller", Role: "third_party", Country: "DE"}, "sharing"},
		{event.Recipient{Name: "PayCo", Kind: "payment_processor", Role: "service_provider"}, "business_purpose"},
	}
)

func eventID(n uint64) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], n)
	u[6] = 0x40 // version 4 layout, so the id is a plausible UUID
	u[8] |= 0x80
	return u
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func elements(rng *rand.Rand, values bool) []event.Element {
	n := 1 + rng.IntN(2)
	var out []event.Element
	seen := map[string]bool{}
	for len(out) < n {
		c := pick(rng, genCategories)
		if seen[c] {
			continue
		}
		seen[c] = true
		el := event.Element{Name: c[len(c)-5:], Category: c}
		if values && rng.IntN(2) == 0 {
			el.Value = json.RawMessage(fmt.Sprintf("%q", fmt.Sprintf("v%d", rng.IntN(1000))))
		}
		out = append(out, el)
	}
	return out
}

// genStream makes n events about ~people people over two tenants, with
// identifiers shared inside a person (and, rarely, between people, which
// merges them), every lineage-relevant event type, and subject.linked.
func genStream(rng *rand.Rand, n, people int) []*event.Event {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := func(p int) []identity.Identifier {
		return []identity.Identifier{
			{Kind: identity.Email, Value: fmt.Sprintf("p%d@example.com", p)},
			{Kind: identity.UserID, Value: fmt.Sprintf("u-%d", p)},
			{Kind: identity.DeviceID, Value: fmt.Sprintf("dev-%d", p)},
		}
	}
	out := make([]*event.Event, 0, n)
	for i := range n {
		p := rng.IntN(people)
		all := ids(p)
		var subj []identity.Identifier
		switch r := rng.IntN(200); {
		case r < 120:
			subj = []identity.Identifier{pick(rng, all)}
		case r < 199:
			subj = []identity.Identifier{all[0], pick(rng, all[1:])}
		default: // a link across two people
			subj = []identity.Identifier{all[0], ids(rng.IntN(people))[1]}
		}
		e := &event.Event{ID: eventID(uint64(i + 1)), SpecVersion: event.SpecVersion, Source: "gen",
			Time:   base.Add(time.Duration(rng.IntN(400*24)) * time.Hour).Add(time.Duration(rng.IntN(1000)) * time.Millisecond),
			Tenant: []string{"acme", "globex"}[p%2], Subject: event.Subject{Identifiers: subj}}
		switch rng.IntN(9) {
		case 0, 1:
			e.Type, e.Data = event.TypeCollected, &event.Collected{Elements: elements(rng, true), Origin: pick(rng, genSources),
				Purposes: []string{pick(rng, genPurposes)}, System: pick(rng, genSystems)}
		case 2:
			rc := pick(rng, genRecipients)
			e.Type, e.Data = event.TypeShared, &event.Shared{Recipient: rc.r, Elements: elements(rng, false),
				Purposes: []string{pick(rng, genPurposes), pick(rng, genPurposes)}, Disclosure: rc.d, System: pick(rng, genSystems)}
		case 3:
			e.Type, e.Data = event.TypeProcessed, &event.Processed{Activity: "profiling", Purposes: []string{"targeted_advertising"},
				Inputs: elements(rng, false), Outputs: []event.Element{{Name: "segment", Category: "inference.preferences",
					Value: json.RawMessage(`"gadgets"`)}}, System: "warehouse"}
		case 4:
			e.Type, e.Data = event.TypeTransferred, &event.Transferred{Elements: elements(rng, false), FromSystem: "crm", ToSystem: "warehouse"}
		case 5:
			e.Type, e.Data = event.TypeCorrected, &event.Corrected{Elements: elements(rng, true), System: "crm"}
		case 6:
			er := &event.Erased{Reason: "consumer_request", System: pick(rng, genSystems)}
			if rng.IntN(2) == 0 {
				er.Categories = []string{pick(rng, genCategories)}
			} else {
				er.Elements = elements(rng, false)
			}
			e.Type, e.Data = event.TypeErased, er
		case 7:
			e.Type, e.Data = event.TypeConsentChanged, &event.ConsentChanged{Choice: "sale",
				Status: []event.ConsentStatus{"opted_out", "opted_in"}[rng.IntN(2)], Mechanism: "gpc"}
		default:
			e.Type, e.Data, e.Subject.Identifiers = event.TypeSubjectLinked, &event.Linked{}, []identity.Identifier{all[0], all[2]}
		}
		out = append(out, e)
	}
	return out
}

// expected folds the generated events in memory, with the identifiers hashed
// as the log hashes them: the pure projector is the reference (its own
// property test holds it equal to a reference fold over raw events).
func expected(t *testing.T, h *identity.Hasher, events []*event.Event) *projections.Projector {
	t.Helper()
	recs := make([]event.Recorded, 0, len(events))
	for _, e := range events {
		refs := make([]identity.Ref, len(e.Subject.Identifiers))
		for i, id := range e.Subject.Identifiers {
			r, err := h.Ref(id)
			if err != nil {
				t.Fatal(err)
			}
			refs[i] = r
		}
		recs = append(recs, event.Recorded{Event: e, Identifiers: refs})
	}
	return projections.Rebuild(recs)
}

// appendShuffled appends events in random batches, shuffled, a tenth of them
// twice (in other batches), as redelivery would.
func appendShuffled(t *testing.T, ctx context.Context, e env, rng *rand.Rand, events []*event.Event) {
	t.Helper()
	stream := slices.Clone(events)
	for i := range len(events) / 10 {
		stream = append(stream, events[rng.IntN(len(events))])
		_ = i
	}
	rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	for len(stream) > 0 {
		n := min(len(stream), 1+rng.IntN(300))
		batch := dedupe(stream[:n])
		if _, err := e.Log.Append(ctx, batch); err != nil {
			t.Fatalf("append: %v", err)
		}
		stream = stream[n:]
	}
}

// dedupe keeps one of each event in a batch: Append must not see the same
// *event.Event twice in one call (it takes values out while encoding).
func dedupe(batch []*event.Event) []*event.Event {
	seen := map[uuid.UUID]bool{}
	var out []*event.Event
	for _, e := range batch {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

// check compares every person's record (whole history and a window) and
// each tenant's data map (whole history and a window) with the reference.
func check(t *testing.T, ctx context.Context, name string, e env, want *projections.Projector, events []*event.Event) {
	t.Helper()
	w := projections.Window{From: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}
	checked := map[projections.PersonID]bool{}
	for _, ev := range events {
		for _, id := range ev.Subject.Identifiers {
			ref, _ := e.Hasher.Ref(id)
			pid, ok := want.PersonOf(ev.Tenant, ref)
			if !ok || checked[pid] {
				continue
			}
			checked[pid] = true
			for _, win := range []projections.Window{{}, w} {
				got, err := e.inv.Subject(ctx, ev.Tenant, id, win)
				if err != nil {
					t.Fatalf("%s: subject %v: %v", name, id, err)
				}
				wantRec, _ := want.Record(ev.Tenant, pid, win)
				if !reflect.DeepEqual(got.Record, wantRec) {
					t.Fatalf("%s: record of %s over %v differs:\n got %+v\nwant %+v", name, pid, win, got.Record, wantRec)
				}
				if got.ID != pid {
					t.Fatalf("%s: person id %s, want %s", name, got.ID, pid)
				}
			}
		}
	}
	if len(checked) < 10 {
		t.Fatalf("%s: only %d people checked", name, len(checked))
	}
	for _, tenant := range []string{"acme", "globex"} {
		for _, win := range []projections.Window{{}, w} {
			got, err := e.inv.DataMap(ctx, tenant, win)
			if err != nil {
				t.Fatal(err)
			}
			wantMap := want.DataMap(tenant, win)
			if !reflect.DeepEqual(got, wantMap) {
				t.Fatalf("%s: data map of %s over %v differs:\n got %+v\nwant %+v", name, tenant, win, got, wantMap)
			}
		}
	}
}

// The property: random streams of every event type, with identity links,
// duplicates and shuffled delivery in random batches, give stored
// projections (updated as events arrive) equal to those after a rebuild,
// and both equal to the in-memory reference.
func TestPropertyIncrementalEqualsRebuiltEqualsReference(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			e := open(t)
			rng := rand.New(rand.NewPCG(seed, 99))
			events := genStream(rng, 1500, 60)
			want := expected(t, e.Hasher, events)
			appendShuffled(t, ctx, e, rng, events)
			check(t, ctx, "incremental", e, want, events)

			res, err := e.store.Rebuild(ctx, nil, nil)
			if err != nil {
				t.Fatalf("rebuild: %v", err)
			}
			if len(res) != len(projectionstore.Names()) {
				t.Fatalf("rebuilt %d projections, want %d", len(res), len(projectionstore.Names()))
			}
			for _, r := range res {
				if r.Events < uint64(len(events)) {
					t.Fatalf("rebuild of %s folded %d rows, want at least %d", r.Name, r.Events, len(events))
				}
			}
			check(t, ctx, "rebuilt", e, want, events)

			// The views still feed the swapped-in tables: more events after
			// the rebuild are folded as they arrive.
			more := genStream(rand.New(rand.NewPCG(seed, 7)), 300, 60)
			for i, m := range more {
				m.ID = eventID(uint64(100_000 + i))
			}
			all := append(slices.Clone(events), more...)
			want = expected(t, e.Hasher, all)
			appendShuffled(t, ctx, e, rng, more)
			check(t, ctx, "after rebuild", e, want, all)
		})
	}
}
