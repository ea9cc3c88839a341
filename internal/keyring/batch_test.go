package keyring

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// batchStore adds the BatchStore methods to memStore and counts round trips.
type batchStore struct {
	*memStore
	reads, writes atomic.Int64
}

func (s *batchStore) KeysFor(ctx context.Context, tenant string, subjects []string) ([]WrappedKey, error) {
	s.reads.Add(1)
	var out []WrappedKey
	for _, subj := range subjects {
		k, err := s.memStore.Keys(ctx, tenant, subj)
		if err != nil {
			return nil, err
		}
		out = append(out, k...)
	}
	return out, nil
}

func (s *batchStore) PutKeys(ctx context.Context, keys []WrappedKey) error {
	s.writes.Add(1)
	for _, k := range keys {
		if err := s.memStore.PutKey(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func TestDataKeysFor_ManySubjectsInConstantRoundTripsBeyondTheCache(t *testing.T) {
	ctx := context.Background()
	store := &batchStore{memStore: newMemStore(false)}
	mk := mustMaster(t)
	kr, err := NewWithOptions(store, Options{CacheSize: 10}, mk)
	if err != nil {
		t.Fatal(err)
	}
	subjects := make([]string, 500) // fifty times the cache
	for i := range subjects {
		subjects[i] = fmt.Sprintf("subject-%04d", i)
	}
	keys, err := kr.DataKeysFor(ctx, "acme", append(subjects, subjects[:10]...)) // duplicates too
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(subjects) {
		t.Fatalf("got %d keys, want %d", len(keys), len(subjects))
	}
	if r, w := store.reads.Load(), store.writes.Load(); r != 2 || w != 1 {
		t.Fatalf("round trips: %d reads, %d writes; want 2 and 1", r, w)
	}
	// Every returned key seals what the keyring (from the store) opens.
	for _, s := range subjects[:50] {
		sealed, err := keys[s].Seal([]byte("value of "+s), []byte("aad"))
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := New(store, mk)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := fresh.Open(ctx, "acme", s, sealed, []byte("aad"))
		if err != nil || string(plain) != "value of "+s {
			t.Fatalf("open %s: %q, %v", s, plain, err)
		}
	}
	// A second call finds the stored keys and creates none.
	again, err := kr.DataKeysFor(ctx, "acme", subjects)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subjects {
		if again[s].KeyID != keys[s].KeyID {
			t.Fatalf("%s: key changed from %s to %s", s, keys[s].KeyID, again[s].KeyID)
		}
	}
	if w := store.writes.Load(); w != 1 {
		t.Fatalf("second call wrote keys (%d writes)", w)
	}
}
