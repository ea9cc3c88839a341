package broker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// maxHeaderValue caps one metadata value on the wire (a poison reason with
// a stack trace, say).
const maxHeaderValue = 4 << 10

// NewPublisher returns a Watermill publisher to JetStream. Publish returns
// only once the server has acknowledged every message as stored in the
// stream (or fails): it is watermill-nats's synchronous JetStream publish
// (js.PublishMsg, a request that waits for the PubAck), bounded by
// PublishTimeout, with the message UUID as Nats-Msg-Id so a publish retried
// within DuplicateWindow is stored once. Messages must go to a subject of
// cfg.Stream (ExpectStream); nothing is provisioned on publish (call
// EnsureStream first). Metadata travel as NATS headers.
func NewPublisher(cfg Config, log *slog.Logger) (message.Publisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nc, err := cfg.connect("publisher", log)
	if err != nil {
		return nil, err
	}
	pub, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			AutoProvision: false,
			TrackMsgId:    true,
			// The publish timeout: js.PublishMsg waits this long for the
			// PubAck when no per-call timeout is given.
			ConnectOptions: []nats.JSOpt{nats.MaxWait(cfg.PublishTimeout)},
			// A slice literal has len == cap, so watermill-nats's
			// append(PublishOptions, MsgId) never shares a backing array
			// between concurrent publishes.
			PublishOptions: []nats.PubOpt{nats.ExpectStream(cfg.Stream)},
		},
	}, watermillLogger(log))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("broker: publisher: %w", err)
	}
	return &publisher{pub: pub}, nil
}

// publisher keeps metadata valid as NATS headers: a value with a line
// break would corrupt the message, and a huge one exceed the limits.
type publisher struct {
	pub *wmnats.Publisher
}

func (p *publisher) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		if err := p.pub.Publish(topic, headerSafe(m)); err != nil {
			return fmt.Errorf("broker: publish to %s: %w", topic, err)
		}
	}
	return nil
}

func (p *publisher) Close() error { return p.pub.Close() }

// headerSafe returns m, or a copy of m whose metadata values are single
// lines of at most maxHeaderValue bytes.
func headerSafe(m *message.Message) *message.Message {
	clean := func(v string) string {
		v = strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r == '\r' || r == '\n' }), " | ")
		if len(v) > maxHeaderValue {
			v = v[:maxHeaderValue] + "…"
		}
		return v
	}
	dirty := false
	for _, v := range m.Metadata {
		if clean(v) != v {
			dirty = true
			break
		}
	}
	if !dirty {
		return m
	}
	c := message.NewMessage(m.UUID, m.Payload)
	c.SetContext(m.Context())
	for k, v := range m.Metadata {
		c.Metadata.Set(k, clean(v))
	}
	return c
}

// NewSubscriber returns a Watermill subscriber on the pipeline's durable
// consumer (made by EnsureStream). Subscribe(ctx, cfg.Subject) binds
// Subscribers subscriptions to the consumer in QueueGroup, so every replica
// shares the work. Acks are manual: a message is acknowledged (AckSync)
// only after the handler returned nil and the router acked it; a nack
// asks for redelivery after NakDelay; no answer within AckWait means the
// server delivers it again. Closing the subscriber unsubscribes but never
// deletes the consumer. Subscribing to any other subject fails.
func NewSubscriber(cfg Config, log *slog.Logger) (message.Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nc, err := cfg.connect("subscriber", log)
	if err != nil {
		return nil, err
	}
	sub, err := wmnats.NewSubscriberWithNatsConn(nc, wmnats.SubscriberSubscriptionConfig{
		Unmarshaler:       unmarshaler{},
		SubscribersCount:  cfg.Subscribers,
		AckWaitTimeout:    cfg.AckWait,
		CloseTimeout:      30 * time.Second,
		SubscribeTimeout:  cfg.PublishTimeout,
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		QueueGroupPrefix:  cfg.QueueGroup,
		NakDelay:          wmnats.NewStaticDelay(cfg.NakDelay),
		JetStream: wmnats.JetStreamConfig{
			AutoProvision:  false,
			AckAsync:       false,
			ConnectOptions: []nats.JSOpt{nats.MaxWait(cfg.PublishTimeout)},
			// DurablePrefix makes watermill-nats add nats.Durable(Durable);
			// Bind makes nats.go attach to the existing consumer instead of
			// creating one (and so never delete it on unsubscribe);
			// ManualAck stops nats.go from acking when the callback returns
			// (watermill-nats's callback returns on AckWait timeout or on
			// close without the handler having succeeded).
			DurablePrefix: cfg.Durable,
			SubscribeOptions: []nats.SubOpt{
				nats.Bind(cfg.Stream, cfg.Durable),
				nats.ManualAck(),
			},
		},
	}, watermillLogger(log))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("broker: subscriber: %w", err)
	}
	return &subscriber{sub: sub, nc: nc, cfg: cfg}, nil
}

// subscriber explains a failed Subscribe and closes cleanly after one:
// watermill-nats leaves its close wait group raised when a subscription
// fails, so its Close would block for CloseTimeout and never drain the
// connection; after a failure the connection is closed directly.
type subscriber struct {
	sub    *wmnats.Subscriber
	nc     *nats.Conn
	cfg    Config
	failed atomic.Bool
}

func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != s.cfg.Subject {
		return nil, fmt.Errorf("broker: the subscriber reads subject %s through consumer %s, not %s", s.cfg.Subject, s.cfg.Durable, topic)
	}
	ch, err := s.sub.Subscribe(ctx, topic)
	if err != nil {
		s.failed.Store(true)
		return nil, fmt.Errorf("broker: subscribe to %s through consumer %s of stream %s (EnsureStream creates them): %w",
			topic, s.cfg.Durable, s.cfg.Stream, err)
	}
	return ch, nil
}

func (s *subscriber) Close() error {
	if s.failed.Load() {
		s.nc.Close()
		return nil
	}
	return s.sub.Close()
}

// unmarshaler is watermill-nats's NATSMarshaler made total: a header with
// several values (which NATSMarshaler refuses, leaving the message to be
// redelivered forever) becomes one comma-joined value, so a foreign message
// still reaches the handler and is moved to the poison queue.
type unmarshaler struct{}

var skipHeaders = map[string]bool{
	wmnats.WatermillUUIDHdr: true, nats.MsgIdHdr: true, nats.ExpectedLastMsgIdHdr: true,
	nats.ExpectedStreamHdr: true, nats.ExpectedLastSubjSeqHdr: true, nats.ExpectedLastSeqHdr: true,
}

func (unmarshaler) Unmarshal(m *nats.Msg) (*message.Message, error) {
	msg := message.NewMessage(m.Header.Get(wmnats.WatermillUUIDHdr), m.Data)
	for k, v := range m.Header {
		if !skipHeaders[k] && len(v) > 0 {
			msg.Metadata.Set(k, strings.Join(v, ","))
		}
	}
	return msg, nil
}

func watermillLogger(log *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLogger(log.With("component", "broker"))
}
