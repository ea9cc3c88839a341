package keyring

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// DataKeysFor returns the current data key of every subject (DataKeyFor
// for many), creating missing keys, in a constant number of store round
// trips when the store is a BatchStore (one read, one write, one re-read);
// otherwise it calls DataKeyFor per subject. Bulk writers use it to seal a
// batch, because a round trip per new subject dominates bulk appends. The
// keys are returned, not only cached, so a batch with more subjects than
// the cache holds still needs no further round trips.
//
// It follows DataKeyFor's rules: live keys win (oldest first), racing
// writers converge on the re-read, and keys it created stay readable.
func (k *Keyring) DataKeysFor(ctx context.Context, tenant string, subjectKeys []string) (map[string]DataKey, error) {
	now := k.now()
	keys := make(map[string]DataKey, len(subjectKeys))
	var missing []string
	for _, s := range subjectKeys {
		if _, done := keys[s]; done {
			continue
		}
		if err := checkSubject(s); err != nil {
			return nil, err
		}
		if dk, ok := k.cache.current(subjectRef{tenant, s}, now); ok {
			keys[s] = dk
			continue
		}
		keys[s] = DataKey{}
		missing = append(missing, s)
	}
	if len(missing) == 0 {
		return keys, nil
	}
	bs, ok := k.store.(BatchStore)
	if !ok {
		for _, s := range missing {
			dk, err := k.DataKeyFor(ctx, tenant, s)
			if err != nil {
				return nil, err
			}
			keys[s] = dk
		}
		return keys, nil
	}
	gen := k.cache.generation()
	rows, err := bs.KeysFor(ctx, tenant, missing)
	if err != nil {
		return nil, fmt.Errorf("keyring: read keys: %w", err)
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
				return nil, err
			}
			k.cache.put(ref, dk, true, k.now(), gen)
			keys[s] = dk
			continue
		}
		dek := make([]byte, SecretSize)
		if _, err := rand.Read(dek); err != nil {
			return nil, fmt.Errorf("keyring: generate data key: %w", err)
		}
		wk := WrappedKey{Tenant: tenant, SubjectKey: s, KeyID: newKeyID(), MasterKeyID: k.active.ID,
			CreatedAt: k.now().UTC().Truncate(time.Millisecond)}
		wk.Wrapped = wrapDEK(k.active, tenant, s, wk.KeyID, dek)
		dk, err := newDataKey(wk.KeyID, dek)
		if err != nil {
			return nil, err
		}
		created = append(created, wk)
		mine[s] = dk
	}
	if len(created) == 0 {
		return keys, nil
	}
	if err := bs.PutKeys(ctx, created); err != nil {
		return nil, fmt.Errorf("keyring: store new data keys: %w", err)
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
		keys[s] = dk
	}
	return keys, nil
}
