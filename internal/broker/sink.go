package broker

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/ingest"
)

// Sink limits.
const (
	// DefaultMaxMessageEvents caps the events of one broker message. Each
	// message is one append in the pipeline, and bigger appends are much
	// cheaper per event: raise it (with MaxMessageBytes) where the server
	// allows larger messages, as the embedded one does.
	DefaultMaxMessageEvents = 1000
	// DefaultMaxMessageBytes keeps a message under NATS's default 1 MiB
	// max_payload with room for headers.
	DefaultMaxMessageBytes = 768 << 10
)

// Sink is the HTTP ingest's Sink in front of the broker: accepted events are
// published, and the pipeline appends them to the log.
//
// It does not look events up in the log: the pipeline's append is the one
// place an event id is checked against the log (once per append, exactly),
// so an event sent again after it was stored is answered Accepted again
// and stored once. Asking the log from the sink as well cost a query per
// request, and capped 50 clients' one-event requests at 492 events/s
// (measured).
type Sink struct {
	pub    message.Publisher
	topic  string
	signer *batchmsg.Signer

	// Source goes into each message's custody-source metadata (default
	// "http").
	Source string
	// MaxMessageBytes caps one message's payload (default
	// DefaultMaxMessageBytes); a larger batch is split.
	MaxMessageBytes int
	// MaxMessageEvents caps one message's events (default
	// DefaultMaxMessageEvents).
	MaxMessageEvents int
	// PartitionKey, when set, names the ordered lane each event must
	// travel in (for Kafka, kafka.SubjectKeys: the partition of its
	// subject). Events of different keys then go in different messages,
	// each key's events keep their order in the request, and every
	// message carries its key as MetaPartitionKey. nil: messages mix
	// events freely (a NATS stream is one ordered lane). An error fails
	// the whole Accept.
	PartitionKey func(*event.Event) (string, error)
}

var _ ingest.Sink = (*Sink)(nil)

// NewSink returns a Sink publishing to topic through pub, a publisher that
// returns only once the broker has stored the message (NewPublisher). It
// signs every message with signer: the pipeline trusts a batch in the
// split form only with a valid signature (events it holds were validated
// here), and validates anything else as untrusted input.
func NewSink(pub message.Publisher, topic string, signer *batchmsg.Signer) *Sink {
	return &Sink{pub: pub, topic: topic, signer: signer, Source: "http", MaxMessageBytes: DefaultMaxMessageBytes, MaxMessageEvents: DefaultMaxMessageEvents}
}

// Accept implements ingest.Sink. An event whose id appears earlier in the
// same call, in the same tenant, is Duplicate and not published; every other is Accepted. They
// are encoded (batchmsg, at most MaxMessageEvents events and
// MaxMessageBytes per message, one PartitionKey per message when set, all
// sharing one correlation id) and published in one call; Accept returns
// their verdicts only when every message is stored in the broker. On any
// error nothing may be assumed accepted: the client retries the whole
// request, which is safe because the log keeps one event per id.
func (s *Sink) Accept(ctx context.Context, events []*event.Event) ([]ingest.Verdict, error) {
	verdicts := make([]ingest.Verdict, len(events))
	type key struct {
		id     uuid.UUID
		tenant string
	}
	seen := make(map[key]bool, len(events))
	fresh := make([]*event.Event, 0, len(events))
	for i, e := range events {
		k := key{e.ID, e.Tenant}
		if seen[k] {
			verdicts[i] = ingest.Duplicate
			continue
		}
		seen[k] = true
		verdicts[i] = ingest.Accepted
		fresh = append(fresh, e)
	}
	msgs, err := s.encodeByKey(fresh)
	if err != nil {
		return nil, err
	}
	correlation := watermill.NewUUID()
	for _, m := range msgs {
		middleware.SetCorrelationID(correlation, m)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// One call: a publisher may send the messages together (Kafka's sends
	// them in parallel across partitions); NATS's publishes them in turn.
	if err := s.pub.Publish(s.topic, msgs...); err != nil {
		return nil, fmt.Errorf("publish %d events in %d messages: %w", len(fresh), len(msgs), err)
	}
	return verdicts, nil
}

// encode splits events into messages within the count and size limits,
// in batchmsg's split form (FormatV2): cheaper to write than JSON, and the
// pipeline stores it without decoding each event's data again.
func (s *Sink) encode(events []*event.Event) ([]*message.Message, error) {
	limit := s.MaxMessageBytes
	if limit <= 0 {
		limit = DefaultMaxMessageBytes
	}
	per := s.MaxMessageEvents
	if per <= 0 {
		per = DefaultMaxMessageEvents
	}
	entries := make([]event.Entry, len(events))
	for i, e := range events {
		entry, err := event.Split(e)
		if err != nil {
			return nil, err
		}
		entries[i] = entry
	}
	var out []*message.Message
	first, size := 0, 0
	for i := range entries {
		n := batchmsg.EncodedSize(&entries[i])
		if n > limit {
			return nil, fmt.Errorf("event %s is %d bytes encoded, over the broker's message limit of %d bytes", entries[i].ID, n, limit)
		}
		if i > first && (i-first == per || size+n > limit) {
			out = append(out, s.message(entries[first:i]))
			first, size = i, 0
		}
		size += n
	}
	if first < len(entries) {
		out = append(out, s.message(entries[first:]))
	}
	return out, nil
}

// message encodes entries as one signed FormatV2 message.
func (s *Sink) message(entries []event.Entry) *message.Message {
	m := batchmsg.EncodeEntries(entries, s.Source)
	if s.signer != nil {
		s.signer.Sign(m)
	}
	return m
}
