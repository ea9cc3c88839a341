package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/custodyhq/custody/internal/event"
)

// GroupCommit is scheduling over the Sink port, so these tests drive it
// with a sink that answers as the broker sink does (an id repeated within
// one call is a Duplicate); the node's end-to-end tests run it in front of
// the real broker and log.

// callSink records each call's events. gate, when set, holds every call
// until it is closed; fail, when set, fails every call.
type callSink struct {
	mu      sync.Mutex
	calls   [][]*event.Event
	gate    chan struct{}
	started chan int // receives each call's size as it starts, when set
	fail    error
}

func (s *callSink) Accept(ctx context.Context, events []*event.Event) ([]Verdict, error) {
	s.mu.Lock()
	s.calls = append(s.calls, events)
	s.mu.Unlock()
	if s.started != nil {
		s.started <- len(events)
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.fail != nil {
		return nil, s.fail
	}
	seen := map[uuid.UUID]bool{}
	out := make([]Verdict, len(events))
	for i, e := range events {
		out[i] = Accepted
		if seen[e.ID] {
			out[i] = Duplicate
		}
		seen[e.ID] = true
	}
	return out, nil
}

func (s *callSink) sizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n []int
	for _, c := range s.calls {
		n = append(n, len(c))
	}
	return n
}

func newEvents(n int) []*event.Event {
	out := make([]*event.Event, n)
	for i := range out {
		out[i] = &event.Event{ID: uuid.New()}
	}
	return out
}

func newGroup(t *testing.T, inner Sink, cfg GroupConfig) *GroupCommit {
	t.Helper()
	g, err := NewGroupCommit(inner, cfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

type answer struct {
	verdicts []Verdict
	err      error
}

// acceptAsync runs Accept in a goroutine; the answer arrives on the channel.
func acceptAsync(ctx context.Context, g *GroupCommit, events []*event.Event) <-chan answer {
	ch := make(chan answer, 1)
	go func() {
		v, err := g.Accept(ctx, events)
		ch <- answer{v, err}
	}()
	return ch
}

func TestGroupCommit_RequestsWaitingForASlotShareOneCall(t *testing.T) {
	defer goleak.VerifyNone(t)
	inner := &callSink{gate: make(chan struct{}), started: make(chan int, 100)}
	g := newGroup(t, inner, GroupConfig{Concurrency: 2})
	ctx := context.Background()
	first := acceptAsync(ctx, g, newEvents(1))
	second := acceptAsync(ctx, g, newEvents(2))
	<-inner.started
	<-inner.started // both slots busy
	var waiting []<-chan answer
	var sizes []int
	for i := range 10 {
		sizes = append(sizes, i+1)
		waiting = append(waiting, acceptAsync(ctx, g, newEvents(i+1)))
	}
	waitUntil(t, func() bool { return queued(g) == 10 })
	close(inner.gate)
	for _, ch := range append([]<-chan answer{first, second}, waiting...) {
		a := <-ch
		if a.err != nil {
			t.Fatal(a.err)
		}
	}
	got := inner.sizes()
	if len(got) != 3 || got[2] != 55 {
		t.Fatalf("calls of %v events, want [1 2 55] in some order of the first two", got)
	}
}

func TestGroupCommit_EachRequestGetsItsOwnVerdictsInOrder(t *testing.T) {
	defer goleak.VerifyNone(t)
	inner := &callSink{gate: make(chan struct{}), started: make(chan int, 100)}
	g := newGroup(t, inner, GroupConfig{Concurrency: 1})
	ctx := context.Background()
	blocker := acceptAsync(ctx, g, newEvents(1))
	<-inner.started
	// Two requests in one group send the same id: the first is accepted,
	// the second is a duplicate, as within one request.
	shared := uuid.New()
	a := []*event.Event{{ID: uuid.New()}, {ID: shared}, {ID: uuid.New()}}
	b := []*event.Event{{ID: shared}, {ID: uuid.New()}}
	ca := acceptAsync(ctx, g, a)
	waitUntil(t, func() bool { return queued(g) == 1 })
	cb := acceptAsync(ctx, g, b)
	waitUntil(t, func() bool { return queued(g) == 2 })
	close(inner.gate)
	<-blocker
	ra, rb := <-ca, <-cb
	if ra.err != nil || rb.err != nil {
		t.Fatal(ra.err, rb.err)
	}
	if strings.Join(verdictStrings(ra.verdicts), ",") != "accepted,accepted,accepted" {
		t.Fatalf("first request: %v", ra.verdicts)
	}
	if strings.Join(verdictStrings(rb.verdicts), ",") != "duplicate,accepted" {
		t.Fatalf("second request: %v", rb.verdicts)
	}
	if got := inner.sizes(); len(got) != 2 || got[1] != 5 {
		t.Fatalf("calls %v, want [1 5]", got)
	}
}

func TestGroupCommit_AFailedCallFailsEveryRequestInIt(t *testing.T) {
	defer goleak.VerifyNone(t)
	inner := &callSink{gate: make(chan struct{}), started: make(chan int, 100), fail: errors.New("broker down (injected)")}
	g := newGroup(t, inner, GroupConfig{Concurrency: 1})
	ctx := context.Background()
	var all []<-chan answer
	all = append(all, acceptAsync(ctx, g, newEvents(1)))
	<-inner.started
	for range 5 {
		all = append(all, acceptAsync(ctx, g, newEvents(3)))
	}
	waitUntil(t, func() bool { return queued(g) == 5 })
	close(inner.gate)
	for _, ch := range all {
		if a := <-ch; a.err == nil || a.verdicts != nil {
			t.Fatalf("a request of a failed call answered %v, %v", a.verdicts, a.err)
		}
	}
}

func TestGroupCommit_GroupsStayWithinMaxEventsAndNeverSplitARequest(t *testing.T) {
	defer goleak.VerifyNone(t)
	inner := &callSink{gate: make(chan struct{}), started: make(chan int, 100)}
	g := newGroup(t, inner, GroupConfig{Concurrency: 1, MaxEvents: 10})
	ctx := context.Background()
	var all []<-chan answer
	all = append(all, acceptAsync(ctx, g, newEvents(1)))
	<-inner.started
	for i, n := range []int{4, 4, 4, 25, 3} {
		all = append(all, acceptAsync(ctx, g, newEvents(n)))
		waitUntil(t, func() bool { return queued(g) == i+1 })
	}
	close(inner.gate)
	for _, ch := range all {
		if a := <-ch; a.err != nil {
			t.Fatal(a.err)
		}
	}
	if got := inner.sizes(); fmt.Sprint(got) != "[1 8 4 25 3]" {
		t.Fatalf("calls %v, want [1 8 4 25 3]", got)
	}
}

func TestGroupCommit_ARequestThatGivesUpWhileQueuedIsLeftOut(t *testing.T) {
	defer goleak.VerifyNone(t)
	inner := &callSink{gate: make(chan struct{}), started: make(chan int, 100)}
	g := newGroup(t, inner, GroupConfig{Concurrency: 1})
	blocker := acceptAsync(context.Background(), g, newEvents(1))
	<-inner.started
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := acceptAsync(ctx, g, newEvents(7))
	waitUntil(t, func() bool { return queued(g) == 1 })
	stays := acceptAsync(context.Background(), g, newEvents(2))
	waitUntil(t, func() bool { return queued(g) == 2 })
	cancel()
	if a := <-gaveUp; !errors.Is(a.err, context.Canceled) {
		t.Fatalf("cancelled request: %v", a.err)
	}
	close(inner.gate)
	<-blocker
	if a := <-stays; a.err != nil || len(a.verdicts) != 2 {
		t.Fatalf("request behind it: %v %v", a.verdicts, a.err)
	}
	if got := inner.sizes(); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("calls %v, want [1 2]: the cancelled request's events were sent", got)
	}
}

func TestGroupCommit_AnIdleSinkIsCalledAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	inner := &callSink{}
	g := newGroup(t, inner, GroupConfig{})
	for range 3 {
		if _, err := g.Accept(context.Background(), newEvents(2)); err != nil {
			t.Fatal(err)
		}
	}
	if got := inner.sizes(); fmt.Sprint(got) != "[2 2 2]" {
		t.Fatalf("calls %v", got)
	}
}

func TestGroupConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   GroupConfig
		field string
	}{
		{"negative max events", GroupConfig{MaxEvents: -1}, "ingest.group_commit.max_events"},
		{"too many in flight", GroupConfig{Concurrency: 65}, "ingest.group_commit.concurrency"},
		{"negative concurrency", GroupConfig{Concurrency: -2}, "ingest.group_commit.concurrency"},
		{"timeout too short", GroupConfig{Timeout: time.Millisecond}, "ingest.group_commit.timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
	if err := (GroupConfig{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

func queued(g *GroupCommit) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func verdictStrings(v []Verdict) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = string(x)
	}
	return out
}
