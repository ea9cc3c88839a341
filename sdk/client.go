package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
)

// maxKeptFailures bounds the delivery failures kept for Flush and Close;
// beyond it they are only passed to OnError (and counted).
const maxKeptFailures = 64

// Client emits events to Custody. It validates each event when it is
// emitted, buffers it, and delivers batches from one background goroutine
// with retries. It is safe for concurrent use. Close it to deliver what is
// pending and stop the goroutine.
type Client struct {
	cfg       Config
	opts      event.Options
	transport Transport

	ctx   context.Context // cancelled when Close gives up: aborts sends and backoff
	abort context.CancelFunc
	wake  chan struct{} // nudges the sender; capacity 1
	// stopped is closed when the sender has exited.
	stopped chan struct{}

	mu       sync.Mutex
	queue    []item // emitted, not yet taken by the sender; seq ascending
	pending  int    // emitted and not yet delivered or failed (queue and in flight)
	emitted  int64  // seq of the last emitted event
	done     int64  // every event up to this seq is delivered or failed
	flushTo  int64  // send everything up to this seq without waiting
	closed   bool
	progress chan struct{} // closed and replaced whenever done advances
	failures []failure     // kept for Flush and Close
	dropped  int           // failures not kept (over maxKeptFailures)
}

type item struct {
	ev   *event.Event
	size int // encoded bytes
	seq  int64
	at   time.Time // when emitted
}

type failure struct {
	first int64 // seq of the batch's first event
	err   error
}

// New validates cfg and starts a client that delivers through transport.
func New(cfg Config, transport Transport) (*Client, error) {
	opts, err := cfg.build()
	if transport == nil {
		err = errors.Join(err, errors.New("sdk: a Transport is required (HTTPTransport or BrokerTransport)"))
	} else if v, ok := transport.(validator); ok {
		err = errors.Join(err, v.Validate())
	}
	if err != nil {
		return nil, err
	}
	ctx, abort := context.WithCancel(context.Background())
	c := &Client{
		cfg:       cfg.withDefaults(),
		opts:      opts,
		transport: transport,
		ctx:       ctx,
		abort:     abort,
		wake:      make(chan struct{}, 1),
		stopped:   make(chan struct{}),
		progress:  make(chan struct{}),
	}
	go c.run()
	return c, nil
}

// Emit validates events and enqueues them for delivery. It never waits for
// the network or for buffer space; ctx is only checked on entry.
//
// Every event is checked as Custody will check it — structure, identifiers,
// and taxonomy terms against the built-in taxonomy (see
// Config.SkipTaxonomy) — and given the client's Source and Tenant when it
// names none, a UUIDv7 id when it has none and the current time when its
// time is zero. If any event is invalid, Emit returns a *ValidationError
// with every problem of every event, and enqueues none of them. If the
// buffer cannot take them all it returns ErrBufferFull at once, again
// enqueuing none. After Close it returns ErrClosed.
//
// Emit keeps a validated copy: the events passed in are not changed and may
// be reused. A nil error means the events will be delivered, or else
// reported to Config.OnError and by the next Flush or Close; they are never
// silently dropped.
func (c *Client) Emit(ctx context.Context, events ...*Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	items, err := c.prepare(events)
	if err != nil {
		return err
	}

	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.pending+len(items) > c.cfg.BufferSize:
		pending := c.pending
		c.mu.Unlock()
		return fmt.Errorf("%w: %d events are waiting for delivery and %d more would exceed BufferSize %d; Custody may be unreachable: retry later or shed load",
			ErrBufferFull, pending, len(items), c.cfg.BufferSize)
	}
	now := time.Now()
	for i := range items {
		c.emitted++
		items[i].seq, items[i].at = c.emitted, now
	}
	wasEmpty := len(c.queue) == 0
	c.queue = append(c.queue, items...)
	c.pending += len(items)
	nudge := wasEmpty || len(c.queue) >= c.cfg.BatchSize
	c.mu.Unlock()
	if nudge {
		c.nudge()
	}
	return nil
}

// prepare validates events and returns their checked copies.
func (c *Client) prepare(events []*Event) ([]item, error) {
	items := make([]item, 0, len(events))
	var bad []Rejection
	for i, e := range events {
		it, rej := c.check(e)
		if rej != nil {
			rej.Index = i
			bad = append(bad, *rej)
			continue
		}
		items = append(items, it)
	}
	if len(bad) > 0 {
		return nil, &ValidationError{Events: bad, Total: len(events)}
	}
	return items, nil
}

// check fills an event's defaults, encodes it and decodes it back as the
// server would: the decoded event is the copy that is delivered.
func (c *Client) check(e *Event) (item, *Rejection) {
	if e == nil {
		return item{}, &Rejection{Errors: []FieldError{{Reason: "event is nil"}}}
	}
	ev := *e
	if ev.ID == uuid.Nil {
		ev.ID = newID()
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.Tenant == "" {
		ev.Tenant = c.cfg.Tenant
	}
	if ev.Source == "" {
		ev.Source = c.cfg.Source
	}
	ev.RecordedAt = time.Time{}
	rej := &Rejection{ID: ev.ID.String()}
	if rej.Errors = badValues(ev.Data); len(rej.Errors) > 0 {
		return item{}, rej
	}
	b, err := json.Marshal(&ev)
	if err != nil {
		rej.Errors = []FieldError{{Reason: "cannot be encoded as JSON: " + err.Error()}}
		return item{}, rej
	}
	checked, errs := event.Decode(b, c.opts)
	if len(errs) > 0 {
		rej.Errors = errs
		return item{}, rej
	}
	return item{ev: checked, size: len(b) + 1}, nil
}

// badValues reports element values that are not JSON (see ElemValue).
func badValues(d event.Data) []FieldError {
	if d == nil {
		return nil
	}
	if v := reflect.ValueOf(d); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil // Decode reports the missing data
	}
	list := "data.elements"
	if _, ok := d.(*event.Processed); ok {
		list = "data.outputs"
	}
	var errs []FieldError
	for i, el := range d.ValueSlots() {
		if len(el.Value) == 0 || json.Valid(el.Value) {
			continue
		}
		reason := "is not valid JSON"
		if el.Value[0] == badValue {
			reason = "cannot be encoded as JSON: " + string(el.Value[1:])
		}
		errs = append(errs, FieldError{Path: list + "[" + strconv.Itoa(i) + "].value", Reason: reason})
	}
	return errs
}

// Flush sends everything emitted before it without waiting for batches to
// fill, and waits until all of it is delivered or has failed, or until ctx
// is done. It returns the delivery failures of those events that no earlier
// Flush or Close returned (each was also passed to OnError), or ctx's error.
func (c *Client) Flush(ctx context.Context) error {
	c.mu.Lock()
	target := c.emitted
	c.flushTo = max(c.flushTo, target)
	c.mu.Unlock()
	c.nudge()
	return c.await(ctx, target, "flush")
}

// Close stops accepting events, delivers everything pending and stops the
// background goroutine, waiting at most until ctx is done. It returns the
// delivery failures no Flush returned. If ctx ends first, Close returns its
// error and gives up: in-flight sends and backoff are cancelled and the
// events not delivered are reported to OnError as they fail. Close does not
// close the transport's resources (HTTP client, watermill publisher).
// Calling Close again waits for the goroutine to stop.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	c.flushTo = c.emitted
	c.mu.Unlock()
	c.nudge()
	select {
	case <-c.stopped:
	case <-ctx.Done():
		c.abort()
		c.mu.Lock()
		pending := c.pending
		c.mu.Unlock()
		return fmt.Errorf("sdk: close: gave up with %d events not delivered; they are reported to OnError as they fail: %w", pending, ctx.Err())
	}
	c.abort()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeFailures(c.emitted)
}

// await waits until every event up to target is delivered or failed.
func (c *Client) await(ctx context.Context, target int64, op string) error {
	for {
		c.mu.Lock()
		if c.done >= target {
			err := c.takeFailures(target)
			c.mu.Unlock()
			return err
		}
		ch, waiting := c.progress, target-c.done
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("sdk: %s: %d events still waiting for delivery: %w", op, waiting, ctx.Err())
		}
	}
}

// takeFailures removes and returns the kept failures of batches that began
// at or before seq upto. c.mu is held.
func (c *Client) takeFailures(upto int64) error {
	var errs []error
	kept := c.failures[:0]
	for _, f := range c.failures {
		if f.first <= upto {
			errs = append(errs, f.err)
		} else {
			kept = append(kept, f)
		}
	}
	clear(c.failures[len(kept):])
	c.failures = kept
	if c.dropped > 0 {
		errs = append(errs, fmt.Errorf("sdk: %d more delivery failures were reported to OnError only", c.dropped))
		c.dropped = 0
	}
	return errors.Join(errs...)
}

func (c *Client) nudge() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run is the sender: it takes batches off the queue and delivers them, one
// at a time, in order.
func (c *Client) run() {
	defer close(c.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch, wait, exit := c.next()
		switch {
		case exit:
			return
		case batch != nil:
			c.deliver(batch)
			continue
		}
		var due <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			due = timer.C
		}
		select {
		case <-c.wake:
		case <-due:
		}
		timer.Stop()
	}
}

// next returns the batch to send now, or how long to wait for one (0: until
// nudged), or exit when the client is closed and nothing is left.
func (c *Client) next() (batch []item, wait time.Duration, exit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.queue)
	if n == 0 {
		return nil, 0, c.closed
	}
	age := time.Since(c.queue[0].at)
	if n < c.cfg.BatchSize && c.flushTo < c.queue[0].seq && !c.closed && age < c.cfg.FlushInterval {
		return nil, c.cfg.FlushInterval - age, false
	}
	take, bytes := 0, 0
	for take < min(n, c.cfg.BatchSize) {
		if take > 0 && bytes+c.queue[take].size > c.cfg.MaxBatchBytes {
			break
		}
		bytes += c.queue[take].size
		take++
	}
	batch = slices.Clone(c.queue[:take])
	clear(c.queue[:take])
	c.queue = c.queue[take:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return batch, 0, false
}

// deliver sends one batch, retrying as its errors allow, and records the
// outcome.
func (c *Client) deliver(batch []item) {
	events := make([]*Event, len(batch))
	for i, it := range batch {
		events[i] = it.ev
	}
	var (
		res      Result
		err      error
		attempts int
	)
	for {
		if cerr := c.ctx.Err(); cerr != nil {
			err = errors.Join(fmt.Errorf("client closed before delivery: %w", cerr), err)
			break
		}
		actx, cancel := context.WithTimeout(c.ctx, c.cfg.SendTimeout)
		res, err = c.transport.Send(actx, events)
		cancel()
		attempts++
		if err == nil {
			break
		}
		retry, after := classify(err)
		if !retry || attempts > c.cfg.MaxRetries {
			break
		}
		if c.cfg.sleep(c.ctx, c.cfg.backoff(attempts-1, after)) != nil {
			continue // the loop reports the cancellation
		}
	}

	var fail *DeliveryError
	switch {
	case err != nil:
		fail = &DeliveryError{IDs: make([]uuid.UUID, len(events)), Batch: len(events), Attempts: attempts, Err: err}
		for i, e := range events {
			fail.IDs[i] = e.ID
		}
	case len(res.Rejected) > 0:
		fail = &DeliveryError{Batch: len(events), Attempts: attempts, Rejected: res.Rejected}
		for _, r := range res.Rejected {
			if id, perr := uuid.Parse(r.ID); perr == nil {
				fail.IDs = append(fail.IDs, id)
			}
		}
	}
	if fail != nil {
		c.report(fail)
	}

	c.mu.Lock()
	if fail != nil {
		if len(c.failures) < maxKeptFailures {
			c.failures = append(c.failures, failure{first: batch[0].seq, err: fail})
		} else {
			c.dropped++
		}
	}
	c.done = batch[len(batch)-1].seq
	c.pending -= len(batch)
	close(c.progress)
	c.progress = make(chan struct{})
	c.mu.Unlock()
}

func (c *Client) report(err *DeliveryError) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
		return
	}
	slog.Default().Error("custody sdk: events not delivered", "err", err.Error(), "events", len(err.IDs))
}
