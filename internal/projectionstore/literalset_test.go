package projectionstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/custodyhq/custody/internal/identity"
)

// Reads pass short hash lists as a literal set and long ones (over 1,000)
// through a subquery; both forms must read exactly the same rows.
func TestLiteralAndSubquerySetsReadTheSame(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	events := genStream(rand.New(rand.NewPCG(7, 7)), 400, 4)
	if _, err := e.Log.Append(ctx, events); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"acme", "globex"} {
		for p := range 4 {
			ref, err := e.Hasher.Ref(identity.Identifier{Kind: identity.Email, Value: fmt.Sprintf("p%d@example.com", p)})
			if err != nil {
				t.Fatal(err)
			}
			short, err := e.store.Neighbours(ctx, tenant, []string{ref.Hash})
			if err != nil {
				t.Fatal(err)
			}
			if len(short) == 0 {
				continue // this person's events are in the other tenant
			}
			hashes := []string{ref.Hash}
			for _, r := range short {
				hashes = append(hashes, r.Hash)
			}
			long := slices.Clone(hashes)
			for i := range 257 {
				long = append(long, fmt.Sprintf("%064x", i)) // hashes no event names
			}
			shortN, err := e.store.Neighbours(ctx, tenant, hashes)
			if err != nil {
				t.Fatal(err)
			}
			longN, err := e.store.Neighbours(ctx, tenant, long)
			if err != nil {
				t.Fatal(err)
			}
			if !sameRefs(shortN, longN) {
				t.Errorf("%s p%d: Neighbours differ: %d literal, %d subquery", tenant, p, len(shortN), len(longN))
			}
			shortE, err := e.Log.ByPerson(ctx, tenant, hashes)
			if err != nil {
				t.Fatal(err)
			}
			longE, err := e.Log.ByPerson(ctx, tenant, long)
			if err != nil {
				t.Fatal(err)
			}
			if len(shortE) == 0 || len(shortE) != len(longE) {
				t.Fatalf("%s p%d: ByPerson read %d events with a literal set, %d with a subquery", tenant, p, len(shortE), len(longE))
			}
			for i := range shortE {
				if shortE[i].Event.ID != longE[i].Event.ID {
					t.Fatalf("%s p%d: event %d differs: %s and %s", tenant, p, i, shortE[i].Event.ID, longE[i].Event.ID)
				}
			}
		}
	}
}

func sameRefs(a, b []identity.Ref) bool {
	key := func(r identity.Ref) string { return r.Hash }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, r := range a {
		ka[i] = key(r)
	}
	for i, r := range b {
		kb[i] = key(r)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}
