package keyring

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Defaults for Options.
const (
	DefaultCacheSize = 10_000
	DefaultCacheTTL  = time.Minute
)

// Options tune a Keyring. The zero value means all defaults.
type Options struct {
	// CacheSize bounds how many subjects' unwrapped keys are cached (LRU).
	// 0 means DefaultCacheSize.
	CacheSize int
	// CacheTTL is how long a cached key, and the choice of a subject's
	// current key, is trusted before the store is read again. It bounds how
	// long a Shred done by another process goes unnoticed here. 0 means
	// DefaultCacheTTL.
	CacheTTL time.Duration
	// Clock stamps new keys' CreatedAt and ages cache entries. nil means
	// time.Now.
	Clock func() time.Time
}

// Validate reports invalid options (negative sizes or durations).
func (o Options) Validate() error {
	var errs []error
	if o.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("keyring: CacheSize must be >= 0, got %d", o.CacheSize))
	}
	if o.CacheTTL < 0 {
		errs = append(errs, fmt.Errorf("keyring: CacheTTL must be >= 0, got %s", o.CacheTTL))
	}
	return errors.Join(errs...)
}

// WithDefaults returns o with zero fields replaced by defaults.
func (o Options) WithDefaults() Options {
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

// Keyring hands out per-subject data keys and seals/opens values with them.
// It is safe for concurrent use.
type Keyring struct {
	store   Store
	active  MasterKey
	masters map[string]MasterKey // by ID, active included
	now     func() time.Time
	cache   *keyCache

	flightMu sync.Mutex
	flights  map[subjectRef]*flight
}

type flight struct {
	done chan struct{}
	dk   DataKey
	err  error
}

// New returns a Keyring with default Options. active wraps new keys;
// active and previous all unwrap (master-key rotation).
func New(store Store, active MasterKey, previous ...MasterKey) (*Keyring, error) {
	return NewWithOptions(store, Options{}, active, previous...)
}

// NewWithOptions is New with Options.
func NewWithOptions(store Store, opts Options, active MasterKey, previous ...MasterKey) (*Keyring, error) {
	if store == nil {
		return nil, errors.New("keyring: nil Store")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	if active.IsZero() {
		return nil, errors.New("keyring: an active master key is required")
	}
	masters := map[string]MasterKey{active.ID: active}
	for i, p := range previous {
		if p.IsZero() {
			return nil, fmt.Errorf("keyring: previous master key %d is empty", i)
		}
		if have, ok := masters[p.ID]; ok {
			if !have.Equal(p) {
				return nil, fmt.Errorf("keyring: two different master keys share ID %s", p.ID)
			}
			continue // duplicate
		}
		masters[p.ID] = p
	}
	return &Keyring{
		store:   store,
		active:  active,
		masters: masters,
		now:     opts.Clock,
		cache:   newKeyCache(opts.CacheSize, opts.CacheTTL),
		flights: make(map[subjectRef]*flight),
	}, nil
}

// ActiveMasterKeyID is the ID of the master key that wraps new keys.
func (k *Keyring) ActiveMasterKeyID() string { return k.active.ID }

// MasterKeyIDs lists the IDs of all configured master keys, sorted.
func (k *Keyring) MasterKeyIDs() []string {
	ids := make([]string, 0, len(k.masters))
	for id := range k.masters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func checkSubject(subjectKey string) error {
	if subjectKey == "" {
		return errors.New("keyring: empty subject key")
	}
	return nil
}

// DataKeyFor returns the subject's current data key, for encrypting. If the
// store holds live (non-destroyed) keys it picks the oldest (CreatedAt, then
// smallest KeyID), so that writers converge; otherwise it creates a key, stores
// it and returns the deterministic choice after re-reading.
//
// Without transactions, writers in different processes racing on a subject's
// first key may each create one. That is by design: every Sealed value records
// its KeyID and all live keys stay readable, and after the next store read
// every writer converges on the oldest key. Within one Keyring creation is
// single-flighted per subject. If the chosen key cannot be unwrapped (e.g.
// ErrUnknownMasterKey) DataKeyFor fails rather than silently creating another.
func (k *Keyring) DataKeyFor(ctx context.Context, tenant, subjectKey string) (DataKey, error) {
	if err := checkSubject(subjectKey); err != nil {
		return DataKey{}, err
	}
	ref := subjectRef{tenant, subjectKey}
	if dk, ok := k.cache.current(ref, k.now()); ok {
		return dk, nil
	}
	for {
		k.flightMu.Lock()
		if f, ok := k.flights[ref]; ok {
			k.flightMu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return DataKey{}, ctx.Err()
			}
			if f.err != nil && ctx.Err() == nil &&
				(errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue // the leader's context ended, not ours: try again
			}
			return f.dk, f.err
		}
		// err stays set only if loadCurrent panics, so waiters never get a zero key.
		f := &flight{done: make(chan struct{}), err: errors.New("keyring: loading data key panicked")}
		k.flights[ref] = f
		k.flightMu.Unlock()
		func() {
			defer func() {
				k.flightMu.Lock()
				delete(k.flights, ref)
				k.flightMu.Unlock()
				close(f.done)
			}()
			f.dk, f.err = k.loadCurrent(ctx, ref)
		}()
		return f.dk, f.err
	}
}

func (k *Keyring) loadCurrent(ctx context.Context, ref subjectRef) (DataKey, error) {
	gen := k.cache.generation()
	rows, err := k.store.Keys(ctx, ref.tenant, ref.subject)
	if err != nil {
		return DataKey{}, fmt.Errorf("keyring: read keys: %w", err)
	}
	if g := chooseCurrent(groupKeys(rows)); g != nil {
		dk, err := k.unwrapGroup(ref, g)
		if err != nil {
			return DataKey{}, err
		}
		k.cache.put(ref, dk, true, k.now(), gen)
		return dk, nil
	}

	// No live key: create one.
	dek := make([]byte, SecretSize)
	if _, err := rand.Read(dek); err != nil {
		return DataKey{}, fmt.Errorf("keyring: generate data key: %w", err)
	}
	wk := WrappedKey{
		Tenant:      ref.tenant,
		SubjectKey:  ref.subject,
		KeyID:       newKeyID(),
		MasterKeyID: k.active.ID,
		CreatedAt:   k.now().UTC().Truncate(time.Millisecond),
	}
	wk.Wrapped = wrapDEK(k.active, wk.Tenant, wk.SubjectKey, wk.KeyID, dek)
	dk, err := newDataKey(wk.KeyID, dek) // zeroes dek
	if err != nil {
		return DataKey{}, err
	}
	if err := k.store.PutKey(ctx, wk); err != nil {
		return DataKey{}, fmt.Errorf("keyring: store new data key: %w", err)
	}

	// Converge with racing writers: re-read and take the deterministic
	// choice. If the re-read fails, our own (stored) key is just as valid.
	if rows, err := k.store.Keys(ctx, ref.tenant, ref.subject); err == nil {
		if g := chooseCurrent(groupKeys(rows)); g != nil && g.keyID != dk.KeyID {
			if winner, err := k.unwrapGroup(ref, g); err == nil {
				k.cache.put(ref, dk, false, k.now(), gen) // ours stays readable
				dk = winner
			}
		}
	}
	k.cache.put(ref, dk, true, k.now(), gen)
	return dk, nil
}

// DataKey returns the subject's key keyID, for decrypting: ErrKeyNotFound if
// the store has no such key, ErrKeyDestroyed if it was shredded,
// ErrUnknownMasterKey if no configured master key wrapped it, ErrDecrypt if
// the wrapped key fails authentication.
func (k *Keyring) DataKey(ctx context.Context, tenant, subjectKey, keyID string) (DataKey, error) {
	if err := checkSubject(subjectKey); err != nil {
		return DataKey{}, err
	}
	if keyID == "" {
		return DataKey{}, fmt.Errorf("keyring: empty key id: %w", ErrKeyNotFound)
	}
	ref := subjectRef{tenant, subjectKey}
	if dk, ok := k.cache.key(ref, keyID, k.now()); ok {
		return dk, nil
	}
	gen := k.cache.generation()
	rows, err := k.store.Keys(ctx, tenant, subjectKey)
	if err != nil {
		return DataKey{}, fmt.Errorf("keyring: read keys: %w", err)
	}
	var g *keyGroup
	for _, cand := range groupKeys(rows) {
		if cand.keyID == keyID {
			g = cand
			break
		}
	}
	if g == nil {
		return DataKey{}, fmt.Errorf("keyring: data key %s: %w", keyID, ErrKeyNotFound)
	}
	dk, err := k.unwrapGroup(ref, g)
	if err != nil {
		if errors.Is(err, ErrKeyDestroyed) {
			k.cache.evict(ref) // shredded elsewhere: stop using cached keys now
		}
		return DataKey{}, err
	}
	k.cache.put(ref, dk, false, k.now(), gen)
	return dk, nil
}

// Seal encrypts plaintext under the subject's current data key (DataKeyFor).
// aad (e.g. the event id) is authenticated, not stored; Open needs it again.
func (k *Keyring) Seal(ctx context.Context, tenant, subjectKey string, plaintext, aad []byte) (Sealed, error) {
	dk, err := k.DataKeyFor(ctx, tenant, subjectKey)
	if err != nil {
		return Sealed{}, err
	}
	return dk.Seal(plaintext, aad)
}

// Open decrypts a value sealed for the subject. Errors wrap ErrKeyDestroyed
// (shredded), ErrKeyNotFound, ErrUnknownMasterKey or ErrDecrypt.
func (k *Keyring) Open(ctx context.Context, tenant, subjectKey string, s Sealed, aad []byte) ([]byte, error) {
	dk, err := k.DataKey(ctx, tenant, subjectKey, s.KeyID)
	if err != nil {
		return nil, err
	}
	return dk.Open(s, aad)
}

// Shred crypto-shreds the subject: all its keys are destroyed in the store and
// dropped from this Keyring's cache, so every value sealed for it becomes
// unreadable. Other processes notice within their CacheTTL (or at once on a
// cache miss). A later DataKeyFor creates a fresh key.
func (k *Keyring) Shred(ctx context.Context, tenant, subjectKey string) error {
	if err := checkSubject(subjectKey); err != nil {
		return err
	}
	err := k.store.Destroy(ctx, tenant, subjectKey)
	k.cache.evict(subjectRef{tenant, subjectKey})
	if err != nil {
		return fmt.Errorf("keyring: destroy keys: %w", err)
	}
	return nil
}

// Rewrap returns wk re-wrapped under the active master key (same KeyID, DEK and
// CreatedAt), for master-key rotation; the caller persists it with PutKey (or
// use RewrapSubject). A key already under the active master is returned
// unchanged. Errors: ErrKeyDestroyed, ErrUnknownMasterKey, ErrDecrypt.
func (k *Keyring) Rewrap(ctx context.Context, wk WrappedKey) (WrappedKey, error) {
	if err := ctx.Err(); err != nil {
		return WrappedKey{}, err
	}
	if wk.destroyed() {
		return WrappedKey{}, fmt.Errorf("keyring: rewrap data key %s: %w", wk.KeyID, ErrKeyDestroyed)
	}
	if wk.MasterKeyID == k.active.ID {
		return wk, nil
	}
	mk, ok := k.masters[wk.MasterKeyID]
	if !ok {
		return WrappedKey{}, fmt.Errorf("keyring: rewrap data key %s: master key %s not configured: %w", wk.KeyID, wk.MasterKeyID, ErrUnknownMasterKey)
	}
	dek, err := unwrapDEK(mk, wk.Tenant, wk.SubjectKey, wk.KeyID, wk.Wrapped)
	if err != nil {
		return WrappedKey{}, err
	}
	defer clear(dek)
	out := wk
	out.MasterKeyID = k.active.ID
	out.Wrapped = wrapDEK(k.active, wk.Tenant, wk.SubjectKey, wk.KeyID, dek)
	return out, nil
}

// RewrapSubject re-wraps every live key of the subject that is not yet under
// the active master key and stores it, returning how many it re-wrapped. Keys
// that cannot be re-wrapped are reported in the joined error; the others are
// still processed.
func (k *Keyring) RewrapSubject(ctx context.Context, tenant, subjectKey string) (int, error) {
	if err := checkSubject(subjectKey); err != nil {
		return 0, err
	}
	rows, err := k.store.Keys(ctx, tenant, subjectKey)
	if err != nil {
		return 0, fmt.Errorf("keyring: read keys: %w", err)
	}
	n := 0
	var errs []error
	for _, g := range groupKeys(rows) {
		if g.destroyed || slices.ContainsFunc(g.rows, func(r WrappedKey) bool { return r.MasterKeyID == k.active.ID }) {
			continue
		}
		var src *WrappedKey
		for i := range g.rows {
			if _, ok := k.masters[g.rows[i].MasterKeyID]; ok {
				src = &g.rows[i]
				break
			}
		}
		if src == nil {
			errs = append(errs, fmt.Errorf("keyring: rewrap data key %s: master key(s) %s not configured: %w", g.keyID, g.masterIDs(), ErrUnknownMasterKey))
			continue
		}
		in := *src
		in.Tenant, in.SubjectKey = tenant, subjectKey
		in.CreatedAt = g.createdAt
		out, err := k.Rewrap(ctx, in)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := k.store.PutKey(ctx, out); err != nil {
			errs = append(errs, fmt.Errorf("keyring: store rewrapped data key %s: %w", g.keyID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// keyGroup is every stored row of one KeyID.
type keyGroup struct {
	keyID     string
	createdAt time.Time // earliest non-zero CreatedAt among rows
	destroyed bool      // any row destroyed
	rows      []WrappedKey
}

func (g *keyGroup) masterIDs() string {
	var ids []string
	for _, r := range g.rows {
		if !slices.Contains(ids, r.MasterKeyID) {
			ids = append(ids, r.MasterKeyID)
		}
	}
	return strings.Join(ids, ",")
}

// groupKeys reduces store rows to one group per KeyID, in KeyID order.
func groupKeys(rows []WrappedKey) []*keyGroup {
	byID := make(map[string]*keyGroup, len(rows))
	var out []*keyGroup
	for _, r := range rows {
		if r.KeyID == "" {
			continue
		}
		g, ok := byID[r.KeyID]
		if !ok {
			g = &keyGroup{keyID: r.KeyID}
			byID[r.KeyID] = g
			out = append(out, g)
		}
		g.rows = append(g.rows, r)
		if r.destroyed() {
			g.destroyed = true
		}
		if !r.CreatedAt.IsZero() && (g.createdAt.IsZero() || r.CreatedAt.Before(g.createdAt)) {
			g.createdAt = r.CreatedAt
		}
	}
	slices.SortFunc(out, func(a, b *keyGroup) int { return strings.Compare(a.keyID, b.keyID) })
	return out
}

// chooseCurrent picks the live key with the oldest CreatedAt, ties broken by
// the smallest KeyID; nil if none is live.
func chooseCurrent(groups []*keyGroup) *keyGroup {
	var best *keyGroup
	for _, g := range groups {
		if g.destroyed {
			continue
		}
		if best == nil || g.createdAt.Before(best.createdAt) ||
			(g.createdAt.Equal(best.createdAt) && g.keyID < best.keyID) {
			best = g
		}
	}
	return best
}

// unwrapGroup unwraps a key, preferring a row under the active master key.
// The AAD is built from ref (the subject asked for), not from the rows.
func (k *Keyring) unwrapGroup(ref subjectRef, g *keyGroup) (DataKey, error) {
	if g.destroyed {
		return DataKey{}, fmt.Errorf("keyring: data key %s: %w", g.keyID, ErrKeyDestroyed)
	}
	rows := slices.Clone(g.rows)
	slices.SortStableFunc(rows, func(a, b WrappedKey) int {
		return boolRank(b.MasterKeyID == k.active.ID) - boolRank(a.MasterKeyID == k.active.ID)
	})
	var lastErr error
	for _, r := range rows {
		mk, ok := k.masters[r.MasterKeyID]
		if !ok {
			continue
		}
		dek, err := unwrapDEK(mk, ref.tenant, ref.subject, g.keyID, r.Wrapped)
		if err != nil {
			lastErr = err
			continue
		}
		return newDataKey(g.keyID, dek) // zeroes dek
	}
	if lastErr != nil {
		return DataKey{}, lastErr
	}
	return DataKey{}, fmt.Errorf("keyring: data key %s is wrapped under master key(s) %s, configured: %s: %w",
		g.keyID, g.masterIDs(), strings.Join(k.MasterKeyIDs(), ","), ErrUnknownMasterKey)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
