package broker

import (
	"fmt"
	"log/slog"
	"strings"

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

// unmarshal makes a Watermill message of a delivered NATS message. It is
// total: a header with several values (which watermill-nats's
// NATSMarshaler refuses, leaving the message to be redelivered forever)
// becomes one comma-joined value, so a foreign message still reaches the
// handler and is moved to the poison queue.
var skipHeaders = map[string]bool{
	wmnats.WatermillUUIDHdr: true, nats.MsgIdHdr: true, nats.ExpectedLastMsgIdHdr: true,
	nats.ExpectedStreamHdr: true, nats.ExpectedLastSubjSeqHdr: true, nats.ExpectedLastSeqHdr: true,
}

func unmarshal(header nats.Header, data []byte) *message.Message {
	msg := message.NewMessage(header.Get(wmnats.WatermillUUIDHdr), data)
	for k, v := range header {
		if !skipHeaders[k] && len(v) > 0 {
			msg.Metadata.Set(k, strings.Join(v, ","))
		}
	}
	return msg
}

func watermillLogger(log *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLogger(log.With("component", "broker"))
}
