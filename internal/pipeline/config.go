package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/event"
)

// Config configures a Pipeline. Zero values mean the defaults.
type Config struct {
	// Topic the batches arrive on (required; the broker's subject).
	Topic string
	// PoisonTopic receives the batches that cannot be stored (default
	// Topic+".poison"; the broker's poison subject).
	PoisonTopic string
	// Retry is how a batch whose append failed is tried again before it is
	// moved to the poison topic.
	Retry Retry
	// HandlerTimeout bounds one append attempt (default 60 s).
	HandlerTimeout time.Duration
	// CloseTimeout bounds how long Run waits, once its context ends, for
	// the batches in flight (default HandlerTimeout + 5 s).
	CloseTimeout time.Duration
	// Coalesce is how batches delivered at the same time share one append
	// (used when the Appender is an EntryAppender).
	Coalesce Coalesce

	// Signer verifies that a batch was published by Custody's HTTP ingest,
	// which validated its events and signed it (broker.Sink). Only a
	// signed batch is trusted as it is. Anything else on the topic is
	// untrusted input, whatever its headers claim: a batch of events in
	// the JSON format (batchmsg.FormatV1, which the SDK's broker transport
	// publishes) is validated event by event as HTTP ingest validates, and
	// a batch in the internal split form without a valid signature is
	// poisoned. nil trusts nothing.
	Signer *batchmsg.Signer
	// Validation validates the events of untrusted batches (required: its
	// Vocabulary is the taxonomy). Internal event types are never allowed.
	Validation event.Options
	// Rejected keeps the events of untrusted batches that fail validation
	// (required).
	Rejected Rejections
	// MaxDeliveries is how many deliveries of one batch may fail before it
	// is moved to the poison topic with the last error (default 20; -1:
	// never), counted by the broker (batchmsg.MetaDeliveries; the NATS
	// subscriber sets it). It is not applied while the log cannot be
	// written at all (StorageWritable): an outage poisons nothing, a batch
	// that fails while others are stored is poisoned, not retried forever.
	// Keep MaxDeliveries × the broker's NakDelay (20 × 5 s) well above
	// UnwritableAfter, so that no batch can reach it early in an outage.
	// A batch that failed in a shared append is tried alone before it is
	// given up.
	MaxDeliveries int
	// UnwritableAfter is how long every append must have failed before
	// StorageWritable reports the log unwritable (default 10 s): one
	// failed append is retried, a storage outage is not.
	UnwritableAfter time.Duration
}

// Coalesce lets the batches the broker has delivered and not yet seen
// acknowledged (up to its MaxAckPending) go into the log in one append: a
// message is still acked only after the append holding it succeeded, and
// all of them are retried if it failed. While one append runs, the next
// gathers whatever arrives, so the busier the pipeline the larger its
// appends, and an event that arrives alone at an idle pipeline waits for
// no one. Measured: five 10,000-event appends 0.97 s, one 50,000-event
// append 0.66 s; 50 clients sending two events per request, appended one
// message at a time, were stored at 116 events/s.
type Coalesce struct {
	// MaxEvents is the most events one append takes (default 50,000; -1:
	// every batch is appended on its own). A batch is never split: one
	// larger than MaxEvents is appended alone.
	MaxEvents int
	// Linger is the longest an append waits for batches still being
	// decoded once the log is free (default 10 ms; -1: none). It never
	// waits when no batch is being decoded.
	Linger time.Duration
}

// Retry is exponential backoff with jitter.
type Retry struct {
	// MaxRetries after the first attempt (default 5; -1: no retries).
	MaxRetries int
	// InitialInterval before the first retry (default 200 ms), growing by
	// Multiplier (default 2) up to MaxInterval (default 10 s).
	InitialInterval time.Duration
	MaxInterval     time.Duration
	Multiplier      float64
	// Jitter spreads each interval by ±Jitter of itself (default 0.2; -1:
	// none), so replicas retrying after one outage do not do it in step.
	Jitter float64
}

func (c *Config) setDefaults() {
	if c.PoisonTopic == "" && c.Topic != "" {
		c.PoisonTopic = c.Topic + ".poison"
	}
	r := &c.Retry
	if r.MaxRetries == 0 {
		r.MaxRetries = 5
	} else if r.MaxRetries == -1 {
		r.MaxRetries = 0
	}
	if r.InitialInterval == 0 {
		r.InitialInterval = 200 * time.Millisecond
	}
	if r.MaxInterval == 0 {
		r.MaxInterval = 10 * time.Second
	}
	if r.Multiplier == 0 {
		r.Multiplier = 2
	}
	if r.Jitter == 0 {
		r.Jitter = 0.2
	} else if r.Jitter == -1 {
		r.Jitter = 0
	}
	if c.HandlerTimeout == 0 {
		c.HandlerTimeout = 60 * time.Second
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = c.HandlerTimeout + 5*time.Second
	}
	if c.Coalesce.MaxEvents == 0 {
		c.Coalesce.MaxEvents = 50_000
	}
	if c.UnwritableAfter == 0 {
		c.UnwritableAfter = 10 * time.Second
	}
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = 20
	}
	if c.Coalesce.Linger == 0 {
		c.Coalesce.Linger = 10 * time.Millisecond
	} else if c.Coalesce.Linger == -1 {
		c.Coalesce.Linger = 0
	}
}

// Validate reports every invalid field of c with its defaults applied.
func (c Config) Validate() error {
	c.setDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("pipeline.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Topic == "" {
		bad("topic", "is required (the broker subject the batches arrive on)")
	}
	if c.PoisonTopic == c.Topic {
		bad("poison_topic", "must differ from topic %q", c.Topic)
	}
	r := c.Retry
	if r.MaxRetries < 0 {
		bad("retry.max_retries", "must be -1 (none) or positive, got %d", r.MaxRetries)
	}
	if r.InitialInterval < 0 {
		bad("retry.initial_interval", "must not be negative, got %s", r.InitialInterval)
	}
	if r.MaxInterval < r.InitialInterval {
		bad("retry.max_interval", "must be at least initial_interval (%s), got %s", r.InitialInterval, r.MaxInterval)
	}
	if r.Multiplier < 1 {
		bad("retry.multiplier", "must be at least 1, got %g", r.Multiplier)
	}
	if r.Jitter < 0 || r.Jitter >= 1 {
		bad("retry.jitter", "must be -1 (none) or in (0, 1), got %g", r.Jitter)
	}
	if c.Validation.Vocabulary == nil {
		bad("validation", "a vocabulary (the taxonomy) is required: batches that Custody's ingest did not sign are validated before they are stored")
	}
	if c.Rejected == nil {
		bad("rejected", "a store for the events of untrusted batches that fail validation is required")
	}
	if c.MaxDeliveries < -1 {
		bad("max_deliveries", "must be -1 (never poison) or positive, got %d", c.MaxDeliveries)
	}
	if c.UnwritableAfter < 0 {
		bad("unwritable_after", "must not be negative, got %s", c.UnwritableAfter)
	}
	if c.HandlerTimeout < 100*time.Millisecond {
		bad("handler_timeout", "must be at least 100ms, got %s", c.HandlerTimeout)
	}
	if c.CloseTimeout < c.HandlerTimeout {
		bad("close_timeout", "must be at least handler_timeout (%s), got %s", c.HandlerTimeout, c.CloseTimeout)
	}
	if c.Coalesce.MaxEvents < 1 && c.Coalesce.MaxEvents != -1 {
		bad("coalesce.max_events", "must be -1 (off) or positive, got %d", c.Coalesce.MaxEvents)
	}
	if c.Coalesce.Linger < 0 || c.Coalesce.Linger >= c.HandlerTimeout {
		bad("coalesce.linger", "must be -1 (none) or below handler_timeout (%s), got %s", c.HandlerTimeout, c.Coalesce.Linger)
	}
	return errors.Join(errs...)
}

// MaxHandlingTime is the longest one delivery of a batch can keep the
// pipeline busy: every attempt timing out, with the longest backoffs in
// between. The broker's AckWait should exceed it, or a batch still being
// retried is delivered a second time (harmless, since appends are
// idempotent, but wasted work).
func (c Config) MaxHandlingTime() time.Duration {
	c.setDefaults()
	r := c.Retry
	total := time.Duration(r.MaxRetries+1) * c.HandlerTimeout
	interval := float64(r.InitialInterval)
	for range r.MaxRetries {
		total += time.Duration(min(interval, float64(r.MaxInterval)) * (1 + r.Jitter))
		interval *= r.Multiplier
	}
	return total
}
