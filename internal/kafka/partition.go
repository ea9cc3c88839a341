package kafka

import (
	"fmt"
	"strconv"

	"github.com/IBM/sarama"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// SubjectKeys gives every event the partition key of its subject, for the
// Sink (broker.Sink.PartitionKey). Kafka keeps order within a partition
// only, so all events of one subject must go to one partition, while one
// batch from HTTP ingest holds many subjects.
//
// The subject is what the event log orders by: the smallest keyed hash
// (identity.Hasher, HMAC-SHA256 under the identifier key) of the event's
// normalised identifiers. The key is that hash reduced to one of
// Partitions buckets, as a decimal ("0".."11" by default), and the
// publisher sends bucket b to partition b mod the topic's partition count.
// So:
//
//   - no identifier, raw or hashed, reaches Kafka: keys and headers hold a
//     bucket number, which a reader without the identifier key cannot link
//     to anyone (a plain SHA-256 of an e-mail address could be reversed by
//     guessing addresses; the keyed hash cannot);
//   - the Sink sends one message per bucket and request, not one per
//     subject: each message is one append in the pipeline, and appends are
//     much cheaper per event in bulk;
//   - buckets map onto partitions one to one when the topic has
//     Partitions partitions (EnsureTopic makes it so), and still keep a
//     subject on one partition when it has another count.
//
// Adding partitions to a live topic moves subjects to other partitions,
// as it does for any keyed Kafka topic: events of one subject sent across
// the change may be read out of order. The pipeline does not depend on
// order (see package pipeline); keep Partitions fixed anyway, and equal on
// every replica.
type SubjectKeys struct {
	hasher  *identity.Hasher
	buckets uint64
}

// NewSubjectKeys returns the keys of cfg.Partitions buckets under hasher,
// which must be the identifier hasher of the event log (storage.Hasher).
func NewSubjectKeys(hasher *identity.Hasher, partitions int) (*SubjectKeys, error) {
	if hasher == nil {
		return nil, fmt.Errorf("kafka: subject keys need the identifier hasher")
	}
	if partitions < 1 {
		return nil, fmt.Errorf("kafka: subject keys need at least one partition, got %d", partitions)
	}
	return &SubjectKeys{hasher: hasher, buckets: uint64(partitions)}, nil
}

// Key returns e's partition key. It fails only for an event without a
// valid identifier, which validation never lets through; the error names
// the event and the identifier's position, never its value.
func (k *SubjectKeys) Key(e *event.Event) (string, error) {
	_, subject, err := k.hasher.Refs(e.Subject.Identifiers)
	if err != nil {
		return "", fmt.Errorf("kafka: partition key of event %s: %w", e.ID, err)
	}
	if len(subject) < 16 {
		return "", fmt.Errorf("kafka: partition key of event %s: subject key %d characters, want a hex hash", e.ID, len(subject))
	}
	// The hash is uniform: its first 64 bits spread subjects evenly.
	n, err := strconv.ParseUint(subject[:16], 16, 64)
	if err != nil {
		return "", fmt.Errorf("kafka: partition key of event %s: %w", e.ID, err)
	}
	return strconv.FormatUint(n%k.buckets, 10), nil
}

// bucket rides on a sarama.ProducerMessage (its Metadata, which sarama
// leaves to the application) from the marshaler to the partitioner.
type bucket uint64

// bucketPartitioner sends a message with a bucket to partition bucket mod
// the partition count, and any other message as sarama's hash partitioner
// would (by key; a random partition without one).
type bucketPartitioner struct {
	fallback sarama.Partitioner
}

func newBucketPartitioner(topic string) sarama.Partitioner {
	return bucketPartitioner{fallback: sarama.NewHashPartitioner(topic)}
}

func (p bucketPartitioner) Partition(m *sarama.ProducerMessage, partitions int32) (int32, error) {
	if b, ok := m.Metadata.(bucket); ok && partitions > 0 {
		return int32(uint64(b) % uint64(partitions)), nil
	}
	return p.fallback.Partition(m, partitions)
}

// RequiresConsistency: a message must go where its bucket says even while
// that partition is unavailable (sarama then retries), or order breaks.
func (bucketPartitioner) RequiresConsistency() bool { return true }

// maxHeaderValue caps one metadata value on the wire (a poison reason with
// a stack trace, say), so a poisoned batch still fits the topic's limit.
const maxHeaderValue = 4 << 10

// marshaler is watermill-kafka's DefaultMarshaler (metadata as headers,
// the UUID in its own header) plus the partition: a message carrying
// broker.MetaPartitionKey gets it as its Kafka key and, when it is a
// bucket number, its bucket for bucketPartitioner. Header values are
// capped at maxHeaderValue.
type marshaler struct {
	wmkafka.DefaultMarshaler
}

func (m marshaler) Marshal(topic string, msg *message.Message) (*sarama.ProducerMessage, error) {
	capped := msg
	for _, v := range msg.Metadata {
		if len(v) > maxHeaderValue {
			capped = message.NewMessage(msg.UUID, msg.Payload)
			for k, v := range msg.Metadata {
				if len(v) > maxHeaderValue {
					v = v[:maxHeaderValue] + "…"
				}
				capped.Metadata.Set(k, v)
			}
			break
		}
	}
	pm, err := m.DefaultMarshaler.Marshal(topic, capped)
	if err != nil {
		return nil, fmt.Errorf("kafka: marshal message %s: %w", msg.UUID, err)
	}
	if key := msg.Metadata.Get(broker.MetaPartitionKey); key != "" {
		pm.Key = sarama.StringEncoder(key)
		if b, err := strconv.ParseUint(key, 10, 64); err == nil {
			pm.Metadata = bucket(b)
		}
	}
	return pm, nil
}
