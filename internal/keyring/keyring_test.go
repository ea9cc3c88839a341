package keyring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mustMaster(t testing.TB) MasterKey {
	t.Helper()
	mk, _, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func mustKeyring(t testing.TB, s Store, opts Options, active MasterKey, previous ...MasterKey) *Keyring {
	t.Helper()
	kr, err := NewWithOptions(s, opts, active, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

var storeModes = []struct {
	name       string
	appendOnly bool
}{{"merged", false}, {"append-only", true}}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	store := newMemStore(false)
	kr := mustKeyring(t, store, Options{}, mk)
	cold := mustKeyring(t, store, Options{}, mk) // empty cache, same store

	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"empty", nil, nil},
		{"email", []byte("alice@example.com"), []byte("evt-1")},
		{"no aad", []byte("+33 6 12 34 56 78"), nil},
		{"binary", []byte{0, 1, 2, 255, 0}, []byte{0}},
		{"large", bytes.Repeat([]byte("x"), 64<<10), []byte("evt-large")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := kr.Seal(ctx, "t1", "subj-1", tt.plaintext, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.KeyID) != 16 {
				t.Errorf("KeyID %q: want 16 hex digits", s.KeyID)
			}
			if got, want := len(s.Ciphertext), len(tt.plaintext)+SealOverhead; got != want {
				t.Errorf("ciphertext length %d, want %d", got, want)
			}
			if len(tt.plaintext) >= 8 && bytes.Contains(s.Ciphertext, tt.plaintext) {
				t.Error("ciphertext contains plaintext")
			}
			for name, r := range map[string]*Keyring{"same": kr, "cold": cold} {
				got, err := r.Open(ctx, "t1", "subj-1", s, tt.aad)
				if err != nil {
					t.Fatalf("%s keyring: %v", name, err)
				}
				if !bytes.Equal(got, tt.plaintext) {
					t.Fatalf("%s keyring: got %q, want %q", name, got, tt.plaintext)
				}
			}
		})
	}
	if ids := store.liveKeyIDs("t1", "subj-1"); len(ids) != 1 {
		t.Errorf("subject has %d keys, want 1", len(ids))
	}
	// Two seals of the same value differ (random nonce).
	a, _ := kr.Seal(ctx, "t1", "subj-1", []byte("same"), nil)
	b, _ := kr.Seal(ctx, "t1", "subj-1", []byte("same"), nil)
	if bytes.Equal(a.Ciphertext, b.Ciphertext) {
		t.Error("two seals produced identical ciphertexts")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	store := newMemStore(false)
	kr := mustKeyring(t, store, Options{}, mk)
	aad := []byte("evt-42")
	s, err := kr.Seal(ctx, "t1", "alice", []byte("alice@example.com"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Seal(ctx, "t1", "bob", []byte("bob@example.com"), nil); err != nil {
		t.Fatal(err)
	}
	flip := func(i int) Sealed {
		c := s
		c.Ciphertext = bytes.Clone(s.Ciphertext)
		if i < 0 {
			i += len(c.Ciphertext)
		}
		c.Ciphertext[i] ^= 0x01
		return c
	}
	tests := []struct {
		name    string
		tenant  string
		subject string
		sealed  Sealed
		aad     []byte
		want    error
	}{
		{"wrong aad", "t1", "alice", s, []byte("evt-43"), ErrDecrypt},
		{"missing aad", "t1", "alice", s, nil, ErrDecrypt},
		{"tampered nonce", "t1", "alice", flip(0), aad, ErrDecrypt},
		{"tampered body", "t1", "alice", flip(14), aad, ErrDecrypt},
		{"tampered tag", "t1", "alice", flip(-1), aad, ErrDecrypt},
		{"truncated", "t1", "alice", Sealed{KeyID: s.KeyID, Ciphertext: s.Ciphertext[:len(s.Ciphertext)-1]}, aad, ErrDecrypt},
		{"too short", "t1", "alice", Sealed{KeyID: s.KeyID, Ciphertext: s.Ciphertext[:5]}, aad, ErrDecrypt},
		{"empty ciphertext", "t1", "alice", Sealed{KeyID: s.KeyID}, aad, ErrDecrypt},
		{"unknown key id", "t1", "alice", Sealed{KeyID: "0000000000000000", Ciphertext: s.Ciphertext}, aad, ErrKeyNotFound},
		{"empty key id", "t1", "alice", Sealed{Ciphertext: s.Ciphertext}, aad, ErrKeyNotFound},
		{"other subject", "t1", "bob", s, aad, ErrKeyNotFound},
		{"other tenant", "t2", "alice", s, aad, ErrKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kr.Open(ctx, tt.tenant, tt.subject, tt.sealed, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Fatalf("Open returned plaintext %q with error", got)
			}
		})
	}
}

func TestWrappedKeyTampering(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	tests := []struct {
		name   string
		mutate func(*WrappedKey)
		want   error
	}{
		{"flipped wrapped byte", func(w *WrappedKey) { w.Wrapped[20] ^= 1 }, ErrDecrypt},
		{"truncated wrapped", func(w *WrappedKey) { w.Wrapped = w.Wrapped[:10] }, ErrDecrypt},
		{"unknown master", func(w *WrappedKey) { w.MasterKeyID = "mk-deadbeef" }, ErrUnknownMasterKey},
		{"destroyed flag", func(w *WrappedKey) { w.Destroyed = true }, ErrKeyDestroyed},
		{"wrapped erased", func(w *WrappedKey) { w.Wrapped = nil }, ErrKeyDestroyed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore(false)
			s, err := mustKeyring(t, store, Options{}, mk).Seal(ctx, "t", "alice", []byte("v"), nil)
			if err != nil {
				t.Fatal(err)
			}
			store.mutate("t", "alice", tt.mutate)
			_, err = mustKeyring(t, store, Options{}, mk).Open(ctx, "t", "alice", s, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}

	// A wrapped key copied to another subject does not unwrap there (AAD
	// binds tenant, subject and key id).
	store := newMemStore(false)
	s, err := mustKeyring(t, store, Options{}, mk).Seal(ctx, "t", "alice", []byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := store.Keys(ctx, "t", "alice")
	moved := rows[0]
	moved.SubjectKey = "mallory"
	if err := store.PutKey(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := mustKeyring(t, store, Options{}, mk).Open(ctx, "t", "mallory", s, nil); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("moved wrapped key: got %v, want ErrDecrypt", err)
	}
}

func TestShred(t *testing.T) {
	ctx := context.Background()
	for _, mode := range storeModes {
		t.Run(mode.name, func(t *testing.T) {
			mk := mustMaster(t)
			store := newMemStore(mode.appendOnly)
			kr := mustKeyring(t, store, Options{}, mk)
			other := mustKeyring(t, store, Options{}, mk)

			alice, err := kr.Seal(ctx, "t", "alice", []byte("alice@example.com"), []byte("e1"))
			if err != nil {
				t.Fatal(err)
			}
			bob, err := kr.Seal(ctx, "t", "bob", []byte("bob@example.com"), []byte("e2"))
			if err != nil {
				t.Fatal(err)
			}
			if err := kr.Shred(ctx, "t", "alice"); err != nil {
				t.Fatal(err)
			}
			for name, r := range map[string]*Keyring{"shredder": kr, "fresh": other} {
				if _, err := r.Open(ctx, "t", "alice", alice, []byte("e1")); !errors.Is(err, ErrKeyDestroyed) {
					t.Errorf("%s: open shredded: got %v, want ErrKeyDestroyed", name, err)
				}
				if _, err := r.DataKey(ctx, "t", "alice", alice.KeyID); !errors.Is(err, ErrKeyDestroyed) {
					t.Errorf("%s: DataKey shredded: got %v, want ErrKeyDestroyed", name, err)
				}
				if got, err := r.Open(ctx, "t", "bob", bob, []byte("e2")); err != nil || string(got) != "bob@example.com" {
					t.Errorf("%s: other subject affected: %q, %v", name, got, err)
				}
			}
			// Rewrap refuses a destroyed key.
			rows, _ := store.Keys(ctx, "t", "alice")
			if _, err := kr.Rewrap(ctx, rows[len(rows)-1]); !errors.Is(err, ErrKeyDestroyed) {
				t.Errorf("Rewrap destroyed: got %v", err)
			}
			// PutKey of the old row cannot resurrect it.
			old := rows[0]
			old.Destroyed, old.Wrapped = false, []byte("resurrected-but-garbage-000000000000000000")
			_ = store.PutKey(ctx, old)
			if _, err := other.DataKey(ctx, "t", "alice", alice.KeyID); !errors.Is(err, ErrKeyDestroyed) {
				t.Errorf("after re-put: got %v, want ErrKeyDestroyed", err)
			}

			// The subject can come back with a fresh key.
			again, err := kr.Seal(ctx, "t", "alice", []byte("new@example.com"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if again.KeyID == alice.KeyID {
				t.Fatal("new seal reused the shredded key")
			}
			if got, err := other.Open(ctx, "t", "alice", again, nil); err != nil || string(got) != "new@example.com" {
				t.Fatalf("open after re-key: %q, %v", got, err)
			}
		})
	}
}

// A Shred done by another process is noticed once the cache TTL expires.
func TestShredVisibleAfterTTL(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	store := newMemStore(false)
	clk := newFakeClock()
	opts := Options{CacheTTL: 30 * time.Second, Clock: clk.Now}
	a := mustKeyring(t, store, opts, mk)
	b := mustKeyring(t, store, opts, mk)

	s, err := a.Seal(ctx, "t", "alice", []byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Shred(ctx, "t", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(ctx, "t", "alice", s, nil); err != nil {
		t.Fatalf("within TTL the cached key still opens (documented): %v", err)
	}
	clk.Advance(31 * time.Second)
	if _, err := a.Open(ctx, "t", "alice", s, nil); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("after TTL: got %v, want ErrKeyDestroyed", err)
	}
	s2, err := a.Seal(ctx, "t", "alice", []byte("v2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KeyID == s.KeyID {
		t.Fatal("sealed under a destroyed key after TTL")
	}
}

func TestDataKeyForDeterministicChoice(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	type key struct {
		id        string
		at        time.Time
		destroyed bool
	}
	tests := []struct {
		name string
		keys []key
		want string
	}{
		{"single", []key{{"bbbb", t0, false}}, "bbbb"},
		{"oldest wins", []key{{"aaaa", t0.Add(time.Second), false}, {"ffff", t0, false}}, "ffff"},
		{"tie -> smallest id", []key{{"cccc", t0, false}, {"bbbb", t0, false}, {"dddd", t0, false}}, "bbbb"},
		{"destroyed skipped", []key{{"aaaa", t0, true}, {"cccc", t0.Add(time.Minute), false}, {"bbbb", t0.Add(time.Hour), false}}, "cccc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore(false)
			for _, k := range tt.keys {
				dek := bytes.Repeat([]byte{k.id[0]}, SecretSize)
				w := WrappedKey{Tenant: "t", SubjectKey: "s", KeyID: k.id, MasterKeyID: mk.ID, CreatedAt: k.at,
					Wrapped: wrapDEK(mk, "t", "s", k.id, dek), Destroyed: k.destroyed}
				if k.destroyed {
					w.Wrapped = nil
				}
				if err := store.PutKey(ctx, w); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 3; i++ { // every fresh keyring agrees
				dk, err := mustKeyring(t, store, Options{}, mk).DataKeyFor(ctx, "t", "s")
				if err != nil {
					t.Fatal(err)
				}
				if dk.KeyID != tt.want {
					t.Fatalf("DataKeyFor picked %s, want %s", dk.KeyID, tt.want)
				}
			}
		})
	}
}

// Two keyrings (think: two processes) race to create a subject's first key.
// Both may create one; every ciphertext stays readable by either, and a fresh
// reader converges on the oldest key.
func TestRacingWritersCreateFirstKey(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	for round := 0; round < 20; round++ {
		store := newMemStore(round%2 == 1)
		// The first two Keys calls both read before either returns: both
		// writers see no key.
		var arrived sync.WaitGroup
		arrived.Add(2)
		var calls atomic.Int32
		store.afterKeys = func() {
			if calls.Add(1) <= 2 {
				arrived.Done()
				arrived.Wait()
			}
		}
		krs := []*Keyring{mustKeyring(t, store, Options{}, mk), mustKeyring(t, store, Options{}, mk)}
		sealed := make([]Sealed, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range krs {
			wg.Go(func() {
				sealed[i], errs[i] = krs[i].Seal(ctx, "t", "alice", fmt.Appendf(nil, "value-%d", i), []byte("evt"))
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		ids := store.liveKeyIDs("t", "alice")
		if len(ids) != 2 {
			t.Fatalf("round %d: %d keys created, want 2 (the forced race)", round, len(ids))
		}
		for i, s := range sealed {
			for j, kr := range krs {
				got, err := kr.Open(ctx, "t", "alice", s, []byte("evt"))
				if err != nil || string(got) != fmt.Sprintf("value-%d", i) {
					t.Fatalf("round %d: keyring %d opening value %d: %q, %v", round, j, i, got, err)
				}
			}
		}
		// Everyone who now reads the store picks the same key.
		store.afterKeys = nil
		var picks []string
		for i := 0; i < 3; i++ {
			dk, err := mustKeyring(t, store, Options{}, mk).DataKeyFor(ctx, "t", "alice")
			if err != nil {
				t.Fatal(err)
			}
			picks = append(picks, dk.KeyID)
		}
		if picks[0] != picks[1] || picks[1] != picks[2] {
			t.Fatalf("fresh readers disagree: %v", picks)
		}
	}
}

// Many goroutines on one keyring and several subjects, with a tiny cache so
// eviction is exercised; run under -race.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	store := newMemStore(false)
	kr := mustKeyring(t, store, Options{CacheSize: 3}, mk)
	const subjects, workers, iters = 8, 16, 50
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := 0; i < iters; i++ {
				subj := fmt.Sprintf("subj-%d", (w+i)%subjects)
				aad := fmt.Appendf(nil, "evt-%d-%d", w, i)
				pt := fmt.Appendf(nil, "%s-value-%d-%d", subj, w, i)
				s, err := kr.Seal(ctx, "t", subj, pt, aad)
				if err != nil {
					errc <- err
					return
				}
				got, err := kr.Open(ctx, "t", subj, s, aad)
				if err != nil || !bytes.Equal(got, pt) {
					errc <- fmt.Errorf("open %s: %q, %v", subj, got, err)
					return
				}
				if i%17 == 0 {
					_ = fmt.Sprint(kr.DataKeyFor(ctx, "t", subj))
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for i := 0; i < subjects; i++ {
		if ids := store.liveKeyIDs("t", fmt.Sprintf("subj-%d", i)); len(ids) != 1 {
			t.Errorf("subj-%d has %d keys; creation within one keyring must be single-flighted", i, len(ids))
		}
	}
	if n := kr.cache.len(); n > 3 {
		t.Errorf("cache holds %d subjects, max 3", n)
	}
}

func TestConcurrentShred(t *testing.T) {
	ctx := context.Background()
	mk := mustMaster(t)
	store := newMemStore(true)
	kr := mustKeyring(t, store, Options{}, mk)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				if w == 0 && i%10 == 0 {
					if err := kr.Shred(ctx, "t", "s"); err != nil {
						t.Error(err)
					}
					continue
				}
				s, err := kr.Seal(ctx, "t", "s", []byte("v"), nil)
				if err != nil {
					t.Error(err)
					return
				}
				// Racing a shred, the only acceptable failure is "destroyed".
				if _, err := kr.Open(ctx, "t", "s", s, nil); err != nil && !errors.Is(err, ErrKeyDestroyed) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// After the dust settles, a shred really shreds.
	s, err := kr.Seal(ctx, "t", "s", []byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Shred(ctx, "t", "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(ctx, "t", "s", s, nil); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("got %v, want ErrKeyDestroyed", err)
	}
}

func TestMasterKeyRotation(t *testing.T) {
	ctx := context.Background()
	for _, mode := range storeModes {
		t.Run(mode.name, func(t *testing.T) {
			oldMK, newMK := mustMaster(t), mustMaster(t)
			store := newMemStore(mode.appendOnly)
			before := mustKeyring(t, store, Options{}, oldMK)
			s, err := before.Seal(ctx, "t", "alice", []byte("alice@example.com"), []byte("e1"))
			if err != nil {
				t.Fatal(err)
			}

			// Only the new key configured: the old data is unreadable.
			if _, err := mustKeyring(t, store, Options{}, newMK).Open(ctx, "t", "alice", s, []byte("e1")); !errors.Is(err, ErrUnknownMasterKey) {
				t.Fatalf("new master only: got %v, want ErrUnknownMasterKey", err)
			}

			// New active + old previous: readable, and new subjects get new-master keys.
			during := mustKeyring(t, store, Options{}, newMK, oldMK)
			if got, err := during.Open(ctx, "t", "alice", s, []byte("e1")); err != nil || string(got) != "alice@example.com" {
				t.Fatalf("during rotation: %q, %v", got, err)
			}
			if _, err := during.Seal(ctx, "t", "bob", []byte("b"), nil); err != nil {
				t.Fatal(err)
			}
			if rows, _ := store.Keys(ctx, "t", "bob"); rows[0].MasterKeyID != newMK.ID {
				t.Fatalf("new key wrapped under %s, want %s", rows[0].MasterKeyID, newMK.ID)
			}

			// Rewrap by hand.
			rows, _ := store.Keys(ctx, "t", "alice")
			rw, err := during.Rewrap(ctx, rows[0])
			if err != nil {
				t.Fatal(err)
			}
			if rw.MasterKeyID != newMK.ID || rw.KeyID != rows[0].KeyID || !rw.CreatedAt.Equal(rows[0].CreatedAt) || bytes.Equal(rw.Wrapped, rows[0].Wrapped) {
				t.Fatalf("bad rewrap: %+v", rw)
			}
			if again, err := during.Rewrap(ctx, rw); err != nil || !bytes.Equal(again.Wrapped, rw.Wrapped) {
				t.Fatalf("rewrap of an active-master key should be a no-op: %v", err)
			}
			if _, err := mustKeyring(t, store, Options{}, newMK).Rewrap(ctx, rows[0]); !errors.Is(err, ErrUnknownMasterKey) {
				t.Fatalf("rewrap without old master: got %v", err)
			}
			bad := rows[0]
			bad.Wrapped = bytes.Clone(bad.Wrapped)
			bad.Wrapped[15] ^= 1
			if _, err := during.Rewrap(ctx, bad); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("rewrap tampered: got %v", err)
			}
			if err := store.PutKey(ctx, rw); err != nil {
				t.Fatal(err)
			}
			// RewrapSubject is then a no-op for alice.
			if n, err := during.RewrapSubject(ctx, "t", "alice"); err != nil || n != 0 {
				t.Fatalf("RewrapSubject after manual rewrap: n=%d err=%v", n, err)
			}

			// Old master retired: still readable.
			after := mustKeyring(t, store, Options{}, newMK)
			if got, err := after.Open(ctx, "t", "alice", s, []byte("e1")); err != nil || string(got) != "alice@example.com" {
				t.Fatalf("after rotation: %q, %v", got, err)
			}
			// And DataKeyFor keeps using alice's original key.
			if dk, err := after.DataKeyFor(ctx, "t", "alice"); err != nil || dk.KeyID != s.KeyID {
				t.Fatalf("DataKeyFor after rotation: %v, %v", dk, err)
			}
		})
	}
}

func TestRewrapSubject(t *testing.T) {
	ctx := context.Background()
	oldMK, newMK := mustMaster(t), mustMaster(t)
	store := newMemStore(false)
	// Two racing writers under the old master: two keys.
	var arrived sync.WaitGroup
	arrived.Add(2)
	var calls atomic.Int32
	store.afterKeys = func() {
		if calls.Add(1) <= 2 {
			arrived.Done()
			arrived.Wait()
		}
	}
	sealed := make([]Sealed, 2)
	writers := []*Keyring{mustKeyring(t, store, Options{}, oldMK), mustKeyring(t, store, Options{}, oldMK)}
	var wg sync.WaitGroup
	for i := range sealed {
		wg.Go(func() {
			var err error
			sealed[i], err = writers[i].Seal(ctx, "t", "alice", []byte("v"), nil)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	store.afterKeys = nil

	kr := mustKeyring(t, store, Options{}, newMK, oldMK)
	n, err := kr.RewrapSubject(ctx, "t", "alice")
	if err != nil || n != 2 {
		t.Fatalf("RewrapSubject: n=%d err=%v, want 2 nil", n, err)
	}
	if n, err := kr.RewrapSubject(ctx, "t", "alice"); err != nil || n != 0 {
		t.Fatalf("second RewrapSubject: n=%d err=%v", n, err)
	}
	after := mustKeyring(t, store, Options{}, newMK)
	for _, s := range sealed {
		if got, err := after.Open(ctx, "t", "alice", s, nil); err != nil || string(got) != "v" {
			t.Fatalf("open after RewrapSubject: %q, %v", got, err)
		}
	}
	// Without the old master, RewrapSubject reports what it cannot do.
	other := newMemStore(false)
	if _, err := mustKeyring(t, other, Options{}, oldMK).Seal(ctx, "t", "bob", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mustKeyring(t, other, Options{}, newMK).RewrapSubject(ctx, "t", "bob"); !errors.Is(err, ErrUnknownMasterKey) {
		t.Fatalf("got %v, want ErrUnknownMasterKey", err)
	}
}

func TestNewValidation(t *testing.T) {
	mk := mustMaster(t)
	clash := MasterKey{ID: mk.ID, m: mustMaster(t).m} // same ID, other bytes
	tests := []struct {
		name     string
		store    Store
		opts     Options
		active   MasterKey
		previous []MasterKey
		wantErr  bool
	}{
		{"ok", newMemStore(false), Options{}, mk, nil, false},
		{"duplicate previous is fine", newMemStore(false), Options{}, mk, []MasterKey{mk}, false},
		{"nil store", nil, Options{}, mk, nil, true},
		{"zero active", newMemStore(false), Options{}, MasterKey{}, nil, true},
		{"zero previous", newMemStore(false), Options{}, mk, []MasterKey{{}}, true},
		{"id clash", newMemStore(false), Options{}, mk, []MasterKey{clash}, true},
		{"negative cache size", newMemStore(false), Options{CacheSize: -1}, mk, nil, true},
		{"negative ttl", newMemStore(false), Options{CacheTTL: -time.Second}, mk, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWithOptions(tt.store, tt.opts, tt.active, tt.previous...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	d := Options{}.WithDefaults()
	if d.CacheSize != DefaultCacheSize || d.CacheTTL != DefaultCacheTTL || d.Clock == nil {
		t.Errorf("WithDefaults = %+v", d)
	}
	kr, _ := New(newMemStore(false), mk)
	if _, err := kr.DataKeyFor(context.Background(), "t", ""); err == nil {
		t.Error("empty subject key accepted")
	}
}

func TestContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	kr := mustKeyring(t, newMemStore(false), Options{}, mustMaster(t))
	if _, err := kr.Seal(ctx, "t", "s", []byte("v"), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func benchKeyring(b *testing.B) (*Keyring, []byte, []byte) {
	mk := mustMaster(b)
	kr := mustKeyring(b, newMemStore(false), Options{}, mk)
	pt := bytes.Repeat([]byte("a"), 100)
	aad := []byte("01JD3M6X4Q8R2ZC7T5V9WBKNHE")
	if _, err := kr.Seal(context.Background(), "t", "alice", pt, aad); err != nil { // warm the cache
		b.Fatal(err)
	}
	return kr, pt, aad
}

func BenchmarkSeal100(b *testing.B) {
	kr, pt, aad := benchKeyring(b)
	ctx := context.Background()
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Seal(ctx, "t", "alice", pt, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen100(b *testing.B) {
	kr, pt, aad := benchKeyring(b)
	ctx := context.Background()
	s, err := kr.Seal(ctx, "t", "alice", pt, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(ctx, "t", "alice", s, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealParallel100(b *testing.B) {
	kr, pt, aad := benchKeyring(b)
	ctx := context.Background()
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := kr.Seal(ctx, "t", "alice", pt, aad); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
