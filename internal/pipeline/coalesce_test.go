package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
)

// The coalescer is pure scheduling logic, so these tests drive it with a
// fake appender; the pipeline tests run it against the real log and broker.

// fakeAppender records every call. Its outcome for an entry is Duplicate
// when the id's first byte is odd, so that each handler's outcomes can be
// checked against its own entries. gate, when set, holds every call until
// it is closed; fail decides an error from a call's entries.
type fakeAppender struct {
	mu    sync.Mutex
	calls [][]event.Entry
	gate  chan struct{}
	fail  func([]event.Entry) error
	// started receives each call's size as it starts (buffered by the test).
	started chan int
}

func (f *fakeAppender) AppendEntries(ctx context.Context, entries []event.Entry) ([]eventlog.Outcome, error) {
	f.mu.Lock()
	f.calls = append(f.calls, entries)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- len(entries)
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail != nil {
		if err := f.fail(entries); err != nil {
			return nil, err
		}
	}
	out := make([]eventlog.Outcome, len(entries))
	for i, e := range entries {
		if e.ID[0]%2 == 1 {
			out[i] = eventlog.Duplicate
		}
	}
	return out, nil
}

func (f *fakeAppender) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []int
	for _, c := range f.calls {
		s = append(s, len(c))
	}
	return s
}

func entries(n int) []event.Entry {
	out := make([]event.Entry, n)
	for i := range out {
		out[i].ID = uuid.New()
	}
	return out
}

func wantOutcomes(t *testing.T, es []event.Entry, got []eventlog.Outcome) {
	t.Helper()
	if len(got) != len(es) {
		t.Fatalf("%d outcomes for %d entries", len(got), len(es))
	}
	for i, e := range es {
		want := eventlog.Stored
		if e.ID[0]%2 == 1 {
			want = eventlog.Duplicate
		}
		if got[i] != want {
			t.Fatalf("outcome %d is %s, want %s (not this handler's entry, or out of order)", i, got[i], want)
		}
	}
}

type result struct {
	outcomes []eventlog.Outcome
	shared   int
	err      error
}

// submit runs one handler's append (begin first, as the pipeline does).
func submit(ctx context.Context, c *coalescer, es []event.Entry) <-chan result {
	c.begin()
	ch := make(chan result, 1)
	go func() {
		o, n, err := c.append(ctx, es)
		ch <- result{o, n, err}
	}()
	return ch
}

func recv(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no result within 5s")
		return result{}
	}
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// joined is how many handlers the open batch holds.
func joined(c *coalescer) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		return 0
	}
	return len(c.open.parts)
}

func startedWithin(t *testing.T, f *fakeAppender, want int) {
	t.Helper()
	select {
	case n := <-f.started:
		if n != want {
			t.Fatalf("an append of %d events started, want %d", n, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no append of %d events started within 5s", want)
	}
}

func TestCoalescer_HandlersWaitingTogetherShareOneAppendAndGetTheirOwnOutcomesInOrder(t *testing.T) {
	f := &fakeAppender{gate: make(chan struct{}), started: make(chan int, 10)}
	c := newCoalescer(f, 1000, time.Hour)
	ctx := context.Background()
	// The first handler's append holds the log; three more arrive meanwhile.
	first := entries(5)
	r0 := submit(ctx, c, first)
	startedWithin(t, f, 5)
	batches := [][]event.Entry{entries(7), entries(1), entries(30)}
	var rs []<-chan result
	for _, es := range batches {
		rs = append(rs, submit(ctx, c, es))
	}
	waitUntil(t, "the three batches to join", 5*time.Second, func() bool { return joined(c) == 3 })
	close(f.gate)
	wantOutcomes(t, first, recv(t, r0).outcomes)
	for i, r := range rs {
		got := recv(t, r)
		if got.err != nil || got.shared != 3 {
			t.Fatalf("batch %d: err %v, shared by %d, want nil and 3", i, got.err, got.shared)
		}
		wantOutcomes(t, batches[i], got.outcomes)
	}
	if s := fmt.Sprint(f.sizes()); s != "[5 38]" {
		t.Fatalf("appends of %s events, want [5 38]", s)
	}
}

func TestCoalescer_FailedSharedAppendFailsEveryHandlerInIt(t *testing.T) {
	boom := errors.New("clickhouse down")
	f := &fakeAppender{gate: make(chan struct{}), started: make(chan int, 10)}
	c := newCoalescer(f, 1000, time.Hour)
	ctx := context.Background()
	r0 := submit(ctx, c, entries(2))
	startedWithin(t, f, 2)
	f.fail = func(es []event.Entry) error {
		if len(es) > 2 {
			return boom
		}
		return nil
	}
	ra, rb := submit(ctx, c, entries(3)), submit(ctx, c, entries(4))
	waitUntil(t, "both batches to join", 5*time.Second, func() bool { return joined(c) == 2 })
	close(f.gate)
	if r := recv(t, r0); r.err != nil {
		t.Fatalf("the first append: %v", r.err)
	}
	for _, r := range []result{recv(t, ra), recv(t, rb)} {
		if !errors.Is(r.err, boom) || r.outcomes != nil || r.shared != 2 {
			t.Fatalf("got outcomes %v, shared %d, err %v; want no outcomes and the shared error", r.outcomes, r.shared, r.err)
		}
	}
}

func TestCoalescer_HandlerThatCannotDecodeDoesNotHoldOthersBack(t *testing.T) {
	f := &fakeAppender{}
	c := newCoalescer(f, 1000, time.Hour)
	c.begin() // decoding; about to fail
	r := submit(context.Background(), c, entries(3))
	select {
	case <-r:
		t.Fatal("appended while another handler was still decoding, before linger")
	case <-time.After(50 * time.Millisecond):
	}
	c.leave()
	got := recv(t, r)
	if got.err != nil || got.shared != 1 {
		t.Fatalf("err %v, shared by %d; want nil and 1", got.err, got.shared)
	}
}

func TestCoalescer_WaitsAtMostLingerForHandlersStillDecoding(t *testing.T) {
	f := &fakeAppender{}
	const linger = 40 * time.Millisecond
	c := newCoalescer(f, 1000, linger)
	c.begin() // never submits within the test
	defer c.leave()
	start := time.Now()
	got := recv(t, submit(context.Background(), c, entries(3)))
	took := time.Since(start)
	if got.err != nil || took < linger {
		t.Fatalf("err %v after %s; want the append after linger (%s)", got.err, took, linger)
	}
	// Without a handler decoding, nothing waits.
	c2 := newCoalescer(f, 1000, time.Hour)
	if got := recv(t, submit(context.Background(), c2, entries(1))); got.err != nil {
		t.Fatal(got.err)
	}
}

func TestCoalescer_FullBatchIsAppendedAtOnceAndNoBatchExceedsMaxEvents(t *testing.T) {
	f := &fakeAppender{gate: make(chan struct{}), started: make(chan int, 10)}
	c := newCoalescer(f, 10, time.Hour)
	ctx := context.Background()
	c.begin() // a handler still decoding: only size starts an append
	defer c.leave()
	r0 := submit(ctx, c, entries(10))
	startedWithin(t, f, 10)
	var rs []<-chan result
	for _, n := range []int{6, 4, 3, 12} {
		rs = append(rs, submit(ctx, c, entries(n)))
		time.Sleep(5 * time.Millisecond) // join in this order
	}
	close(f.gate)
	for _, r := range append([]<-chan result{r0}, rs...) {
		if got := recv(t, r); got.err != nil {
			t.Fatal(got.err)
		}
	}
	// 6 and 4 fill a batch; 3 cannot take 12 more, so it goes alone; 12 is
	// over the cap on its own. Linger is an hour and a handler is still
	// decoding: only size let them go.
	if s := fmt.Sprint(f.sizes()); s != "[10 10 3 12]" {
		t.Fatalf("appends of %s events, want [10 10 3 12]", s)
	}
}

func TestCoalescer_HandlerTimeoutEndsTheWaitAndTheAppend(t *testing.T) {
	f := &fakeAppender{gate: make(chan struct{}), started: make(chan int, 10)}
	c := newCoalescer(f, 1000, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := recv(t, submit(ctx, c, entries(3)))
	if !errors.Is(got.err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %s; want the deadline after ~50ms", got.err, time.Since(start))
	}
	startedWithin(t, f, 3)
	// The append it was in was cancelled (the gate is still shut), so the
	// log is free for the next one.
	r := submit(context.Background(), c, entries(2))
	startedWithin(t, f, 2)
	close(f.gate)
	if got := recv(t, r); got.err != nil {
		t.Fatal(got.err)
	}
}

func TestCoalescer_HandlerThatTimedOutWhileWaitingIsLeftOutOfTheAppend(t *testing.T) {
	f := &fakeAppender{gate: make(chan struct{}), started: make(chan int, 10)}
	c := newCoalescer(f, 1000, time.Hour)
	r0 := submit(context.Background(), c, entries(1))
	startedWithin(t, f, 1)
	short, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	gaveUp := submit(short, c, entries(5))
	waitUntil(t, "the first to join", 5*time.Second, func() bool { return joined(c) == 1 })
	patient := entries(7)
	r := submit(context.Background(), c, patient)
	if got := recv(t, gaveUp); !errors.Is(got.err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline", got.err)
	}
	close(f.gate)
	recv(t, r0)
	got := recv(t, r)
	if got.err != nil || got.shared != 1 {
		t.Fatalf("err %v, shared by %d; want nil and 1", got.err, got.shared)
	}
	wantOutcomes(t, patient, got.outcomes)
	if s := fmt.Sprint(f.sizes()); s != "[1 7]" {
		t.Fatalf("appends of %s events, want [1 7]", s)
	}
}

func TestCoalescer_PanicInTheAppendIsAnError(t *testing.T) {
	f := &fakeAppender{fail: func([]event.Entry) error { panic("boom") }}
	c := newCoalescer(f, 1000, time.Hour)
	if got := recv(t, submit(context.Background(), c, entries(1))); got.err == nil {
		t.Fatal("a panicking append succeeded")
	}
	f.fail = nil
	if got := recv(t, submit(context.Background(), c, entries(1))); got.err != nil {
		t.Fatalf("the log stayed busy after a panic: %v", got.err)
	}
}

// A shared append failing for good (rows the storage cannot map) is tried
// again batch by batch, so that only the batch at fault is poisoned.
func TestPipeline_PermanentErrorOfASharedAppendIsIsolated(t *testing.T) {
	bad := entries(2)
	f := &fakeAppender{gate: make(chan struct{}), started: make(chan int, 10)}
	f.fail = func(es []event.Entry) error {
		for _, e := range es {
			if e.ID == bad[0].ID {
				return fmt.Errorf("insert: %w", clickhouse.ErrBadRows)
			}
		}
		return nil
	}
	p := &Pipeline{app: entryLog{f}, coalescer: newCoalescer(f, 1000, time.Hour)}
	ctx := context.Background()
	type res struct {
		outcomes []eventlog.Outcome
		err      error
	}
	run := func(es []event.Entry) <-chan res {
		p.coalescer.begin()
		ch := make(chan res, 1)
		go func() {
			o, err := p.appendEntries(ctx, entryLog{f}, es)
			ch <- res{o, err}
		}()
		return ch
	}
	first := run(entries(1))
	startedWithin(t, f, 1)
	good := entries(3)
	rg, rb := run(good), run(bad)
	waitUntil(t, "both to join", 5*time.Second, func() bool { return joined(p.coalescer) == 2 })
	close(f.gate)
	<-first
	g, b := <-rg, <-rb
	if g.err != nil {
		t.Fatalf("the good batch failed with the bad one's error: %v", g.err)
	}
	wantOutcomes(t, good, g.outcomes)
	if !shouldPoison(b.err) {
		t.Fatalf("the bad batch: %v, want an error that poisons", b.err)
	}
}

// entryLog makes the fake an EntryAppender.
type entryLog struct{ *fakeAppender }

func (entryLog) Append(context.Context, []*event.Event) ([]eventlog.Outcome, error) {
	return nil, errors.New("not used")
}
