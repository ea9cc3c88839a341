package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Shutdown hand-off timings.
const (
	// handoffQuiet is how long no message may arrive from the broker before
	// the subscriber is closed: time for the last acks to reach the broker
	// and for messages buffered in the client to be given back.
	handoffQuiet = 200 * time.Millisecond
	// handoffMaxDrain bounds giving back buffered messages (with a backlog
	// the broker keeps pushing); whatever is left waits out AckWait.
	handoffMaxDrain = 2 * time.Second
)

// handoff sits between the broker subscriber and the router so that a
// shutdown hands the work back cleanly instead of leaving it to the
// broker's AckWait. The router closes its subscriber as soon as it starts
// closing, and the Watermill NATS subscriber then drops the acks of batches
// still being appended and the messages buffered in the client; all of them
// would be delivered again only after AckWait, and the appended batches
// appended twice. Closing the handoff instead:
//
//  1. stops passing messages to the router and ends their contexts, so no
//     new batch starts and retries stop waiting (an append in progress
//     runs on; see Pipeline.handle);
//  2. waits until every batch passed on was acked or nacked;
//  3. nacks what the broker still delivers until it is quiet, so buffered
//     messages are redelivered after the subscriber's NakDelay;
//  4. closes the subscriber.
//
// It subscribes with a context that only Close ends, so the subscriber
// keeps serving acks until step 4; the router's own context for the
// subscription ending starts Close.
type handoff struct {
	inner      message.Subscriber
	timeout    time.Duration
	closing    chan struct{}
	stop       context.Context
	cancel     context.CancelFunc
	inflight   sync.WaitGroup
	forwarders sync.WaitGroup
	last       atomic.Int64 // when the last message arrived (Unix ns)
	once       sync.Once
	err        error
}

func newHandoff(inner message.Subscriber, timeout time.Duration) *handoff {
	stop, cancel := context.WithCancel(context.Background())
	return &handoff{inner: inner, timeout: timeout, closing: make(chan struct{}), stop: stop, cancel: cancel}
}

func (h *handoff) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	in, err := h.inner.Subscribe(context.WithoutCancel(ctx), topic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	h.forwarders.Add(1)
	go h.forward(in, out)
	// The router ends a subscription either by closing the subscriber or
	// by cancelling ctx (whichever its select picks); both mean Close.
	context.AfterFunc(ctx, func() { _ = h.Close() })
	return out, nil
}

// forward passes messages from in to out until Close starts, then nacks
// whatever else arrives until the subscriber closes in.
func (h *handoff) forward(in <-chan *message.Message, out chan<- *message.Message) {
	defer h.forwarders.Done()
	defer func() {
		for m := range in {
			h.last.Store(time.Now().UnixNano())
			m.Nack()
		}
	}()
	defer close(out)
	for {
		select {
		case <-h.closing:
			return
		case m, ok := <-in:
			if !ok {
				return
			}
			h.last.Store(time.Now().UnixNano())
			h.track(m)
			select {
			case out <- m:
			case <-h.closing:
				m.Nack()
				return
			}
		}
	}
}

// track counts m in flight until it is acked or nacked, and ends its
// context when Close starts.
func (h *handoff) track(m *message.Message) {
	h.inflight.Add(1)
	ctx, cancel := context.WithCancel(m.Context())
	unhook := context.AfterFunc(h.stop, cancel)
	m.SetContext(ctx)
	go func() {
		select {
		case <-m.Acked():
		case <-m.Nacked():
		}
		unhook()
		cancel()
		h.inflight.Done()
	}()
}

func (h *handoff) Close() error {
	h.once.Do(func() {
		close(h.closing)
		h.cancel()
		waitTimeout(&h.inflight, h.timeout)
		h.last.Store(time.Now().UnixNano())
		deadline := time.Now().Add(handoffMaxDrain)
		for time.Now().Before(deadline) && time.Since(time.Unix(0, h.last.Load())) < handoffQuiet {
			time.Sleep(10 * time.Millisecond)
		}
		h.err = h.inner.Close()
		waitTimeout(&h.forwarders, h.timeout)
	})
	return h.err
}

// waitTimeout waits for wg, at most d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
