package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotWritable: the broker cannot take messages now (JetStream off after
// a storage fault, the stream gone, the server unreachable).
var ErrNotWritable = errors.New("broker: cannot accept messages")

// ErrLagging: the pipeline's oldest message not yet stored is older than
// the bound the caller gave.
var ErrLagging = errors.New("broker: the pipeline is behind")

// Monitor answers how the broker and the pipeline's consumer are doing,
// for readiness and metrics, over a connection of its own.
type Monitor struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
}

// Backlog is the pipeline's unstored work: messages not yet delivered or
// delivered and not yet acknowledged, and the age of the oldest of them
// (0 when there are none).
type Backlog struct {
	Messages uint64
	Oldest   time.Duration
}

// NewMonitor connects a Monitor to the broker of cfg.
func NewMonitor(cfg Config, log *slog.Logger) (*Monitor, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nc, js, err := cfg.jetStream("monitor", log)
	if err != nil {
		return nil, err
	}
	return &Monitor{cfg: cfg, nc: nc, js: js}, nil
}

// Writable reports nil when the stream can take messages: the server
// answers, JetStream is on and the stream exists with room for more. It
// recovers by itself when the fault clears (it asks the server each time).
func (m *Monitor) Writable(ctx context.Context) error {
	s, err := m.js.Stream(ctx, m.cfg.Stream)
	if err != nil {
		return fmt.Errorf("%w: stream %s: %w", ErrNotWritable, m.cfg.Stream, err)
	}
	if s.CachedInfo().Config.Sealed {
		return fmt.Errorf("%w: stream %s is sealed", ErrNotWritable, m.cfg.Stream)
	}
	if _, err := m.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrNotWritable, err)
	}
	return nil
}

// Backlog reads the consumer's unstored work: one request for the
// consumer's state and, when work waits, one for the oldest message's time.
func (m *Monitor) Backlog(ctx context.Context) (Backlog, error) {
	c, err := m.js.Consumer(ctx, m.cfg.Stream, m.cfg.Durable)
	if err != nil {
		return Backlog{}, fmt.Errorf("broker: consumer %s: %w", m.cfg.Durable, err)
	}
	info := c.CachedInfo()
	b := Backlog{Messages: info.NumPending + uint64(info.NumAckPending)}
	if b.Messages == 0 {
		return b, nil
	}
	s, err := m.js.Stream(ctx, m.cfg.Stream)
	if err != nil {
		return Backlog{}, fmt.Errorf("broker: stream %s: %w", m.cfg.Stream, err)
	}
	// The oldest unstored message is the first on the consumer's subject
	// above its acknowledgement floor (the poison subject shares the
	// stream).
	msg, err := s.GetMsg(ctx, info.AckFloor.Stream+1, jetstream.WithGetMsgSubject(m.cfg.Subject))
	if err != nil {
		return Backlog{}, fmt.Errorf("broker: the oldest unstored message: %w", err)
	}
	oldest := msg.Time
	b.Oldest = max(time.Since(oldest), 0)
	return b, nil
}

// NotLagging reports ErrLagging when the oldest unstored message is older
// than bound.
func (m *Monitor) NotLagging(ctx context.Context, bound time.Duration) error {
	b, err := m.Backlog(ctx)
	if err != nil {
		return err
	}
	if b.Oldest > bound {
		return fmt.Errorf("%w: %d messages wait, the oldest for %s (bound %s)", ErrLagging, b.Messages, b.Oldest.Round(time.Second), bound)
	}
	return nil
}

// Close closes the Monitor's connection.
func (m *Monitor) Close() { m.nc.Close() }
