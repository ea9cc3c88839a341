package keyring

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// Warm makes the current data key of every subject ready in the cache,
// creating missing keys, in a constant number of store round trips when the
// store is a BatchStore (one read, one write, one re-read); otherwise it
// falls back to DataKeyFor per subject. Bulk writers call it before sealing
// a batch, because a round trip per new subject dominates bulk appends.
//
// It follows DataKeyFor's rules: live keys win (oldest first), racing
// writers converge on the re-read, and keys it created stay readable.
func (k *Keyring) Warm(ctx context.Context, tenant string, subjectKeys []string) error {
	now := k.now()
	var missing []string
	seen := map[string]bool{}
	for _, s := range subjectKeys {
		if seen[s] {
			continue
		}
		seen[s] = true
		if err := checkSubject(s); err != nil {
			return err
		}
		if _, ok := k.cache.current(subjectRef{tenant, s}, now); !ok {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	bs, ok := k.store.(BatchStore)
	if !ok {
		for _, s := range missing {
			if _, err := k.DataKeyFor(ctx, tenant, s); err != nil {
				return err
			}
		}
		return nil
	}
	gen := k.cache.generation()
	rows, err := bs.KeysFor(ctx, tenant, missing)
	if err != nil {
		return fmt.Errorf("keyring: read keys: %w", err)
	}
	bySubject := map[string][]WrappedKey{}
	for _, r := range rows {
		bySubject[r.SubjectKey] = append(bySubject[r.SubjectKey], r)
	}
	var created []WrappedKey
	mine := map[string]DataKey{}
	for _, s := range missing {
		ref := subjectRef{tenant, s}
		if g := chooseCurrent(groupKeys(bySubject[s])); g != nil {
			dk, err := k.unwrapGroup(ref, g)
			if err != nil {
				return err
			}
			k.cache.put(ref, dk, true, k.now(), gen)
			continue
		}
		dek := make([]byte, SecretSize)
		if _, err := rand.Read(dek); err != nil {
			return fmt.Errorf("keyring: generate data key: %w", err)
		}
		wk := WrappedKey{Tenant: tenant, SubjectKey: s, KeyID: newKeyID(), MasterKeyID: k.active.ID,
			CreatedAt: k.now().UTC().Truncate(time.Millisecond)}
		wk.Wrapped = wrapDEK(k.active, tenant, s, wk.KeyID, dek)
		dk, err := newDataKey(wk.KeyID, dek)
		if err != nil {
			return err
		}
		created = append(created, wk)
		mine[s] = dk
	}
	if len(created) == 0 {
		return nil
	}
	if err := bs.PutKeys(ctx, created); err != nil {
		return fmt.Errorf("keyring: store new data keys: %w", err)
	}
	// Converge with racing writers, as DataKeyFor does.
	subjects := make([]string, 0, len(mine))
	for s := range mine {
		subjects = append(subjects, s)
	}
	again, err := bs.KeysFor(ctx, tenant, subjects)
	bySubject = map[string][]WrappedKey{}
	if err == nil {
		for _, r := range again {
			bySubject[r.SubjectKey] = append(bySubject[r.SubjectKey], r)
		}
	}
	for s, dk := range mine {
		ref := subjectRef{tenant, s}
		if g := chooseCurrent(groupKeys(bySubject[s])); g != nil && g.keyID != dk.KeyID {
			if winner, err := k.unwrapGroup(ref, g); err == nil {
				k.cache.put(ref, dk, false, k.now(), gen) // ours stays readable
				dk = winner
			}
		}
		k.cache.put(ref, dk, true, k.now(), gen)
	}
	return nil
}
