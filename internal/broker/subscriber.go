package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/semaphore"
)

// subscriberCloseTimeout bounds how long Close waits for the handlers of
// delivered messages to ack or nack them; the rest are redelivered after
// AckWait.
const subscriberCloseTimeout = 30 * time.Second

// NewSubscriber returns a Watermill subscriber on the pipeline's durable
// pull consumer (made by EnsureStream). Subscribe(ctx, cfg.Subject) pulls
// from it continuously and hands each message on as soon as it arrives,
// without waiting for earlier ones to be acknowledged: the server's
// MaxAckPending bounds the messages in flight, and MaxInFlightBytes their
// payload. That is what lets the pipeline append hundreds
// of small messages together (with one subscription per message in
// flight, as watermill-nats's subscriber has, 50 clients sending one event
// per request were stored at 42 events/s).
//
// Acks are manual: a message is acknowledged (AckSync) only after the
// handler acked it; a nack asks for redelivery after NakDelay; no answer
// within AckWait means the server delivers it again. Every replica pulls
// from the same consumer, so they share the work and its position, which
// survives any of them stopping: closing the subscriber never deletes the
// consumer. Subscribing to any other subject fails.
func NewSubscriber(cfg Config, log *slog.Logger) (message.Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nc, js, err := cfg.jetStream("subscriber", log)
	if err != nil {
		return nil, err
	}
	return &subscriber{cfg: cfg, nc: nc, js: js, log: log.With("component", "broker", "role", "subscriber"),
		closing: make(chan struct{}), inflight: semaphore.NewWeighted(int64(cfg.MaxInFlightBytes))}, nil
}

// subscriber is a Watermill subscriber over a JetStream pull consumer.
type subscriber struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
	log *slog.Logger

	mu       sync.Mutex
	iters    []jetstream.MessagesContext
	closed   bool
	closing  chan struct{} // closed when Close starts
	pullers  sync.WaitGroup
	awaiting sync.WaitGroup      // messages handed on and not yet acked or nacked
	inflight *semaphore.Weighted // payload bytes handed on and not yet settled
}

func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != s.cfg.Subject {
		return nil, fmt.Errorf("broker: the subscriber reads subject %s through consumer %s, not %s", s.cfg.Subject, s.cfg.Durable, topic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("broker: subscriber is closed")
	}
	cons, err := s.js.Consumer(ctx, s.cfg.Stream, s.cfg.Durable)
	if err != nil {
		return nil, fmt.Errorf("broker: subscribe to %s through consumer %s of stream %s (EnsureStream creates them): %w",
			topic, s.cfg.Durable, s.cfg.Stream, err)
	}
	prefetch := max(s.cfg.MaxInFlightBytes/4, minInFlight)
	it, err := cons.Messages(jetstream.PullMaxBytes(prefetch))
	if err != nil {
		return nil, fmt.Errorf("broker: pull from consumer %s of stream %s (a push consumer from an older version is replaced by EnsureStream): %w",
			s.cfg.Durable, s.cfg.Stream, err)
	}
	s.iters = append(s.iters, it)
	out := make(chan *message.Message)
	s.pullers.Add(1)
	go s.pull(ctx, it, out)
	return out, nil
}

// pull hands every message the iterator yields to out until the iterator
// is closed (Close drains it) or ctx ends, then closes out.
func (s *subscriber) pull(ctx context.Context, it jetstream.MessagesContext, out chan<- *message.Message) {
	defer s.pullers.Done()
	defer close(out)
	stop := context.AfterFunc(ctx, it.Drain)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			// Heartbeats missed or the connection is reconnecting: the
			// iterator goes on by itself.
			s.log.Warn("broker: pulling messages", "err", err)
			continue
		}
		// Wait for room: what the pipeline holds is bounded in bytes, so
		// a backlog of large messages is not pulled into memory at once.
		weight := int64(min(len(m.Data()), s.cfg.MaxInFlightBytes))
		if err := s.inflight.Acquire(ctx, weight); err != nil {
			s.nak(m)
			continue
		}
		msg := unmarshal(m.Headers(), m.Data())
		if md, err := m.Metadata(); err == nil {
			msg.Metadata.Set(batchmsg.MetaDeliveries, strconv.FormatUint(md.NumDelivered, 10))
		}
		mctx, cancel := context.WithCancel(ctx)
		msg.SetContext(mctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			cancel()
			s.inflight.Release(weight)
			s.nak(m) // not handed on: give it back at once
			continue
		case <-s.closing:
			cancel()
			s.inflight.Release(weight)
			s.nak(m)
			continue
		}
		s.awaiting.Add(1)
		go s.settle(m, msg, weight, cancel)
	}
}

// settle acknowledges m once the handler acked msg, or gives it back once
// the handler nacked it. A handler that answers neither before Close gives
// up on it leaves m to the server's AckWait.
func (s *subscriber) settle(m jetstream.Msg, msg *message.Message, weight int64, cancel context.CancelFunc) {
	defer s.awaiting.Done()
	defer cancel()
	defer s.inflight.Release(weight)
	select {
	case <-msg.Acked():
		ctx, stop := context.WithTimeout(context.Background(), s.cfg.PublishTimeout)
		defer stop()
		if err := m.DoubleAck(ctx); err != nil {
			// The server delivers it again after AckWait: a duplicate the
			// log drops, never a loss.
			s.log.Warn("broker: ack not confirmed; the message will be delivered again", "message_uuid", msg.UUID, "err", err)
		}
	case <-msg.Nacked():
		s.nak(m)
	}
}

func (s *subscriber) nak(m jetstream.Msg) {
	if err := m.NakWithDelay(s.cfg.NakDelay); err != nil {
		s.log.Warn("broker: nak not sent; the message will be delivered again after ack_wait", "err", err)
	}
}

// Close stops pulling (messages buffered in the client and not yet handed
// on are given back at once), waits up to 30 s for the
// answers to every message handed on, and closes the connection. It never
// deletes the consumer.
func (s *subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	iters := s.iters
	s.mu.Unlock()
	for _, it := range iters {
		it.Drain()
	}
	s.pullers.Wait()
	done := make(chan struct{})
	go func() { s.awaiting.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(subscriberCloseTimeout):
		s.log.Warn("broker: closing with messages neither acked nor nacked; the server delivers them again after ack_wait")
	}
	if err := s.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("broker: close subscriber connection: %w", err)
	}
	return nil
}
