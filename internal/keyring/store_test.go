package keyring

import (
	"bytes"
	"context"
	"slices"
	"sync"
)

// memStore is an in-memory Store. With appendOnly it behaves like unmerged
// ClickHouse rows: PutKey and Destroy append versions and Keys returns them
// all; otherwise rows are replaced in place (merged view).
type memStore struct {
	mu         sync.Mutex
	appendOnly bool
	rows       map[subjectRef][]WrappedKey
	afterKeys  func() // test hook: called after Keys has read its rows, outside the lock
}

func newMemStore(appendOnly bool) *memStore {
	return &memStore{appendOnly: appendOnly, rows: make(map[subjectRef][]WrappedKey)}
}

func (s *memStore) Keys(ctx context.Context, tenant, subjectKey string) ([]WrappedKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	out := make([]WrappedKey, 0, len(s.rows[subjectRef{tenant, subjectKey}]))
	for _, r := range s.rows[subjectRef{tenant, subjectKey}] {
		r.Wrapped = bytes.Clone(r.Wrapped)
		out = append(out, r)
	}
	s.mu.Unlock()
	if s.afterKeys != nil {
		s.afterKeys()
	}
	return out, nil
}

func (s *memStore) PutKey(ctx context.Context, k WrappedKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := subjectRef{k.Tenant, k.SubjectKey}
	k.Wrapped = bytes.Clone(k.Wrapped)
	rows := s.rows[ref]
	for i, r := range rows {
		if r.KeyID != k.KeyID {
			continue
		}
		if r.destroyed() {
			return nil // destroyed is sticky
		}
		if r.MasterKeyID == k.MasterKeyID && bytes.Equal(r.Wrapped, k.Wrapped) {
			return nil // idempotent
		}
		if !s.appendOnly {
			rows[i] = k
			return nil
		}
	}
	s.rows[ref] = append(rows, k)
	return nil
}

func (s *memStore) Destroy(ctx context.Context, tenant, subjectKey string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := subjectRef{tenant, subjectKey}
	rows := s.rows[ref]
	if s.appendOnly {
		var marks []WrappedKey
		for _, r := range rows {
			if !slices.ContainsFunc(marks, func(m WrappedKey) bool { return m.KeyID == r.KeyID }) {
				r.Wrapped, r.Destroyed = nil, true
				marks = append(marks, r)
			}
		}
		s.rows[ref] = append(rows, marks...)
		return nil
	}
	for i := range rows {
		rows[i].Wrapped, rows[i].Destroyed = nil, true
	}
	return nil
}

// liveKeyIDs returns the distinct non-destroyed KeyIDs of a subject.
func (s *memStore) liveKeyIDs(tenant, subjectKey string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, g := range groupKeys(s.rows[subjectRef{tenant, subjectKey}]) {
		if !g.destroyed {
			ids = append(ids, g.keyID)
		}
	}
	return ids
}

// mutate applies f to every stored row of a subject.
func (s *memStore) mutate(tenant, subjectKey string, f func(*WrappedKey)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.rows[subjectRef{tenant, subjectKey}]
	for i := range rows {
		f(&rows[i])
	}
}
