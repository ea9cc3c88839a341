package admission

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config bounds the reads a Limiter admits. Every field is explicit (the
// configuration package chooses the defaults, see README "Configuration").
type Config struct {
	// MaxConcurrent is how many reads may run at once; at least 1.
	MaxConcurrent int
	// MaxQueued is how many reads may wait for a turn; 0 refuses a read at
	// once when MaxConcurrent are running.
	MaxQueued int
	// MaxWait is the longest a read waits for a turn before it is refused;
	// positive. The read's context may end the wait sooner.
	MaxWait time.Duration
}

// Validate names every field that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.MaxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("admission: MaxConcurrent must be at least 1, got %d", c.MaxConcurrent))
	}
	if c.MaxQueued < 0 {
		errs = append(errs, fmt.Errorf("admission: MaxQueued must not be negative, got %d", c.MaxQueued))
	}
	if c.MaxWait <= 0 {
		errs = append(errs, fmt.Errorf("admission: MaxWait must be positive, got %s", c.MaxWait))
	}
	return errors.Join(errs...)
}

// Reason says why a read was not admitted; it labels
// custody_reads_refused_total.
type Reason string

// Reasons.
const (
	// ReasonQueueFull: MaxConcurrent reads were running and MaxQueued
	// waiting when the read came; it was refused at once.
	ReasonQueueFull Reason = "queue_full"
	// ReasonTimeout: the read waited MaxWait without a turn.
	ReasonTimeout Reason = "timeout"
	// ReasonCanceled: the read's context ended (its client left, or its
	// request timed out) before it had a turn. Acquire returns the
	// context's error, not a *RefusedError: nobody is left to retry.
	ReasonCanceled Reason = "canceled"
)

// ErrOverloaded is wrapped by every *RefusedError.
var ErrOverloaded = errors.New("too many reads at once")

// RefusedError is the error of a read the Limiter refused because it was
// overloaded (ReasonQueueFull or ReasonTimeout). Its message is safe to
// show a client.
type RefusedError struct {
	Reason Reason
	// RetryAfter is when trying again makes sense: MaxWait, rounded up to
	// a whole second (the queue has had that long to drain).
	RetryAfter time.Duration
	running    int
	queued     int
	waited     time.Duration
}

func (e *RefusedError) Error() string {
	retry := fmt.Sprintf("retry in %ds", int(e.RetryAfter/time.Second))
	if e.Reason == ReasonTimeout {
		return fmt.Sprintf("%v: no turn within %s (%d running); %s", ErrOverloaded, e.waited, e.running, retry)
	}
	return fmt.Sprintf("%v: %d running and %d waiting, the most allowed; %s", ErrOverloaded, e.running, e.queued, retry)
}

// Unwrap makes errors.Is(err, ErrOverloaded) hold.
func (e *RefusedError) Unwrap() error { return ErrOverloaded }

// Limiter admits reads; see the package doc. It is safe for concurrent use
// and starts no goroutines.
type Limiter struct {
	cfg        Config
	retryAfter time.Duration
	// slots holds one token per running read. A read waiting for a turn is
	// blocked sending on it, and Go hands a freed slot to the longest
	// blocked sender: waiters are admitted in arrival order, and a read
	// arriving meanwhile cannot take the slot ahead of them (its send finds
	// the buffer still full).
	slots chan struct{}

	mu      sync.Mutex
	waiting int

	inFlight prometheus.Gauge
	queued   prometheus.Gauge
	wait     prometheus.Histogram
	refused  *prometheus.CounterVec
}

// New returns a Limiter for cfg with its metrics registered on reg.
func New(cfg Config, reg prometheus.Registerer) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if reg == nil {
		return nil, errors.New("admission: a metrics registerer is required")
	}
	l := &Limiter{
		cfg:        cfg,
		retryAfter: time.Duration(math.Ceil(cfg.MaxWait.Seconds())) * time.Second,
		slots:      make(chan struct{}, cfg.MaxConcurrent),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "custody_reads_in_flight",
			Help: "Reads of personal data (GraphQL subject, lineage, rightToKnow, accessLog; report downloads) running now.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "custody_reads_waiting",
			Help: "Reads of personal data waiting for a turn to run.",
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "custody_read_wait_seconds",
			Help:    "Time each admitted read of personal data waited for its turn (0 when one was free).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custody_reads_refused_total",
			Help: "Reads of personal data not admitted, by reason: queue_full, timeout (both answered as overloaded), canceled (the caller left while waiting).",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{l.inFlight, l.queued, l.wait, l.refused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register read admission metrics: %w", err)
		}
	}
	for _, r := range []Reason{ReasonQueueFull, ReasonTimeout, ReasonCanceled} {
		l.refused.WithLabelValues(string(r)) // every reason shows, at 0
	}
	return l, nil
}

// Acquire returns once the caller may run one read, with release to call
// when the read is over; or, without running anything, a *RefusedError
// (wrapping ErrOverloaded) when the queue is full or MaxWait passed, or
// ctx's error when ctx ends first (already ended: even with a turn free).
// release frees the turn for the next read; call it on every path, panics
// included (defer it), and only once it matters: later calls do nothing.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		l.refused.WithLabelValues(string(ReasonCanceled)).Inc()
		return nil, fmt.Errorf("read not started: %w", err)
	}
	select {
	case l.slots <- struct{}{}:
		return l.admitted(0), nil
	default:
	}

	l.mu.Lock()
	if l.waiting >= l.cfg.MaxQueued {
		waiting := l.waiting
		l.mu.Unlock()
		l.refused.WithLabelValues(string(ReasonQueueFull)).Inc()
		return nil, &RefusedError{Reason: ReasonQueueFull, RetryAfter: l.retryAfter, running: l.cfg.MaxConcurrent, queued: waiting}
	}
	l.waiting++
	l.queued.Inc()
	l.mu.Unlock()

	start := time.Now()
	timer := time.NewTimer(l.cfg.MaxWait)
	defer timer.Stop()
	var reason Reason
	select {
	case l.slots <- struct{}{}:
	case <-timer.C:
		reason = ReasonTimeout
	case <-ctx.Done():
		reason = ReasonCanceled
	}
	l.mu.Lock()
	l.waiting--
	l.queued.Dec()
	l.mu.Unlock()
	switch reason {
	case ReasonTimeout:
		l.refused.WithLabelValues(string(reason)).Inc()
		return nil, &RefusedError{Reason: reason, RetryAfter: l.retryAfter, running: l.cfg.MaxConcurrent, waited: l.cfg.MaxWait}
	case ReasonCanceled:
		l.refused.WithLabelValues(string(reason)).Inc()
		return nil, fmt.Errorf("stopped waiting for a turn to read: %w", ctx.Err())
	}
	return l.admitted(time.Since(start)), nil
}

// admitted counts a read that took a slot and returns its release.
func (l *Limiter) admitted(waited time.Duration) func() {
	l.inFlight.Inc()
	l.wait.Observe(waited.Seconds())
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			l.inFlight.Dec()
			<-l.slots
		}
	}
}
