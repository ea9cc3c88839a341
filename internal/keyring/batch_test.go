package keyring

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// batchStore adds the BatchStore methods to memStore and counts round trips.
type batchStore struct {
	*memStore
	reads, writes atomic.Int64
	// afterBatchRead, when set, runs as each KeysFor returns.
	afterBatchRead func()
}

func (s *batchStore) KeysFor(ctx context.Context, tenant string, subjects []string) ([]WrappedKey, error) {
	s.reads.Add(1)
	if s.afterBatchRead != nil {
		defer s.afterBatchRead() // lets a test hold both racers after their reads
	}
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
	if r, w := store.reads.Load(), store.writes.Load(); r != 1 || w != 1 {
		t.Fatalf("round trips: %d reads, %d writes; want 1 and 1", r, w)
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

// Two keyrings (two processes) create keys for the same new subjects in
// one batch each, both reading before either writes. Each keeps its own
// key; every value either seals opens with either keyring and with a fresh
// one, and every fresh reader picks the same key.
func TestDataKeysFor_RacingWritersBothStayReadableAndFreshReadersAgree(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	for round := 0; round < 10; round++ {
		store := &batchStore{memStore: newMemStore(round%2 == 1)}
		var arrived sync.WaitGroup
		arrived.Add(2)
		subjects := []string{"alice", "bob"}
		var reads atomic.Int32
		store.afterBatchRead = func() {
			if reads.Add(1) <= 2 {
				arrived.Done()
				arrived.Wait()
			}
		}
		krs := []*Keyring{mustKeyring(t, store, Options{}, mk), mustKeyring(t, store, Options{}, mk)}
		got := make([]map[string]DataKey, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range krs {
			wg.Go(func() { got[i], errs[i] = krs[i].DataKeysFor(ctx, "t", subjects) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		store.afterBatchRead = nil
		for _, s := range subjects {
			if ids := store.liveKeyIDs("t", s); len(ids) != 2 {
				t.Fatalf("round %d: %s has %d live keys, want 2 (the forced race)", round, s, len(ids))
			}
			var picks []string
			for i := 0; i < 3; i++ {
				dk, err := mustKeyring(t, store, Options{}, mk).DataKeyFor(ctx, "t", s)
				if err != nil {
					t.Fatal(err)
				}
				picks = append(picks, dk.KeyID)
			}
			if picks[0] != picks[1] || picks[1] != picks[2] {
				t.Fatalf("round %d: fresh readers disagree on %s: %v", round, s, picks)
			}
			for i, keys := range got {
				sealed, err := keys[s].Seal([]byte(s+" by writer"), []byte("aad"))
				if err != nil {
					t.Fatal(err)
				}
				for j, kr := range append(krs, mustKeyring(t, store, Options{}, mk)) {
					plain, err := kr.Open(ctx, "t", s, sealed, []byte("aad"))
					if err != nil || string(plain) != s+" by writer" {
						t.Fatalf("round %d: writer %d's %s value opened by keyring %d: %q, %v", round, i, s, j, plain, err)
					}
				}
			}
		}
	}
}
