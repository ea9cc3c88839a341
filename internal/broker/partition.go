package broker

import (
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custodyhq/custody/internal/event"
)

// MetaPartitionKey is the metadata that carries, on a message from a Sink
// with a PartitionKey, the key every event of the message shares. A
// transport that keeps order per key (Kafka: per partition) routes the
// message by it; NATS ignores it. It travels in the clear, so it must never
// be or contain an identifier.
const MetaPartitionKey = "custody-partition-key"

// encodeByKey encodes events as encode does, but, when PartitionKey is set,
// never mixes keys in one message: events are grouped by key (groups in
// the order their first event appears, each group in request order) and
// every message carries its key as MetaPartitionKey.
func (s *Sink) encodeByKey(events []*event.Event) ([]*message.Message, error) {
	if s.PartitionKey == nil {
		return s.encode(events)
	}
	var keys []string
	lanes := map[string][]*event.Event{}
	for _, e := range events {
		k, err := s.PartitionKey(e)
		if err != nil {
			return nil, err
		}
		if _, ok := lanes[k]; !ok {
			keys = append(keys, k)
		}
		lanes[k] = append(lanes[k], e)
	}
	var out []*message.Message
	for _, k := range keys {
		msgs, err := s.encode(lanes[k])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			m.Metadata.Set(MetaPartitionKey, k)
		}
		out = append(out, msgs...)
	}
	return out, nil
}
