package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/schema"
)

// rotation is a migrated database with an identifier key and two master
// keys: a (the old one, under which events are appended) and b (the new).
type rotation struct {
	conn   clickhouse.Conn
	hasher *identity.Hasher
	a, b   keyring.MasterKey
	events []*event.Event
}

// newRotation appends events about people under master key a, in two
// tenants.
func newRotation(t *testing.T, conn clickhouse.Conn) *rotation {
	t.Helper()
	m, err := migrate.New(conn, schema.ClickHouse(), migrate.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	r := &rotation{conn: conn}
	if r.hasher, err = identity.NewHasher(secret); err != nil {
		t.Fatal(err)
	}
	if r.a, _, err = keyring.GenerateMasterKey(); err != nil {
		t.Fatal(err)
	}
	if r.b, _, err = keyring.GenerateMasterKey(); err != nil {
		t.Fatal(err)
	}
	r.events = append(generate("acme", 60, 9, 11), generate("beta", 30, 4, 12)...)
	appendAll(t, r.log(t, r.a), r.events, 25)
	return r
}

// keys is a Keyring on the database with active and previous master keys.
func (r *rotation) keys(t *testing.T, active keyring.MasterKey, previous ...keyring.MasterKey) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New(NewKeyStore(r.conn), active, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func (r *rotation) log(t *testing.T, active keyring.MasterKey, previous ...keyring.MasterKey) *Log {
	return New(r.conn, r.hasher, r.keys(t, active, previous...))
}

// rotator re-wraps under b with a as previous, through store (nil: the
// plain KeyStore).
func (r *rotation) rotator(t *testing.T, store keyring.RotationStore) *keyring.Rotator {
	t.Helper()
	if store == nil {
		store = NewKeyStore(r.conn)
	}
	rot, err := keyring.NewRotator(r.keys(t, r.b, r.a), store)
	if err != nil {
		t.Fatal(err)
	}
	return rot
}

func (r *rotation) status(t *testing.T) keyring.RotationStatus {
	t.Helper()
	s, err := r.rotator(t, nil).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// usage returns the status line of one master key id.
func usage(t *testing.T, s keyring.RotationStatus, id string) keyring.MasterKeyStatus {
	t.Helper()
	for _, m := range s.MasterKeys {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("status has no line for %s: %+v", id, s)
	return keyring.MasterKeyStatus{}
}

// readAll reads every event as a reader with only master key b would, and
// checks each one's values are the ones appended, except for shredded
// subjects', which must be unreadable.
func (r *rotation) readAll(t *testing.T, l *Log, shredded map[string]bool) {
	t.Helper()
	want := map[uuid.UUID]*event.Event{}
	for _, e := range r.events {
		want[e.ID] = e
	}
	var cur Cursor
	n := 0
	for {
		page, next, err := l.Scan(context.Background(), cur, 1000)
		if err != nil {
			t.Fatalf("read the log: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, rec := range page {
			n++
			got, orig := rec.Event.Data.ValueSlots(), want[rec.Event.ID].Data.ValueSlots()
			for i := range got {
				switch {
				case shredded[rec.SubjectKey] && len(got[i].Value) > 0:
					t.Fatalf("event %s of a shredded subject has a readable value", rec.Event.ID)
				case !shredded[rec.SubjectKey] && !bytes.Equal(got[i].Value, orig[i].Value):
					t.Fatalf("event %s value %d = %s, want %s", rec.Event.ID, i, got[i].Value, orig[i].Value)
				}
			}
			if shredded[rec.SubjectKey] && rec.Event.Type == event.TypeCollected && !rec.Shredded {
				t.Fatalf("event %s of a shredded subject is not marked shredded", rec.Event.ID)
			}
		}
		cur = next
	}
	if n != len(r.events) {
		t.Fatalf("read %d events, want %d", n, len(r.events))
	}
}

// storedKeys returns every row of subject_keys, unmerged (no FINAL), in a
// fixed order.
func storedKeys(t *testing.T, conn clickhouse.Conn) []keyRow {
	t.Helper()
	var rows []keyRow
	err := conn.Select(context.Background(), &rows, `SELECT tenant, subject_key, key_id, master_key_id, wrapped, created_at, destroyed, updated_at
FROM subject_keys ORDER BY tenant, subject_key, key_id, destroyed, master_key_id, wrapped`, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// assertNoKeyMaterial fails if any stored row of the subject holds key
// material, merged or not.
func assertNoKeyMaterial(t *testing.T, conn clickhouse.Conn, tenant, subject string) {
	t.Helper()
	n := 0
	for _, row := range storedKeys(t, conn) {
		if row.Tenant != tenant || row.SubjectKey != subject {
			continue
		}
		n++
		if row.Destroyed != 1 || len(row.Wrapped) > 0 {
			t.Fatalf("shredded subject's key %s has a row with key material (master %s, destroyed=%d, %d bytes)",
				row.KeyID, row.MasterKeyID, row.Destroyed, len(row.Wrapped))
		}
	}
	if n == 0 {
		t.Fatal("shredded subject has no destroyed marker")
	}
}

// subjectOf returns the subject key of an event's person.
func (r *rotation) subjectOf(t *testing.T, e *event.Event) string {
	t.Helper()
	l := r.log(t, r.a)
	recs, err := l.ByPerson(context.Background(), e.Tenant, personHashes(t, l, e.Subject.Identifiers...))
	if err != nil || len(recs) == 0 {
		t.Fatalf("read %s: %d, %v", e.ID, len(recs), err)
	}
	return recs[0].SubjectKey
}

func TestRewrap_MovesEveryKeyUnderTheActiveMasterKey(t *testing.T) {
	for _, batch := range []int{1, 4, 5, 1000} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			r := newRotation(t, chtest.Embedded(t))
			ctx := context.Background()

			before := r.status(t)
			a := usage(t, before, r.a.ID)
			if a.Role != keyring.RolePrevious || a.LiveKeys == 0 || a.Retirable || before.Complete || before.PendingKeys != a.LiveKeys {
				t.Fatalf("before rewrap: %+v", before)
			}
			if b := usage(t, before, r.b.ID); b.Role != keyring.RoleActive || b.LiveKeys != 0 || before.MasterKeys[0].ID != r.b.ID {
				t.Fatalf("before rewrap, active line: %+v", before)
			}

			var progress []int
			res, err := r.rotator(t, nil).Rewrap(ctx, keyring.RewrapOptions{Batch: batch, Progress: func(p keyring.RewrapResult) {
				progress = append(progress, p.Rewrapped)
			}})
			if err != nil {
				t.Fatalf("rewrap: %v", err)
			}
			if uint64(res.Rewrapped) != a.LiveKeys || uint64(res.Subjects) != a.Subjects || res.Pending != a.LiveKeys || res.Failed != 0 || res.Active != r.b.ID ||
				res.Duration <= 0 || res.Rate() <= 0 {
				t.Fatalf("result %+v, want %d keys of %d subjects", res, a.LiveKeys, a.Subjects)
			}
			if wantBatches := (res.Rewrapped + batch - 1) / batch; res.Batches < wantBatches || res.Batches > wantBatches+1 ||
				len(progress) != res.Batches || progress[len(progress)-1] != res.Rewrapped {
				t.Fatalf("batches %d, progress %v: want %d batches of %d", res.Batches, progress, wantBatches, batch)
			}

			after := r.status(t)
			if !after.Complete || after.PendingKeys != 0 || !slices.Equal(after.Retirable(), []string{r.a.ID}) {
				t.Fatalf("after rewrap: %+v", after)
			}
			if b := usage(t, after, r.b.ID); b.LiveKeys != a.LiveKeys {
				t.Fatalf("active master wraps %d keys, want %d", b.LiveKeys, a.LiveKeys)
			}
			// Master key a retired: every value still reads.
			r.readAll(t, r.log(t, r.b), nil)

			// Idempotent: nothing left to do.
			again, err := r.rotator(t, nil).Rewrap(ctx, keyring.RewrapOptions{Batch: batch})
			if err != nil || again.Rewrapped != 0 || again.Scanned != 0 {
				t.Fatalf("second rewrap: %+v, %v", again, err)
			}
		})
	}
}

func TestRewrap_OneTenantLeavesTheOthers(t *testing.T) {
	r := newRotation(t, chtest.Embedded(t))
	ctx := context.Background()
	res, err := r.rotator(t, nil).Rewrap(ctx, keyring.RewrapOptions{Tenant: "beta", Batch: 2})
	if err != nil || res.Rewrapped == 0 {
		t.Fatalf("rewrap beta: %+v, %v", res, err)
	}
	s := r.status(t)
	if s.Complete || usage(t, s, r.a.ID).Retirable || usage(t, s, r.b.ID).LiveKeys != uint64(res.Rewrapped) {
		t.Fatalf("after rewrapping one tenant: %+v", s)
	}
	// acme is untouched: it still needs a; beta does not.
	withoutA := r.log(t, r.b)
	if _, err := withoutA.ByPerson(ctx, "acme", personHashes(t, withoutA, r.events[0].Subject.Identifiers...)); !errors.Is(err, keyring.ErrUnknownMasterKey) {
		t.Fatalf("acme read without a: %v, want ErrUnknownMasterKey", err)
	}
	if _, err := withoutA.ByPerson(ctx, "beta", personHashes(t, withoutA, r.events[60].Subject.Identifiers...)); err != nil {
		t.Fatalf("beta read without a: %v", err)
	}
	if _, err := r.rotator(t, nil).Rewrap(ctx, keyring.RewrapOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := r.status(t); !s.Complete {
		t.Fatalf("after rewrapping everything: %+v", s)
	}
}

// hookedStore is the real KeyStore with hooks between its steps, to stage
// what concurrent processes do at the worst moment.
type hookedStore struct {
	*KeyStore
	afterList func(page []keyring.WrappedKey)
	putKeys   func(keys []keyring.WrappedKey) error // nil: the KeyStore's
}

func (s *hookedStore) KeysToRewrap(ctx context.Context, p keyring.KeyPage) ([]keyring.WrappedKey, error) {
	page, err := s.KeyStore.KeysToRewrap(ctx, p)
	if err == nil && s.afterList != nil {
		s.afterList(page)
	}
	return page, err
}

func (s *hookedStore) PutKeys(ctx context.Context, keys []keyring.WrappedKey) error {
	if s.putKeys != nil {
		return s.putKeys(keys)
	}
	return s.KeyStore.PutKeys(ctx, keys)
}

func TestRewrap_ShreddedSubjectStaysShredded(t *testing.T) {
	tests := []struct {
		name string
		// meanwhile: shred after the rewrap has read the key, before it
		// writes the new wrapping; otherwise before the rewrap starts.
		meanwhile bool
	}{
		{"shredded before the rewrap", false},
		{"shredded between the rewrap's read and write", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotation(t, chtest.Embedded(t))
			ctx := context.Background()
			victim := r.subjectOf(t, r.events[0])
			shred := func() {
				if err := r.log(t, r.a).Shred(ctx, "acme", victim); err != nil {
					t.Fatal(err)
				}
			}
			store := &hookedStore{KeyStore: NewKeyStore(r.conn)}
			if tt.meanwhile {
				store.afterList = func(page []keyring.WrappedKey) {
					if slices.ContainsFunc(page, func(k keyring.WrappedKey) bool { return k.SubjectKey == victim }) {
						shred()
						store.afterList = nil
					}
				}
			} else {
				shred()
			}
			res, err := r.rotator(t, store).Rewrap(ctx, keyring.RewrapOptions{Batch: 3})
			if err != nil {
				t.Fatalf("rewrap: %v", err)
			}
			if tt.meanwhile && (res.ShreddedMeanwhile != 1 || store.afterList != nil) {
				t.Fatalf("shredded meanwhile: %d, want 1 (hook ran: %t)", res.ShreddedMeanwhile, store.afterList == nil)
			}

			// The shredded key is destroyed in its newest state, no row of
			// it holds key material, and its events stay unreadable with
			// either master key, before and after ClickHouse merges.
			for _, merged := range []bool{false, true} {
				if merged {
					if err := r.conn.Exec(ctx, "OPTIMIZE TABLE subject_keys FINAL", nil); err != nil {
						t.Fatal(err)
					}
				}
				keys, err := NewKeyStore(r.conn).Keys(ctx, "acme", victim)
				if err != nil || len(keys) == 0 {
					t.Fatalf("keys: %v, %v", keys, err)
				}
				for _, k := range keys {
					if !k.Destroyed || len(k.Wrapped) > 0 {
						t.Fatalf("merged=%t: shredded key %s reads as live", merged, k.KeyID)
					}
				}
				assertNoKeyMaterial(t, r.conn, "acme", victim)
				r.readAll(t, r.log(t, r.b), map[string]bool{victim: true})
				r.readAll(t, r.log(t, r.b, r.a), map[string]bool{victim: true})
			}
			s := r.status(t)
			if !s.Complete || usage(t, s, r.a.ID).DestroyedKeys != 1 || !usage(t, s, r.a.ID).Retirable {
				t.Fatalf("status: %+v", s)
			}
		})
	}
}

// The guarantee the rewrap relies on, checked on the table itself: a
// destroyed row wins over a live row of the same key written after it.
func TestKeyStore_DestroyedRowWinsOverALaterRewrap(t *testing.T) {
	r := newRotation(t, chtest.Embedded(t))
	ctx := context.Background()
	store := NewKeyStore(r.conn)
	victim := r.subjectOf(t, r.events[0])
	live, err := store.Keys(ctx, "acme", victim)
	if err != nil || len(live) != 1 {
		t.Fatalf("keys: %v, %v", live, err)
	}
	late, err := r.keys(t, r.b, r.a).Rewrap(ctx, live[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Destroy(ctx, "acme", victim); err != nil {
		t.Fatal(err)
	}
	// Background merges would resolve the race on their own; stop them so
	// that the late row is seen. (Mutations run as merges: restart them
	// before purging.)
	if err := r.conn.Exec(ctx, "SYSTEM STOP MERGES subject_keys", nil); err != nil {
		t.Fatal(err)
	}
	if err := store.PutKey(ctx, late); err != nil { // a re-wrap that read the key before the shred
		t.Fatal(err)
	}

	keys, err := store.Keys(ctx, "acme", victim)
	if err != nil || len(keys) != 1 || !keys[0].Destroyed {
		t.Fatalf("after a late re-wrap: %+v, %v; want the key destroyed", keys, err)
	}
	page, err := store.KeysToRewrap(ctx, keyring.KeyPage{NotUnder: "none", Limit: 1000})
	if err != nil || slices.ContainsFunc(page, func(k keyring.WrappedKey) bool { return k.SubjectKey == victim }) {
		t.Fatalf("a destroyed key is listed for re-wrapping (%v)", err)
	}
	// The late row is on disk until the purge (or a merge) removes it.
	held := func() bool {
		return slices.ContainsFunc(storedKeys(t, r.conn), func(k keyRow) bool { return k.SubjectKey == victim && len(k.Wrapped) > 0 })
	}
	if !held() {
		t.Fatal("the late re-wrap left no row: this test no longer stages the race")
	}
	if err := r.conn.Exec(ctx, "SYSTEM START MERGES subject_keys", nil); err != nil {
		t.Fatal(err)
	}
	if err := store.PurgeKeyMaterial(ctx, "acme", victim, []string{late.KeyID}); err != nil {
		t.Fatal(err)
	}
	if held() {
		t.Fatal("PurgeKeyMaterial left key material")
	}
	if err := r.conn.Exec(ctx, "OPTIMIZE TABLE subject_keys FINAL", nil); err != nil {
		t.Fatal(err)
	}
	if keys, err := store.Keys(ctx, "acme", victim); err != nil || len(keys) != 1 || !keys[0].Destroyed {
		t.Fatalf("after merging: %+v, %v", keys, err)
	}
}

func TestRewrap_InterruptedRunIsCompletedByTheNext(t *testing.T) {
	const batch = 4
	errKilled := errors.New("process killed")
	tests := []struct {
		name string
		// interrupt returns the context and store of a run that stops
		// after its first batch.
		interrupt func(r *rotation, opts *keyring.RewrapOptions) (context.Context, keyring.RotationStore)
		want      error
	}{
		{"cancelled after a batch", func(r *rotation, opts *keyring.RewrapOptions) (context.Context, keyring.RotationStore) {
			ctx, cancel := context.WithCancel(context.Background())
			opts.Progress = func(keyring.RewrapResult) { cancel() }
			return ctx, NewKeyStore(r.conn)
		}, context.Canceled},
		{"the second write fails (process killed)", func(r *rotation, _ *keyring.RewrapOptions) (context.Context, keyring.RotationStore) {
			calls := 0
			ks := NewKeyStore(r.conn)
			return context.Background(), &hookedStore{KeyStore: ks, putKeys: func(keys []keyring.WrappedKey) error {
				if calls++; calls > 1 {
					return errKilled
				}
				return ks.PutKeys(context.Background(), keys)
			}}
		}, errKilled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotation(t, chtest.Embedded(t))
			total := r.status(t).PendingKeys
			opts := keyring.RewrapOptions{Batch: batch}
			ctx, store := tt.interrupt(r, &opts)
			first, err := r.rotator(t, store).Rewrap(ctx, opts)
			if !errors.Is(err, tt.want) || first.Rewrapped != batch {
				t.Fatalf("interrupted run: %+v, %v; want %d keys and %v", first, err, batch, tt.want)
			}
			if s := r.status(t); s.PendingKeys != total-batch || s.Complete {
				t.Fatalf("after the interrupted run: %d pending, want %d", s.PendingKeys, total-batch)
			}
			second, err := r.rotator(t, nil).Rewrap(context.Background(), keyring.RewrapOptions{Batch: batch})
			if err != nil || uint64(second.Rewrapped) != total-batch {
				t.Fatalf("second run: %+v, %v; want %d keys", second, err, total-batch)
			}
			if s := r.status(t); !s.Complete {
				t.Fatalf("after the second run: %+v", s)
			}
			r.readAll(t, r.log(t, r.b), nil)
		})
	}
}

func TestRewrap_DryRunChangesNothing(t *testing.T) {
	r := newRotation(t, chtest.Embedded(t))
	before := storedKeys(t, r.conn)
	status := r.status(t)
	res, err := r.rotator(t, nil).Rewrap(context.Background(), keyring.RewrapOptions{DryRun: true, Batch: 3})
	if err != nil || !res.DryRun || uint64(res.Rewrapped) != status.PendingKeys || res.Subjects == 0 {
		t.Fatalf("dry run: %+v, %v; want %d keys", res, err, status.PendingKeys)
	}
	after := storedKeys(t, r.conn)
	if len(after) != len(before) {
		t.Fatalf("dry run changed subject_keys: %d rows, had %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.KeyID != b.KeyID || a.MasterKeyID != b.MasterKeyID || !bytes.Equal(a.Wrapped, b.Wrapped) || a.Destroyed != b.Destroyed {
			t.Fatalf("dry run changed key %s", b.KeyID)
		}
	}
	if s := r.status(t); s.PendingKeys != status.PendingKeys {
		t.Fatalf("dry run changed the status: %+v", s)
	}
}

func TestRewrap_KeysUnderAnUnconfiguredMasterKeyAreReported(t *testing.T) {
	r := newRotation(t, chtest.Embedded(t))
	rot, err := keyring.NewRotator(r.keys(t, r.b), NewKeyStore(r.conn)) // a forgotten
	if err != nil {
		t.Fatal(err)
	}
	s, err := rot.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a := usage(t, s, r.a.ID)
	if a.Role != keyring.RoleUnconfigured || a.Retirable || a.LiveKeys == 0 {
		t.Fatalf("status without a: %+v", s)
	}
	before := storedKeys(t, r.conn)
	res, err := rot.Rewrap(context.Background(), keyring.RewrapOptions{})
	if !errors.Is(err, keyring.ErrRewrapIncomplete) || !errors.Is(err, keyring.ErrUnknownMasterKey) {
		t.Fatalf("rewrap without a: %v, want ErrRewrapIncomplete and ErrUnknownMasterKey", err)
	}
	if uint64(res.Failed) != a.LiveKeys || res.Rewrapped != 0 || len(res.Failures) == 0 || res.Failures[0].MasterKeyID != r.a.ID {
		t.Fatalf("result: %+v", res)
	}
	if len(storedKeys(t, r.conn)) != len(before) {
		t.Fatal("a failed rewrap wrote keys")
	}
}

func TestKeyStore_KeysToRewrapPagesByPrimaryKey(t *testing.T) {
	conn := chtest.Embedded(t)
	newRotation(t, conn) // migrations; its keys are in tenants acme and beta
	ctx := context.Background()
	store := NewKeyStore(conn)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var keys []keyring.WrappedKey
	for _, tenant := range []string{"t1", "t2"} {
		for s := range 3 {
			for k := range 2 {
				master := "mk-old"
				if k == 1 && s == 1 {
					master = "mk-new"
				}
				keys = append(keys, keyring.WrappedKey{Tenant: tenant, SubjectKey: fmt.Sprintf("s%d", s), KeyID: fmt.Sprintf("k%d", k),
					MasterKeyID: master, Wrapped: []byte("wrapped"), CreatedAt: now})
			}
		}
	}
	if err := store.PutKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if err := store.Destroy(ctx, "t1", "s2"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tenant string
		want   []string
	}{
		{"every tenant", "", []string{"t1/s0/k0", "t1/s0/k1", "t1/s1/k0", "t2/s0/k0", "t2/s0/k1", "t2/s1/k0", "t2/s2/k0", "t2/s2/k1"}},
		{"one tenant", "t2", []string{"t2/s0/k0", "t2/s0/k1", "t2/s1/k0", "t2/s2/k0", "t2/s2/k1"}},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 2, 3, 100} {
			t.Run(fmt.Sprintf("%s, %d per page", tt.name, limit), func(t *testing.T) {
				var got []string
				var after keyring.KeyCursor
				for range 100 {
					page, err := store.KeysToRewrap(ctx, keyring.KeyPage{Tenant: tt.tenant, NotUnder: "mk-new", After: after, Limit: limit})
					if err != nil {
						t.Fatal(err)
					}
					if len(page) > limit {
						t.Fatalf("page of %d, limit %d", len(page), limit)
					}
					for _, k := range page {
						if k.Tenant == "acme" || k.Tenant == "beta" {
							continue // newRotation's own keys
						}
						got = append(got, k.Tenant+"/"+k.SubjectKey+"/"+k.KeyID)
					}
					if len(page) < limit {
						break
					}
					last := page[len(page)-1]
					after = keyring.KeyCursor{Tenant: last.Tenant, SubjectKey: last.SubjectKey, KeyID: last.KeyID}
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("got %v\nwant %v", got, tt.want)
				}
			})
		}
	}
	usage, err := store.MasterKeyUsage(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	want := []keyring.MasterKeyUsage{{MasterKeyID: "mk-new", LiveKeys: 1, Subjects: 1}, {MasterKeyID: "mk-old", LiveKeys: 3, Subjects: 2, DestroyedKeys: 2}}
	if !slices.Equal(usage, want) {
		t.Fatalf("usage of t1: %+v, want %+v", usage, want)
	}
}

// The rotation's SQL renders in every mode: in sharded mode it reads the
// Distributed table and purges on every shard.
func TestRotationQueries_RenderForEveryMode(t *testing.T) {
	sharded := migrate.Config{Cluster: "custody", Replicated: true, Sharded: true}.Tables()
	for _, q := range rotationQueries() {
		if single := (migrate.Tables{}).MustSQL(q); strings.Contains(single, "{{") || strings.Contains(single, "_all") {
			t.Errorf("single-node rendering: %s", single)
		}
		s := sharded.MustSQL(q)
		switch {
		case strings.HasPrefix(s, "ALTER"):
			if !strings.Contains(s, "ALTER TABLE subject_keys ON CLUSTER custody DELETE") {
				t.Errorf("sharded purge not ON CLUSTER on the local table:\n%s", s)
			}
		case !strings.Contains(s, "FROM subject_keys_all FINAL"):
			t.Errorf("sharded read not through subject_keys_all:\n%s", s)
		}
	}
}
