package graphql

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// loader is a small dataloader, one per request: Load calls made while a
// batch is open (for wait, or until maxBatch keys) are answered by one
// call of fetch, and every key is fetched at most once per request, its
// result shared by every field that asks. gqlgen resolves the fields of a
// query concurrently, so aliases asking for the same person or request
// meet in one batch.
type loader[K comparable, V any] struct {
	// fetch returns a value or an error per key, in keys' order. It runs on
	// the loader's context (the request's), not a caller's.
	fetch    func(ctx context.Context, keys []K) ([]V, []error)
	ctx      context.Context
	wait     time.Duration
	maxBatch int

	mu    sync.Mutex
	cache map[K]*result[V]
	batch *batch[K, V]
}

type result[V any] struct {
	done chan struct{}
	v    V
	err  error
}

type batch[K comparable, V any] struct {
	keys    []K
	results []*result[V]
	closed  bool
}

func newLoader[K comparable, V any](ctx context.Context, fetch func(context.Context, []K) ([]V, []error)) *loader[K, V] {
	return &loader[K, V]{fetch: fetch, ctx: ctx, wait: 2 * time.Millisecond, maxBatch: 100, cache: map[K]*result[V]{}}
}

// Load returns the value of k, fetching it with the keys other fields ask
// for meanwhile.
func (l *loader[K, V]) Load(ctx context.Context, k K) (V, error) {
	l.mu.Lock()
	r, ok := l.cache[k]
	if !ok {
		r = &result[V]{done: make(chan struct{})}
		l.cache[k] = r
		b := l.batch
		if b == nil {
			b = &batch[K, V]{}
			l.batch = b
			go func() {
				time.Sleep(l.wait)
				l.dispatch(b)
			}()
		}
		b.keys = append(b.keys, k)
		b.results = append(b.results, r)
		if len(b.keys) >= l.maxBatch {
			go l.dispatch(b)
		}
	}
	l.mu.Unlock()
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// dispatch closes b and fetches its keys (once, whoever calls first).
func (l *loader[K, V]) dispatch(b *batch[K, V]) {
	l.mu.Lock()
	if b.closed {
		l.mu.Unlock()
		return
	}
	b.closed = true
	if l.batch == b {
		l.batch = nil
	}
	l.mu.Unlock()
	vs, errs := l.safeFetch(b.keys)
	for i, r := range b.results {
		if i < len(vs) {
			r.v = vs[i]
		}
		if i < len(errs) {
			r.err = errs[i]
		}
		close(r.done)
	}
}

// safeFetch runs fetch, turning a panic into an error for every key: it
// runs on its own goroutine, where a panic would end the process.
func (l *loader[K, V]) safeFetch(keys []K) (vs []V, errs []error) {
	defer func() {
		if p := recover(); p != nil {
			vs, errs = nil, make([]error, len(keys))
			for i := range errs {
				errs[i] = fmt.Errorf("loader: fetch panicked: %v", p)
			}
		}
	}()
	return l.fetch(l.ctx, keys)
}

// parallel runs f for each of n items with at most limit at a time and
// returns their errors: a batch of reads the ports cannot take at once
// still overlaps them, without taking every connection of the pool. A
// panic in f is item i's error, not the end of the process.
func parallel(n, limit int, f func(i int) error) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panic: %v", p)
				}
			}()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errs
}
