package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/ingest"
)

// fakeCustody stands in for Custody's HTTP API: the real POST /v1/events
// handler with the real taxonomy, in front of an in-memory sink that
// records what was accepted. intercept lets a test answer a request itself
// (fail it, block it) before the handler sees it.
type fakeCustody struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	requests  int
	hits      []time.Time
	batches   [][]*event.Event
	seen      map[uuid.UUID]bool
	intercept func(n int, w http.ResponseWriter, r *http.Request) bool // n counts requests from 1
	changed   chan struct{}
	// storageDown makes the sink fail this many more times: the handler
	// then answers 503 with Retry-After, as when the broker is down.
	storageDown int
}

func newFakeCustody(t *testing.T) *fakeCustody {
	t.Helper()
	f := &fakeCustody{t: t, seen: map[uuid.UUID]bool{}, changed: make(chan struct{})}
	tax, err := builtinTaxonomy()
	if err != nil {
		t.Fatal(err)
	}
	h, err := ingest.NewHandler(ingest.Config{RetryAfterSeconds: 1}, event.Options{Vocabulary: tax}, f,
		slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		n, icpt := f.requests, f.intercept
		f.hits = append(f.hits, time.Now())
		f.mu.Unlock()
		if icpt != nil && icpt(n, w, r) {
			return
		}
		h.ServeHTTP(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// Accept implements ingest.Sink.
func (f *fakeCustody) Accept(_ context.Context, events []*event.Event) ([]ingest.Verdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.storageDown > 0 {
		f.storageDown--
		return nil, errors.New("broker unavailable")
	}
	out := make([]ingest.Verdict, len(events))
	for i, e := range events {
		out[i] = ingest.Accepted
		if f.seen[e.ID] {
			out[i] = ingest.Duplicate
		}
		f.seen[e.ID] = true
	}
	f.batches = append(f.batches, events)
	close(f.changed)
	f.changed = make(chan struct{})
	return out, nil
}

func (f *fakeCustody) setIntercept(fn func(n int, w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.intercept = fn
}

func (f *fakeCustody) transport() *HTTPTransport { return &HTTPTransport{URL: f.srv.URL} }

func (f *fakeCustody) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *fakeCustody) hitTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hits)
}

func (f *fakeCustody) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, b := range f.batches {
		out = append(out, len(b))
	}
	return out
}

func (f *fakeCustody) events() []*event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*event.Event
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

// waitEvents waits until the sink holds at least n events.
func (f *fakeCustody) waitEvents(n int, timeout time.Duration) []*event.Event {
	f.t.Helper()
	deadline := time.After(timeout)
	for {
		f.mu.Lock()
		got, ch := 0, f.changed
		for _, b := range f.batches {
			got += len(b)
		}
		f.mu.Unlock()
		if got >= n {
			return f.events()
		}
		select {
		case <-ch:
		case <-deadline:
			f.t.Fatalf("custody received %d events within %s, want %d", got, timeout, n)
		}
	}
}

// errSink collects what OnError receives.
type errSink struct {
	mu   sync.Mutex
	errs []error
}

func (s *errSink) add(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

func (s *errSink) list() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

// wait waits until at least n errors arrived.
func (s *errSink) wait(t *testing.T, n int, timeout time.Duration) []error {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if l := s.list(); len(l) >= n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("OnError received %d errors within %s, want %d", len(s.list()), timeout, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// newTestClient starts a client with quick defaults for tests: Source
// checkout-service, tiny retry intervals, OnError into the returned sink.
// It is closed when the test ends.
func newTestClient(t *testing.T, cfg Config, tr Transport) (*Client, *errSink) {
	t.Helper()
	if cfg.Source == "" {
		cfg.Source = "checkout-service"
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 5 * time.Millisecond
	}
	errs := &errSink{}
	if cfg.OnError == nil {
		cfg.OnError = errs.add
	}
	c, err := New(cfg, tr)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c, errs
}

var jane = Person(Email("Jane@Example.com"), CustomerID("C-1009"))

// order returns a valid data.collected event, distinct per i.
func order(i int, opts ...Option) *Event {
	return Collected(jane, CollectedData{
		Elements: []Element{ElemValue("email", "contact.email", "jane@example.com"), ElemValue("order", "commercial.purchase_history", fmt.Sprintf("order-%d", i))},
		Origin:   Origin{Kind: "consumer", Name: "checkout"},
		Purposes: []string{"order_fulfilment"},
		System:   "orders-db",
	}, opts...)
}

// orders returns n valid events.
func orders(n int) []*Event {
	out := make([]*Event, n)
	for i := range out {
		out[i] = order(i)
	}
	return out
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// recordingSleeper records backoff durations and sleeps for none of them.
type recordingSleeper struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (s *recordingSleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *recordingSleeper) list() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sleeps)
}
