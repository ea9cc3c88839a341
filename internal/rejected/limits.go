package rejected

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/event"
)

// Defaults of Limits, and the retention that
// schema/clickhouse/008_rejected_retention.sql sets on the table.
const (
	// DefaultMaxPayloadBytes keeps every event of a few KB whole (what
	// services send) and enough of a larger one to see what it was.
	DefaultMaxPayloadBytes = 64 << 10
	// DefaultMaxStoredBytes and DefaultMaxStored bound the whole store:
	// at most 256 MiB of payloads, at most 100,000 rejections.
	DefaultMaxStoredBytes = 256 << 20
	DefaultMaxStored      = 100_000
	// Retention is how long a rejection is kept: the table's TTL.
	Retention = 30 * 24 * time.Hour
)

// totalsMaxAge is how long the store trusts its count of what is stored
// before reading it again; in between it adds what it put itself.
const totalsMaxAge = 10 * time.Second

// Reasons a rejection is not kept (custody_rejected_dropped_total).
const (
	DropMaxStored      = "max_stored"
	DropMaxStoredBytes = "max_stored_bytes"
)

// ErrFull means the store is at a cap (Limits.MaxStored or MaxStoredBytes):
// Put kept the rejections that fitted, in order, and dropped the rest,
// counting them in custody_rejected_dropped_total and logging it. The
// producer was told about every rejected event all the same; what is lost
// is the copy kept for inspection and replay.
var ErrFull = errors.New("rejected: store is full")

// ErrTruncated means a rejection's payload was kept only in part
// (Limits.MaxPayloadBytes), so it cannot be replayed.
var ErrTruncated = errors.New("rejected: payload was truncated when kept")

// Limits cap what the store keeps, so that bad input cannot fill the disk:
// twenty 9.5 MB bad bodies once took 209 MB in 5 s. Zero fields take the
// defaults. Rejections also expire after Retention (the table's TTL).
type Limits struct {
	// MaxPayloadBytes is the most kept of one rejected event (or of the
	// rest of a malformed batch); the bytes beyond are dropped and the
	// rejection is marked Truncated. 1 KiB .. event.MaxEventBytes
	// (1 MiB); default 64 KiB.
	MaxPayloadBytes int
	// MaxStoredBytes caps the payload bytes of all rejections kept;
	// at least MaxPayloadBytes. Default 256 MiB.
	MaxStoredBytes int64
	// MaxStored caps how many rejections are kept. Default 100,000.
	MaxStored int
}

func (l *Limits) setDefaults() {
	if l.MaxPayloadBytes == 0 {
		l.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if l.MaxStoredBytes == 0 {
		l.MaxStoredBytes = DefaultMaxStoredBytes
	}
	if l.MaxStored == 0 {
		l.MaxStored = DefaultMaxStored
	}
}

// Validate reports every field out of range, with defaults set.
func (l Limits) Validate() error {
	l.setDefaults()
	var errs []error
	if l.MaxPayloadBytes < 1<<10 || l.MaxPayloadBytes > event.MaxEventBytes {
		errs = append(errs, fmt.Errorf("rejected: max_payload_bytes must be %d..%d (0 = default %d), got %d", 1<<10, event.MaxEventBytes, DefaultMaxPayloadBytes, l.MaxPayloadBytes))
	}
	if l.MaxStoredBytes < int64(l.MaxPayloadBytes) {
		errs = append(errs, fmt.Errorf("rejected: max_stored_bytes must be at least max_payload_bytes (%d) (0 = default %d), got %d", l.MaxPayloadBytes, DefaultMaxStoredBytes, l.MaxStoredBytes))
	}
	if l.MaxStored < 1 {
		errs = append(errs, fmt.Errorf("rejected: max_stored must be at least 1 (0 = default %d), got %d", DefaultMaxStored, l.MaxStored))
	}
	return errors.Join(errs...)
}

// Metrics count what the store did not keep.
type Metrics struct {
	dropped   *prometheus.CounterVec
	truncated prometheus.Counter
}

// NewMetrics returns the store's metrics, registered on reg (nil: not
// registered): custody_rejected_dropped_total{reason} (max_stored,
// max_stored_bytes) and custody_rejected_truncated_total.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custody_rejected_dropped_total",
			Help: "Rejected events not kept for inspection and replay, by the cap that was reached.",
		}, []string{"reason"}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custody_rejected_truncated_total",
			Help: "Rejected events kept only in part (rejected.max_payload_bytes).",
		}),
	}
	for _, r := range []string{DropMaxStored, DropMaxStoredBytes} {
		m.dropped.WithLabelValues(r) // present at 0
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.dropped, m.truncated} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register rejected-store metrics: %w", err)
			}
		}
	}
	return m, nil
}

// totals is the store's count of what is stored, shared by its Puts.
type totals struct {
	mu     sync.Mutex
	rows   int64
	bytes  int64
	readAt time.Time // zero: never read
	// fullSince is when Put first dropped a rejection since the store was
	// last found with room; the drop is logged then, not at every Put.
	fullSince time.Time
}

// admit decides which of rows fit under the caps, in order, and counts them
// as stored. It reads the stored totals when they are older than
// totalsMaxAge. A row that does not fit is dropped, and so is every row
// after it, so that what is kept of a batch is a prefix.
func (s *Store) admit(ctx context.Context, rows []row) (kept int, reason string, err error) {
	t := s.totals
	t.mu.Lock()
	defer t.mu.Unlock()
	now := s.now()
	if t.readAt.IsZero() || now.Sub(t.readAt) >= totalsMaxAge {
		var got []struct {
			Rows  uint64 `ch:"rows"`
			Bytes uint64 `ch:"bytes"`
		}
		if err := s.conn.Select(ctx, &got, s.totalsSQL, nil); err != nil {
			return 0, "", fmt.Errorf("count rejected events: %w", err)
		}
		t.rows, t.bytes, t.readAt = 0, 0, now
		if len(got) == 1 {
			t.rows, t.bytes = int64(got[0].Rows), int64(got[0].Bytes)
		}
	}
	for _, r := range rows {
		switch {
		case t.rows+1 > int64(s.limits.MaxStored):
			reason = DropMaxStored
		case t.bytes+int64(r.KeptBytes) > s.limits.MaxStoredBytes:
			reason = DropMaxStoredBytes
		}
		if reason != "" {
			break
		}
		t.rows++
		t.bytes += int64(r.KeptBytes)
		kept++
	}
	if reason == "" {
		t.fullSince = time.Time{}
		return kept, "", nil
	}
	s.metrics.dropped.WithLabelValues(reason).Add(float64(len(rows) - kept))
	if t.fullSince.IsZero() {
		t.fullSince = now
		s.log.WarnContext(ctx, "rejected-event store is full: rejected events are answered but no longer kept for inspection and replay, until old ones expire or are removed",
			"reason", reason, "dropped", len(rows)-kept, "stored", t.rows, "stored_bytes", t.bytes,
			"max_stored", s.limits.MaxStored, "max_stored_bytes", s.limits.MaxStoredBytes, "retention", Retention.String())
	}
	return kept, reason, nil
}

// truncate cuts r's payload to at most n bytes (not inside a UTF-8
// sequence, when it is text), recording the size as received; it reports
// whether it cut.
func truncate(r *Rejection, n int) bool {
	if r.Size == 0 {
		r.Size = len(r.Payload)
	}
	if len(r.Payload) <= n {
		return false
	}
	cut := n
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(r.Payload[cut]); i++ {
		cut--
	}
	if !utf8.RuneStart(r.Payload[cut]) { // not text: cut anywhere
		cut = n
	}
	r.Payload = r.Payload[:cut:cut]
	r.Truncated = true
	return true
}

// discardLog is the logger of a store configured without one.
var discardLog = slog.New(slog.DiscardHandler)
