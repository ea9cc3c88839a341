package admission_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/custodyhq/custody/internal/admission"
)

// Waiting reads are goroutines blocked in Acquire: every test must leave
// none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newLimiter(t *testing.T, cfg admission.Config) (*admission.Limiter, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	l, err := admission.New(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	return l, reg
}

// metric returns the value of a gauge or counter (with reason, when
// given), or the sample count of a histogram, as registered on reg.
func metric(t *testing.T, reg *prometheus.Registry, name string, reason ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(reason) > 0 && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != reason[0]) {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	t.Fatalf("no metric %s %v", name, reason)
	return 0
}

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The contract, from the point of view of one more read arriving when
// hold reads run and queued wait.
func TestAcquire_Contract(t *testing.T) {
	canceledSoon := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		return ctx, cancel
	}
	tests := []struct {
		name   string
		cfg    admission.Config
		hold   int // reads already running
		queued int // reads already waiting (they wait until the test ends)
		// freeAfter frees one running read that long after the read
		// arrives (0: none ends).
		freeAfter time.Duration
		ctx       func() (context.Context, context.CancelFunc)
		// Outcome: admitted (reason ""), or refused for reason.
		reason    admission.Reason
		overload  bool          // the error wraps ErrOverloaded
		ctxErr    error         // the error wraps this context error
		minWait   time.Duration // the read took at least this long to be answered (less any lead of a timer started with its context)
		maxWait   time.Duration // and at most this long
		retryWant time.Duration // RetryAfter of a *RefusedError
	}{
		{name: "a free turn admits at once", cfg: admission.Config{MaxConcurrent: 3, MaxQueued: 0, MaxWait: time.Second},
			hold: 2, maxWait: 100 * time.Millisecond},
		{name: "all running, room in the queue, a turn frees: admitted after the wait", cfg: admission.Config{MaxConcurrent: 2, MaxQueued: 1, MaxWait: 5 * time.Second},
			hold: 2, freeAfter: 50 * time.Millisecond, minWait: 50 * time.Millisecond, maxWait: 4 * time.Second},
		{name: "all running and no queue: refused at once", cfg: admission.Config{MaxConcurrent: 1, MaxQueued: 0, MaxWait: 5 * time.Second},
			hold: 1, reason: admission.ReasonQueueFull, overload: true, maxWait: 100 * time.Millisecond, retryWant: 5 * time.Second},
		{name: "all running and the queue full: refused at once", cfg: admission.Config{MaxConcurrent: 2, MaxQueued: 2, MaxWait: 5 * time.Second},
			hold: 2, queued: 2, reason: admission.ReasonQueueFull, overload: true, maxWait: 100 * time.Millisecond, retryWant: 5 * time.Second},
		{name: "no turn within MaxWait: refused after it", cfg: admission.Config{MaxConcurrent: 1, MaxQueued: 4, MaxWait: 80 * time.Millisecond},
			hold: 1, reason: admission.ReasonTimeout, overload: true, minWait: 80 * time.Millisecond, maxWait: 4 * time.Second, retryWant: time.Second},
		{name: "the caller leaves while waiting: its context's error", cfg: admission.Config{MaxConcurrent: 1, MaxQueued: 1, MaxWait: 10 * time.Second},
			hold: 1, ctx: canceledSoon, reason: admission.ReasonCanceled, ctxErr: context.Canceled, minWait: 20 * time.Millisecond, maxWait: 4 * time.Second},
		{name: "the request's deadline comes before MaxWait: its context's error", cfg: admission.Config{MaxConcurrent: 1, MaxQueued: 1, MaxWait: 10 * time.Second},
			hold: 1, ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 40*time.Millisecond)
			}, reason: admission.ReasonCanceled, ctxErr: context.DeadlineExceeded, minWait: 30 * time.Millisecond, maxWait: 4 * time.Second},
		{name: "a context already ended is refused even with a turn free", cfg: admission.Config{MaxConcurrent: 1, MaxQueued: 1, MaxWait: time.Second},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			}, reason: admission.ReasonCanceled, ctxErr: context.Canceled, maxWait: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, reg := newLimiter(t, tt.cfg)
			var releases []func()
			for range tt.hold {
				rel, err := l.Acquire(context.Background())
				if err != nil {
					t.Fatalf("holding a turn: %v", err)
				}
				releases = append(releases, rel)
			}
			// Queued reads wait until the test ends; their context ends then.
			qctx, stopQueued := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range tt.queued {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if rel, err := l.Acquire(qctx); err == nil {
						rel()
					}
				}()
			}
			t.Cleanup(func() {
				stopQueued()
				for _, rel := range releases {
					rel()
				}
				wg.Wait()
			})
			eventually(t, fmt.Sprintf("%d reads wait", tt.queued), func() bool {
				return metric(t, reg, "custody_reads_waiting") == float64(tt.queued)
			})
			if tt.freeAfter > 0 {
				time.AfterFunc(tt.freeAfter, releases[0])
			}
			ctx := context.Background()
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx()
				defer cancel()
			}

			start := time.Now()
			release, err := l.Acquire(ctx)
			took := time.Since(start)

			if took < tt.minWait || took > tt.maxWait {
				t.Errorf("answered after %s, want %s..%s", took, tt.minWait, tt.maxWait)
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got := metric(t, reg, "custody_reads_in_flight"); got != float64(min(tt.hold, tt.cfg.MaxConcurrent)+1-boolInt(tt.freeAfter > 0)) {
					t.Errorf("in flight %v after admission", got)
				}
				release()
				return
			}
			if err == nil {
				release()
				t.Fatal("admitted, want refused")
			}
			if release != nil {
				t.Error("a refused read got a release")
			}
			if got := errors.Is(err, admission.ErrOverloaded); got != tt.overload {
				t.Errorf("errors.Is(%v, ErrOverloaded) = %v, want %v", err, got, tt.overload)
			}
			if tt.ctxErr != nil && !errors.Is(err, tt.ctxErr) {
				t.Errorf("error %v does not wrap %v", err, tt.ctxErr)
			}
			var refused *admission.RefusedError
			if errors.As(err, &refused) != tt.overload {
				t.Errorf("error %T: a *RefusedError exactly when overloaded", err)
			}
			if refused != nil && (refused.Reason != tt.reason || refused.RetryAfter != tt.retryWant) {
				t.Errorf("refused for %s, retry after %s; want %s, %s", refused.Reason, refused.RetryAfter, tt.reason, tt.retryWant)
			}
			if got := metric(t, reg, "custody_reads_refused_total", string(tt.reason)); got != 1 {
				t.Errorf("custody_reads_refused_total{reason=%q} = %v, want 1", tt.reason, got)
			}
			if got := metric(t, reg, "custody_reads_waiting"); got != float64(tt.queued) {
				t.Errorf("%v waiting after the refusal, want the %d queued before", got, tt.queued)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRefusedError_MessageSaysWhyAndWhenToRetry(t *testing.T) {
	l, _ := newLimiter(t, admission.Config{MaxConcurrent: 1, MaxQueued: 0, MaxWait: 2500 * time.Millisecond})
	rel, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	_, err = l.Acquire(context.Background())
	if want := "too many reads at once: 1 running and 0 waiting, the most allowed; retry in 3s"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// A turn goes back when the read ends however it ends, and only once.
func TestRelease_OnEveryPathAndOnce(t *testing.T) {
	l, reg := newLimiter(t, admission.Config{MaxConcurrent: 1, MaxQueued: 0, MaxWait: time.Second})
	read := func(f func()) (err error) {
		release, err := l.Acquire(context.Background())
		if err != nil {
			return err
		}
		defer release()
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		f()
		return nil
	}
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"returns", func() {}},
		{"panics", func() { panic("boom") }},
	} {
		_ = read(tc.f)
		if got := metric(t, reg, "custody_reads_in_flight"); got != 0 {
			t.Errorf("%s: %v in flight after it ended", tc.name, got)
		}
		if err := read(func() {}); err != nil {
			t.Errorf("%s: the turn was not given back: %v", tc.name, err)
		}
	}
	// A panic that is not recovered on the way releases it too.
	func() {
		defer func() { _ = recover() }()
		release, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		panic("boom")
	}()
	if err := read(func() {}); err != nil {
		t.Errorf("after a panic: %v", err)
	}

	release, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()
	release() // a second call must not free another read's turn
	other, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer other()
	if _, err := l.Acquire(context.Background()); !errors.Is(err, admission.ErrOverloaded) {
		t.Fatalf("a second release freed a turn: %v", err)
	}
}

// Waiting reads get their turn in the order they came.
func TestAcquire_WaitersInArrivalOrder(t *testing.T) {
	l, reg := newLimiter(t, admission.Config{MaxConcurrent: 1, MaxQueued: 8, MaxWait: 10 * time.Second})
	release, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	order := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := l.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			rel()
		}()
		// The next comes once this one waits, and has had a moment to block
		// on its turn (the gauge counts it just before).
		eventually(t, fmt.Sprintf("read %d waits", i), func() bool { return metric(t, reg, "custody_reads_waiting") == float64(i+1) })
		time.Sleep(20 * time.Millisecond)
	}
	release()
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Errorf("read %d got its turn when read %d should", got, want)
		}
		want++
	}
	if got := metric(t, reg, "custody_read_wait_seconds"); got != n+1 {
		t.Errorf("%v wait observations, want one per admitted read (%d)", got, n+1)
	}
}

// Under many concurrent reads, never more than MaxConcurrent run, every
// read is admitted or refused, and the gauges come back to zero.
func TestAcquire_NeverMoreThanMaxConcurrent(t *testing.T) {
	const limit, readers = 3, 64
	l, reg := newLimiter(t, admission.Config{MaxConcurrent: limit, MaxQueued: 16, MaxWait: 20 * time.Millisecond})
	var running, most, admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := l.Acquire(context.Background())
			if err != nil {
				if !errors.Is(err, admission.ErrOverloaded) {
					t.Error(err)
				}
				refused.Add(1)
				return
			}
			defer release()
			admitted.Add(1)
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			running.Add(-1)
		}()
	}
	wg.Wait()
	if most.Load() > limit {
		t.Errorf("%d reads ran at once, limit %d", most.Load(), limit)
	}
	if admitted.Load()+refused.Load() != readers || admitted.Load() < limit {
		t.Errorf("admitted %d, refused %d of %d", admitted.Load(), refused.Load(), readers)
	}
	total := metric(t, reg, "custody_reads_refused_total", "queue_full") + metric(t, reg, "custody_reads_refused_total", "timeout")
	if total != float64(refused.Load()) {
		t.Errorf("refused_total %v, %d refused", total, refused.Load())
	}
	if a, b := metric(t, reg, "custody_reads_in_flight"), metric(t, reg, "custody_reads_waiting"); a != 0 || b != 0 {
		t.Errorf("in flight %v, waiting %v after every read ended", a, b)
	}
}

func TestNew_ValidatesAndRegisters(t *testing.T) {
	for _, tc := range []struct {
		cfg  admission.Config
		want string
	}{
		{admission.Config{MaxConcurrent: 0, MaxQueued: 0, MaxWait: time.Second}, "MaxConcurrent"},
		{admission.Config{MaxConcurrent: 1, MaxQueued: -1, MaxWait: time.Second}, "MaxQueued"},
		{admission.Config{MaxConcurrent: 1, MaxQueued: 0, MaxWait: 0}, "MaxWait"},
	} {
		if _, err := admission.New(tc.cfg, prometheus.NewRegistry()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.cfg, err, tc.want)
		}
	}
	if _, err := admission.New(admission.Config{MaxConcurrent: 1, MaxWait: time.Second}, nil); err == nil {
		t.Error("no registerer accepted")
	}
	reg := prometheus.NewRegistry()
	if _, err := admission.New(admission.Config{MaxConcurrent: 1, MaxWait: time.Second}, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := admission.New(admission.Config{MaxConcurrent: 1, MaxWait: time.Second}, reg); err == nil {
		t.Error("a second limiter registered the same metrics")
	}
	for _, r := range []string{"queue_full", "timeout", "canceled"} {
		if got := metric(t, reg, "custody_reads_refused_total", r); got != 0 {
			t.Errorf("refused{%s} starts at %v", r, got)
		}
	}
}
