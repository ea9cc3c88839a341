package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
)

// Appender stores events idempotently by id (eventlog.Log satisfies it).
// When Append returns nil, every event is durable in the log.
type Appender interface {
	Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error)
}

// EntryAppender is an Appender that also stores events in the split form
// broker batches carry (eventlog.Log satisfies it). The pipeline prefers
// it: a batch is then appended without decoding each event's data (an
// HTTP batch of 10,000 events: 100 ms of JSON decoding saved, measured).
type EntryAppender interface {
	Appender
	AppendEntries(ctx context.Context, entries []event.Entry) ([]eventlog.Outcome, error)
}

// Rejections keeps the events of untrusted batches that fail validation
// (the rejected-event store, as HTTP ingest keeps its rejections).
//
// Contract: Keep stores every result it is given or returns an error; the
// batch is then retried, so a result may be kept more than once.
type Rejections interface {
	Keep(ctx context.Context, rejected []event.Result) error
}

// Metadata a poisoned message carries besides the original's and
// Watermill's (middleware.ReasonForPoisonedKey holds the error).
const (
	// MetaOriginalUUID is the UUID of the message as it was published.
	MetaOriginalUUID = "custody-original-uuid"
	// MetaPoisonedAt is when it was poisoned (RFC 3339, UTC).
	MetaPoisonedAt = "custody-poisoned-at"
)

const handlerName = "custody-events-to-log"

// Pipeline moves event batches from the broker into the event log.
type Pipeline struct {
	cfg     Config
	router  *message.Router
	sub     message.Subscriber
	app     Appender
	log     *slog.Logger
	metrics *metrics
	// coalescer shares appends between batches handled at the same time;
	// nil when app is not an EntryAppender or Coalesce.MaxEvents is -1.
	coalescer *coalescer
	// health is what the appends found of the log's storage.
	health storageHealth
}

// New builds a pipeline reading cfg.Topic from sub, appending to app, and
// moving batches it cannot store to cfg.PoisonTopic through pub. Run closes
// sub; pub stays the caller's to close (after Run returns). A Pipeline runs
// once.
func New(cfg Config, sub message.Subscriber, pub message.Publisher, app Appender, log *slog.Logger, registry prometheus.Registerer) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	cfg.Validation.AllowInternalTypes = false // request.* events are Custody's own
	if sub == nil || pub == nil || app == nil || log == nil {
		return nil, errors.New("pipeline: subscriber, publisher, appender and logger are required")
	}
	m, err := newMetrics(registry)
	if err != nil {
		return nil, fmt.Errorf("pipeline: metrics: %w", err)
	}
	log = log.With("component", "pipeline")
	wlog := watermill.NewSlogLogger(log)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, fmt.Errorf("pipeline: router: %w", err)
	}
	sub = newHandoff(sub, cfg.CloseTimeout)
	p := &Pipeline{cfg: cfg, router: router, sub: sub, app: app, log: log, metrics: m}
	if ea, ok := app.(EntryAppender); ok && cfg.Coalesce.MaxEvents > 0 {
		p.coalescer = newCoalescer(ea, cfg.Coalesce.MaxEvents, cfg.Coalesce.Linger)
		p.coalescer.observe = func(events, messages int) {
			m.appendEvents.Observe(float64(events))
			m.appendMessages.Observe(float64(messages))
		}
	}

	// Outermost first: poison queue, retry, recoverer, correlation id.
	poison, err := middleware.PoisonQueueWithFilter(&poisonPublisher{pub: pub, p: p}, cfg.PoisonTopic, shouldPoison)
	if err != nil {
		return nil, fmt.Errorf("pipeline: poison queue: %w", err)
	}
	router.AddMiddleware(
		poison,
		middleware.Retry{
			MaxRetries:          cfg.Retry.MaxRetries,
			InitialInterval:     cfg.Retry.InitialInterval,
			MaxInterval:         cfg.Retry.MaxInterval,
			Multiplier:          cfg.Retry.Multiplier,
			RandomizationFactor: cfg.Retry.Jitter,
			Logger:              wlog,
		}.Middleware,
		middleware.Recoverer,
		middleware.CorrelationID,
	)
	router.AddNoPublisherHandler(handlerName, cfg.Topic, sub, p.handle)
	return p, nil
}

// shouldPoison says which final errors move a batch to the poison topic:
// those that no retry can cure — a message not in the Custody format, rows
// the storage cannot map — and a batch that failed Config.MaxDeliveries
// deliveries while the log took others. Every other failure (ClickHouse
// down, timeouts, a shutdown) gives the batch back to the broker, which
// delivers it again after NakDelay, for as long as it takes: nothing
// accepted is dropped into the poison queue by an outage.
func shouldPoison(err error) bool {
	return errors.Is(err, batchmsg.ErrFormat) || errors.Is(err, clickhouse.ErrBadRows) || errors.Is(err, errGaveUp)
}

// errGaveUp: a batch failed MaxDeliveries deliveries while the log took
// other batches.
var errGaveUp = errors.New("pipeline: gave up on the batch")

// deliveries is how many times the broker has delivered msg (0: unknown).
func deliveries(msg *message.Message) int {
	n, err := strconv.Atoi(msg.Metadata.Get(batchmsg.MetaDeliveries))
	if err != nil {
		return 0
	}
	return n
}

// handle decodes one batch and appends it, with the batches other
// handlers hold at the same time when coalescing. A batch that is not in
// the Custody format fails permanently (no retries: straight to poison)
// and on its own; an append error is retried. The append runs to
// completion (or HandlerTimeout) even when Run's context ends meanwhile,
// so a shutdown does not abandon a batch half-way.
func (p *Pipeline) handle(msg *message.Message) error {
	start := time.Now()
	var (
		outcomes []eventlog.Outcome
		n        int
		err      error
	)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(msg.Context()), p.cfg.HandlerTimeout)
	defer cancel()
	entries, decodeErr := p.decodeEntries(ctx, msg)
	if decodeErr != nil {
		if errors.Is(decodeErr, batchmsg.ErrFormat) {
			return backoff.Permanent(decodeErr)
		}
		p.metrics.batches.WithLabelValues(resultFailed).Inc()
		return decodeErr
	}
	n = len(entries)
	if ea, ok := p.app.(EntryAppender); ok {
		outcomes, err = p.appendEntries(ctx, ea, entries)
	} else {
		events := make([]*event.Event, len(entries))
		for i := range entries {
			if events[i], err = entries[i].Event(); err != nil {
				return backoff.Permanent(fmt.Errorf("%w: %w", batchmsg.ErrFormat, err))
			}
		}
		outcomes, err = p.app.Append(ctx, events)
	}
	if err != nil {
		p.metrics.batches.WithLabelValues(resultFailed).Inc()
		if shouldPoison(err) {
			return fmt.Errorf("append %d events: %w", n, err)
		}
		p.health.failed(err)
		if d := deliveries(msg); p.cfg.MaxDeliveries > 0 && d >= p.cfg.MaxDeliveries && p.health.check(p.cfg.UnwritableAfter) == nil {
			// The failure may have been another batch's in a shared
			// append: the batch is given up only if it fails alone too.
			if ea, ok := p.app.(EntryAppender); ok && p.coalescer != nil {
				outcomes, err = ea.AppendEntries(ctx, entries)
			}
			if err != nil {
				return backoff.Permanent(fmt.Errorf("%w: delivered %d times (pipeline max_deliveries %d) while other batches were stored; last error: append %d events: %w",
					errGaveUp, d, p.cfg.MaxDeliveries, n, err))
			}
		} else {
			return fmt.Errorf("append %d events: %w", n, err)
		}
	}
	p.health.stored()
	var stored, dups int
	for _, o := range outcomes {
		if o == eventlog.Duplicate {
			dups++
		} else {
			stored++
		}
	}
	p.metrics.events.WithLabelValues("stored").Add(float64(stored))
	p.metrics.events.WithLabelValues("duplicate").Add(float64(dups))
	p.metrics.batches.WithLabelValues(resultStored).Inc()
	p.metrics.latency.Observe(time.Since(start).Seconds())
	p.log.Debug("batch appended", "message_uuid", msg.UUID, "correlation_id", middleware.MessageCorrelationID(msg),
		"stored", stored, "duplicate", dups, "took", time.Since(start))
	return nil
}

// decodeEntries decodes msg: as it is when Custody's ingest signed it,
// else as untrusted input (see Config.Signer), keeping the events that
// fail validation as rejected. An error wrapping batchmsg.ErrFormat is
// permanent. With a coalescer, the handler counts as decoding meanwhile (a
// batch about to be appended may wait for it) and, once this returns nil,
// must call appendEntries.
func (p *Pipeline) decodeEntries(ctx context.Context, msg *message.Message) ([]event.Entry, error) {
	if p.coalescer == nil {
		return p.decode(ctx, msg)
	}
	p.coalescer.begin()
	ok := false
	defer func() {
		if !ok { // the message cannot be decoded, or decoding panicked
			p.coalescer.leave()
		}
	}()
	entries, err := p.decode(ctx, msg)
	ok = err == nil
	return entries, err
}

func (p *Pipeline) decode(ctx context.Context, msg *message.Message) ([]event.Entry, error) {
	if p.cfg.Signer != nil && p.cfg.Signer.Verify(msg) {
		return batchmsg.DecodeEntries(msg)
	}
	p.metrics.untrusted.Inc()
	if f := msg.Metadata.Get(batchmsg.MetaFormat); f != batchmsg.FormatV1 {
		return nil, fmt.Errorf("%w: a batch in format %q without a valid %s: only Custody's HTTP ingest publishes that format, and it signs what it publishes",
			batchmsg.ErrFormat, f, batchmsg.MetaMAC)
	}
	results := event.DecodeBatch(msg.Payload, "application/x-ndjson", p.cfg.Validation)
	entries := make([]event.Entry, 0, len(results))
	var bad []event.Result
	for _, r := range results {
		if r.Event == nil {
			bad = append(bad, r)
			continue
		}
		e, err := event.Split(r.Event)
		if err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", batchmsg.ErrFormat, r.Index, err)
		}
		entries = append(entries, e)
	}
	if len(bad) > 0 {
		if err := p.cfg.Rejected.Keep(ctx, bad); err != nil {
			return nil, fmt.Errorf("keep %d rejected events of an unsigned batch: %w", len(bad), err)
		}
		p.metrics.events.WithLabelValues(outcomeRejected).Add(float64(len(bad)))
		p.log.Warn("unsigned batch: events that failed validation were kept as rejected, not stored",
			"message_uuid", msg.UUID, "source", msg.Metadata.Get(batchmsg.MetaSource), "rejected", len(bad), "valid", len(entries),
			"first_error", bad[0].Errors)
	}
	return entries, nil
}

// appendEntries appends entries, through the coalescer when there is one.
func (p *Pipeline) appendEntries(ctx context.Context, ea EntryAppender, entries []event.Entry) ([]eventlog.Outcome, error) {
	if p.coalescer == nil {
		return ea.AppendEntries(ctx, entries)
	}
	outcomes, shared, err := p.coalescer.append(ctx, entries)
	// An error no retry cures (rows the storage cannot map) may be another
	// batch's: find out alone, so that only the batch at fault is poisoned.
	if err != nil && shared > 1 && shouldPoison(err) {
		outcomes, err = ea.AppendEntries(ctx, entries)
	}
	return outcomes, err
}

// Run subscribes and handles batches until ctx ends, then closes the router
// gracefully: no new batch starts, appends in flight finish (within
// CloseTimeout) and are acked, batches waiting in retry backoff and
// messages buffered in the client are given back to the broker (nack), and
// the subscriber is closed (see handoff). Run returns an error if the
// router cannot start (e.g. the consumer is missing) or stops on its own
// before ctx ends.
func (p *Pipeline) Run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- p.router.Run(context.WithoutCancel(ctx)) }()
	// Closing a router that has not finished starting blocks until its
	// CloseTimeout, so wait for the start even if ctx has already ended.
	select {
	case err := <-done:
		_ = p.sub.Close()
		if err == nil {
			err = errors.New("router stopped before it ran")
		}
		return fmt.Errorf("pipeline: %w", err)
	case <-p.router.Running():
	}
	select {
	case err := <-done:
		if err == nil {
			err = errors.New("router stopped on its own")
		}
		return fmt.Errorf("pipeline: %w", err)
	case <-ctx.Done():
	}
	p.log.Info("pipeline stopping: finishing batches in flight")
	closeErr := p.router.Close()
	runErr := <-done
	if err := errors.Join(runErr, closeErr); err != nil {
		return fmt.Errorf("pipeline: close: %w", err)
	}
	p.log.Info("pipeline stopped")
	return nil
}

// Running is closed once the pipeline is subscribed and handling batches.
func (p *Pipeline) Running() <-chan struct{} { return p.router.Running() }

// poisonPublisher publishes a poisoned batch as a new message: the same
// payload and metadata plus MetaOriginalUUID and MetaPoisonedAt, under a
// UUID derived from the original's. The broker drops a message whose UUID
// it saw within its duplicate window, stream-wide, so re-publishing the
// original UUID would silently lose the batch; deriving it keeps a poison
// publish that is itself retried from being stored twice.
type poisonPublisher struct {
	pub message.Publisher
	p   *Pipeline
}

func (pp *poisonPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		id := watermill.NewUUID()
		if m.UUID != "" {
			id = m.UUID + ".poison"
		}
		c := message.NewMessage(id, m.Payload)
		c.SetContext(m.Context())
		for k, v := range m.Metadata {
			c.Metadata.Set(k, v)
		}
		c.Metadata.Set(MetaOriginalUUID, m.UUID)
		c.Metadata.Set(MetaPoisonedAt, time.Now().UTC().Format(time.RFC3339Nano))
		if err := pp.pub.Publish(topic, c); err != nil {
			return err
		}
		pp.p.metrics.batches.WithLabelValues(resultPoisoned).Inc()
		pp.p.log.Error("batch moved to the poison topic", "topic", topic, "message_uuid", m.UUID,
			"events", m.Metadata.Get(batchmsg.MetaCount), "source", m.Metadata.Get(batchmsg.MetaSource),
			"correlation_id", middleware.MessageCorrelationID(m), "reason", m.Metadata.Get(middleware.ReasonForPoisonedKey))
	}
	return nil
}

// Close does nothing: the publisher belongs to the caller.
func (pp *poisonPublisher) Close() error { return nil }

// ErrStorageUnwritable: the pipeline's appends have been failing (storage
// unreachable, full or read-only) for longer than Config.UnwritableAfter.
var ErrStorageUnwritable = errors.New("pipeline: the event log cannot be written")

// StorageWritable reports ErrStorageUnwritable, with the last append's
// error, while every append of the last UnwritableAfter failed; nil once
// one succeeds again (or none was tried). Readiness and HTTP ingest use
// it: events acknowledged while the log cannot take them would only pile
// up in the broker.
func (p *Pipeline) StorageWritable(context.Context) error {
	return p.health.check(p.cfg.UnwritableAfter)
}

// storageHealth remembers the appends' latest outcomes.
type storageHealth struct {
	mu          sync.Mutex
	failingFrom time.Time // first failure since the last success; zero: none
	lastErr     error
}

func (h *storageHealth) stored() {
	h.mu.Lock()
	h.failingFrom, h.lastErr = time.Time{}, nil
	h.mu.Unlock()
}

func (h *storageHealth) failed(err error) {
	h.mu.Lock()
	if h.failingFrom.IsZero() {
		h.failingFrom = time.Now()
	}
	h.lastErr = err
	h.mu.Unlock()
}

func (h *storageHealth) check(after time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingFrom.IsZero() || time.Since(h.failingFrom) < after {
		return nil
	}
	return fmt.Errorf("%w: appends have failed for %s: %w", ErrStorageUnwritable, time.Since(h.failingFrom).Round(time.Second), h.lastErr)
}
