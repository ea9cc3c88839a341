package keyring

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Master-key rotation, completed: a Rotator re-wraps every stored data key
// that is not under the active master key, in pages, so that a previous
// master key ends up wrapping nothing and can be removed from configuration
// and destroyed. It never decrypts a value and never changes a key's id,
// DEK or CreatedAt: only the wrapping changes.

// ErrRewrapIncomplete: some data keys could not be re-wrapped (their
// master key is not configured, or their wrapped bytes fail
// authentication). The error also wraps the underlying cause
// (ErrUnknownMasterKey, ErrDecrypt).
var ErrRewrapIncomplete = errors.New("keyring: some data keys could not be re-wrapped")

// Bounds of RewrapOptions.Batch. A batch costs three round trips whatever
// its size (measured on chDB, 34,000 keys: 13,000 keys/s at 1,000 per
// batch, 38,000 at 10,000), so the default is large; the bound keeps one
// batch's memory and its list of subjects (a query parameter) modest.
const (
	DefaultRewrapBatch = 5_000
	MaxRewrapBatch     = 100_000
)

// maxReportedFailures bounds how many failing keys a RewrapResult names;
// the count is always exact.
const maxReportedFailures = 10

// KeyCursor is a position in the stores' primary-key order of data keys:
// (Tenant, SubjectKey, KeyID), compared lexically. The zero KeyCursor is
// before every key.
type KeyCursor struct {
	Tenant, SubjectKey, KeyID string
}

// cursorOf is the position of k.
func cursorOf(k WrappedKey) KeyCursor { return KeyCursor{k.Tenant, k.SubjectKey, k.KeyID} }

// KeyPage asks a RotationStore for one page of keys to re-wrap.
type KeyPage struct {
	// Tenant restricts the page to one tenant; "" means every tenant.
	Tenant string
	// NotUnder is the master key id to leave out (the active one).
	NotUnder string
	// After: only keys strictly after this position.
	After KeyCursor
	// Limit is the most keys returned, > 0.
	Limit int
}

// MasterKeyUsage counts the stored data keys wrapped under one master key,
// each key in its newest state.
type MasterKeyUsage struct {
	MasterKeyID string
	// LiveKeys are keys that still hold key material.
	LiveKeys uint64
	// Subjects is how many distinct (tenant, subject) the live keys belong to.
	Subjects uint64
	// DestroyedKeys are crypto-shredded keys: markers without key material.
	DestroyedKeys uint64
}

// RotationStore is what a Rotator needs from storage. Like Store it has no
// transactions; the contracts below are all Rotator relies on.
type RotationStore interface {
	// KeysToRewrap returns up to p.Limit live keys (not destroyed, with
	// wrapped bytes) whose MasterKeyID is not p.NotUnder, of p.Tenant (all
	// tenants if ""), strictly after p.After, sorted by (Tenant,
	// SubjectKey, KeyID). Each key appears once, in its newest state: a key
	// that has any destroyed row is never returned, whatever live rows of
	// it are still unmerged. Fewer than p.Limit keys means the end.
	KeysToRewrap(ctx context.Context, p KeyPage) ([]WrappedKey, error)

	// MasterKeyUsage counts keys per master key id, newest state of each
	// key, for one tenant ("" for all), sorted by id. Ids wrapping nothing
	// (no row at all) are absent.
	MasterKeyUsage(ctx context.Context, tenant string) ([]MasterKeyUsage, error)

	// PutKeys stores keys in one write, with Store.PutKey's contract for
	// each: a re-wrapped key supersedes its earlier wrapping, and a
	// destroyed key stays destroyed.
	PutKeys(ctx context.Context, keys []WrappedKey) error

	// KeysFor is BatchStore.KeysFor: every row of the subjects' keys,
	// destroyed ones included, with read-your-writes.
	KeysFor(ctx context.Context, tenant string, subjectKeys []string) ([]WrappedKey, error)

	// PurgeKeyMaterial physically deletes the rows of the subject's keys
	// keyIDs that hold key material, leaving their destroyed markers.
	// Callers pass only keys they have seen destroyed. It returns once the
	// rows are gone; purging what is already gone is not an error.
	PurgeKeyMaterial(ctx context.Context, tenant, subjectKey string, keyIDs []string) error
}

// MasterKeyRole says how the running configuration knows a master key id.
type MasterKeyRole string

// The roles of a master key id in a RotationStatus.
const (
	// RoleActive wraps new keys and re-wrapped ones.
	RoleActive MasterKeyRole = "active"
	// RolePrevious is configured for unwrapping only (rotation).
	RolePrevious MasterKeyRole = "previous"
	// RoleUnconfigured wraps stored keys but is not configured: those keys,
	// and every value sealed under them, are unreadable until it is.
	RoleUnconfigured MasterKeyRole = "not configured"
)

// MasterKeyStatus is one master key id's share of the stored data keys.
type MasterKeyStatus struct {
	ID            string        `json:"id"`
	Role          MasterKeyRole `json:"role"`
	LiveKeys      uint64        `json:"liveKeys"`
	Subjects      uint64        `json:"subjects"`
	DestroyedKeys uint64        `json:"destroyedKeys"`
	// Retirable: a previous key that wraps no live data key, so removing
	// it from configuration makes nothing unreadable. Destroyed keys hold
	// no key material and do not count.
	Retirable bool `json:"retirable"`
}

// RotationStatus is where a master-key rotation stands, over every tenant.
type RotationStatus struct {
	// Active is the id of the active master key.
	Active string `json:"active"`
	// MasterKeys: the active key first, then the other ids sorted; every
	// configured id appears, and every id that wraps a stored key.
	MasterKeys []MasterKeyStatus `json:"masterKeys"`
	// PendingKeys are live keys not under the active master key: what a
	// rewrap has left to do.
	PendingKeys uint64 `json:"pendingKeys"`
	// Complete: every live key is under the active master key.
	Complete bool `json:"complete"`
}

// Retirable lists the ids of the previous master keys that can be removed
// from configuration.
func (s RotationStatus) Retirable() []string {
	var ids []string
	for _, m := range s.MasterKeys {
		if m.Retirable {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// RewrapOptions tune Rotator.Rewrap. The zero value means defaults.
type RewrapOptions struct {
	// Batch is how many keys are read, re-wrapped and written per round
	// trip; 0 means DefaultRewrapBatch, at most MaxRewrapBatch.
	Batch int
	// DryRun re-wraps in memory only (so every key is proven re-wrappable)
	// and writes nothing.
	DryRun bool
	// Tenant restricts the run to one tenant; "" means every tenant.
	Tenant string
	// Progress, if set, is called after every batch with the totals so
	// far, on the goroutine running Rewrap.
	Progress func(RewrapResult)
}

// Validate reports invalid options.
func (o RewrapOptions) Validate() error {
	if o.Batch < 0 || o.Batch > MaxRewrapBatch {
		return fmt.Errorf("keyring: rewrap batch must be between 1 and %d, got %d", MaxRewrapBatch, o.Batch)
	}
	return nil
}

// WithDefaults returns o with zero fields replaced by defaults.
func (o RewrapOptions) WithDefaults() RewrapOptions {
	if o.Batch == 0 {
		o.Batch = DefaultRewrapBatch
	}
	return o
}

// RewrapFailure names a key that could not be re-wrapped. It carries ids
// and the reason only, never key material.
type RewrapFailure struct {
	Tenant      string `json:"tenant"`
	KeyID       string `json:"keyId"`
	MasterKeyID string `json:"masterKeyId"`
	Reason      string `json:"reason"`
}

// RewrapResult is what a Rewrap did (or, in a dry run, would do).
type RewrapResult struct {
	// Active is the master key the keys were re-wrapped under.
	Active string `json:"active"`
	DryRun bool   `json:"dryRun"`
	// Pending is how many live keys were not under Active when the run
	// began (a progress total; writers may add more meanwhile).
	Pending uint64 `json:"pending"`
	// Scanned keys were read as not under Active.
	Scanned int `json:"scanned"`
	// Rewrapped keys are now under Active (in a dry run: could be).
	Rewrapped int `json:"rewrapped"`
	// Subjects is how many distinct subjects the re-wrapped keys belong to.
	Subjects int `json:"subjects"`
	// ShreddedMeanwhile keys were destroyed while being re-wrapped: their
	// new wrapping was purged and they stay destroyed.
	ShreddedMeanwhile int `json:"shreddedMeanwhile"`
	// Failed keys could not be re-wrapped; Failures names the first few.
	Failed   int             `json:"failed"`
	Failures []RewrapFailure `json:"failures,omitempty"`
	Batches  int             `json:"batches"`
	Duration time.Duration   `json:"-"`
}

// Rate is keys re-wrapped per second.
func (r RewrapResult) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Rewrapped) / r.Duration.Seconds()
}

// Rotator completes master-key rotations: it reports which master keys
// wrap the stored data keys and re-wraps them under the active one.
// It is safe for concurrent use; concurrent Rewraps are harmless (each key
// ends under the active master key either way) but wasteful.
type Rotator struct {
	keys  *Keyring
	store RotationStore
}

// NewRotator returns a Rotator re-wrapping keys of store under keys' active
// master key; keys must hold every previous master key still wrapping
// stored keys.
func NewRotator(keys *Keyring, store RotationStore) (*Rotator, error) {
	if keys == nil {
		return nil, errors.New("keyring: rotator: nil Keyring")
	}
	if store == nil {
		return nil, errors.New("keyring: rotator: nil RotationStore")
	}
	return &Rotator{keys: keys, store: store}, nil
}

// Status reports, for every master key id configured or found in the
// store, how many data keys it wraps over all tenants, and whether the
// rotation is complete. Retirement is judged over all tenants because a
// master key is configured for all of them.
func (r *Rotator) Status(ctx context.Context) (RotationStatus, error) {
	usage, err := r.store.MasterKeyUsage(ctx, "")
	if err != nil {
		return RotationStatus{}, fmt.Errorf("keyring: count keys by master key: %w", err)
	}
	return statusOf(r.keys.ActiveMasterKeyID(), r.keys.MasterKeyIDs(), usage), nil
}

// statusOf combines the configured ids (active among them) with the
// store's counts.
func statusOf(active string, configured []string, usage []MasterKeyUsage) RotationStatus {
	byID := map[string]*MasterKeyStatus{}
	for _, id := range configured {
		role := RolePrevious
		if id == active {
			role = RoleActive
		}
		byID[id] = &MasterKeyStatus{ID: id, Role: role}
	}
	for _, u := range usage {
		m, ok := byID[u.MasterKeyID]
		if !ok {
			m = &MasterKeyStatus{ID: u.MasterKeyID, Role: RoleUnconfigured}
			byID[u.MasterKeyID] = m
		}
		m.LiveKeys += u.LiveKeys
		m.Subjects += u.Subjects
		m.DestroyedKeys += u.DestroyedKeys
	}
	s := RotationStatus{Active: active}
	for _, m := range byID {
		m.Retirable = m.Role == RolePrevious && m.LiveKeys == 0
		if m.Role != RoleActive {
			s.PendingKeys += m.LiveKeys
		}
		s.MasterKeys = append(s.MasterKeys, *m)
	}
	slices.SortFunc(s.MasterKeys, func(a, b MasterKeyStatus) int {
		if a.Role == RoleActive || b.Role == RoleActive {
			return boolRank(b.Role == RoleActive) - boolRank(a.Role == RoleActive)
		}
		return strings.Compare(a.ID, b.ID)
	})
	s.Complete = s.PendingKeys == 0
	return s
}

// Rewrap re-wraps every live data key not under the active master key
// (of opts.Tenant, or all), opts.Batch keys per page in primary-key order:
// read a page, re-wrap it in memory, write it in one insert, then re-read
// it to catch keys shredded meanwhile.
//
// Idempotent and resumable: it keeps no checkpoint, because the store's
// state is the checkpoint. A key already under the active master is never
// read again, so a run that was interrupted (killed, ctx cancelled, a
// failed write) is completed by running Rewrap again; a batch whose write
// did not return is simply redone.
//
// Safe against concurrent shreds: a key destroyed before its page is read
// is not listed; one destroyed after is written under the active master
// beside its destroyed marker, which wins (Store contract), and the re-read
// finds it destroyed and purges the new wrapping, so no key material of a
// shredded subject survives the run, whichever of the shred's steps the
// write lands between. Keys created meanwhile by writers still running
// with the old active master key are not guaranteed to be seen: Status
// afterwards tells, and another run picks them up.
//
// Keys that cannot be re-wrapped (unknown master key, tampered bytes) are
// counted and skipped; the run goes on and the returned error wraps
// ErrRewrapIncomplete and the first cause. ctx ends the run between keys;
// the result then holds what was done.
func (r *Rotator) Rewrap(ctx context.Context, opts RewrapOptions) (RewrapResult, error) {
	if err := opts.Validate(); err != nil {
		return RewrapResult{}, err
	}
	run := &rewrapRun{r: r, opts: opts.WithDefaults(), start: r.keys.now()}
	run.res = RewrapResult{Active: r.keys.ActiveMasterKeyID(), DryRun: opts.DryRun}
	err := run.all(ctx)
	run.res.Duration = r.keys.now().Sub(run.start)
	if err == nil && run.res.Failed > 0 {
		err = fmt.Errorf("%w: %d of %d keys (first: %w)", ErrRewrapIncomplete, run.res.Failed, run.res.Scanned, run.firstFailure)
	}
	return run.res, err
}

// rewrapRun is the state of one Rewrap.
type rewrapRun struct {
	r     *Rotator
	opts  RewrapOptions
	start time.Time
	res   RewrapResult
	// lastSubject is the subject of the last key re-wrapped: pages are in
	// (tenant, subject) order, so a subject's keys are contiguous across
	// pages and counting changes counts subjects.
	lastSubject  subjectRef
	firstFailure error
}

// all pages through the keys to re-wrap until none is left.
func (run *rewrapRun) all(ctx context.Context) error {
	usage, err := run.r.store.MasterKeyUsage(ctx, run.opts.Tenant)
	if err != nil {
		return fmt.Errorf("keyring: count keys by master key: %w", err)
	}
	for _, u := range usage {
		if u.MasterKeyID != run.res.Active {
			run.res.Pending += u.LiveKeys
		}
	}
	var after KeyCursor
	for {
		page, err := run.r.store.KeysToRewrap(ctx, KeyPage{Tenant: run.opts.Tenant, NotUnder: run.res.Active, After: after, Limit: run.opts.Batch})
		if err != nil {
			return fmt.Errorf("keyring: list keys to rewrap: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		after = cursorOf(page[len(page)-1])
		if err := run.batch(ctx, page); err != nil {
			return err
		}
		if run.opts.Progress != nil {
			run.res.Duration = run.r.keys.now().Sub(run.start)
			run.opts.Progress(run.res)
		}
		if len(page) < run.opts.Batch {
			return nil
		}
	}
}

// batch re-wraps one page in memory and, unless in a dry run, stores it in
// one write and purges what was shredded meanwhile.
func (run *rewrapRun) batch(ctx context.Context, page []WrappedKey) error {
	run.res.Scanned += len(page)
	run.res.Batches++
	out := make([]WrappedKey, 0, len(page))
	for _, wk := range page {
		rw, err := run.r.keys.Rewrap(ctx, wk)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrKeyDestroyed):
			continue // the store listed a destroyed row: nothing to re-wrap
		case err != nil:
			run.fail(wk, err)
			continue
		}
		out = append(out, rw)
	}
	if !run.opts.DryRun && len(out) > 0 {
		if err := run.r.store.PutKeys(ctx, out); err != nil {
			return fmt.Errorf("keyring: store re-wrapped keys: %w", err)
		}
		shredded, err := run.r.purgeShredded(ctx, out)
		if err != nil {
			return err
		}
		run.res.ShreddedMeanwhile += len(shredded)
		out = slices.DeleteFunc(out, func(k WrappedKey) bool { return shredded[cursorOf(k)] })
	}
	for _, k := range out {
		if ref := (subjectRef{k.Tenant, k.SubjectKey}); ref != run.lastSubject {
			run.res.Subjects++
			run.lastSubject = ref
		}
	}
	run.res.Rewrapped += len(out)
	return nil
}

// fail records a key that could not be re-wrapped.
func (run *rewrapRun) fail(wk WrappedKey, err error) {
	run.res.Failed++
	if run.firstFailure == nil {
		run.firstFailure = err
	}
	if len(run.res.Failures) < maxReportedFailures {
		run.res.Failures = append(run.res.Failures, RewrapFailure{Tenant: wk.Tenant, KeyID: wk.KeyID, MasterKeyID: wk.MasterKeyID, Reason: err.Error()})
	}
}

// purgeShredded re-reads the subjects of keys just written and purges the
// new rows of any key that is now destroyed: a shred that ran between the
// page read and the write. It returns those keys.
func (r *Rotator) purgeShredded(ctx context.Context, written []WrappedKey) (map[KeyCursor]bool, error) {
	subjects := map[string][]string{} // by tenant, in order
	seen := map[subjectRef]bool{}
	for _, k := range written {
		ref := subjectRef{k.Tenant, k.SubjectKey}
		if !seen[ref] {
			seen[ref] = true
			subjects[k.Tenant] = append(subjects[k.Tenant], k.SubjectKey)
		}
	}
	wrote := make(map[KeyCursor]bool, len(written))
	for _, k := range written {
		wrote[cursorOf(k)] = true
	}
	shredded := map[KeyCursor]bool{}
	for tenant, subs := range subjects {
		rows, err := r.store.KeysFor(ctx, tenant, subs)
		if err != nil {
			return nil, fmt.Errorf("keyring: re-read re-wrapped keys: %w", err)
		}
		bySubject := map[string][]WrappedKey{}
		for _, row := range rows {
			bySubject[row.SubjectKey] = append(bySubject[row.SubjectKey], row)
		}
		for _, s := range subs {
			var ids []string
			for _, g := range groupKeys(bySubject[s]) {
				if c := (KeyCursor{tenant, s, g.keyID}); g.destroyed && wrote[c] {
					ids = append(ids, g.keyID)
					shredded[c] = true
				}
			}
			if len(ids) == 0 {
				continue
			}
			if err := r.store.PurgeKeyMaterial(ctx, tenant, s, ids); err != nil {
				return nil, fmt.Errorf("keyring: purge re-wrapped keys of a shredded subject: %w", err)
			}
		}
	}
	return shredded, nil
}
