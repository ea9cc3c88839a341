package kafka

import (
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/identity"
)

// NewSink returns HTTP ingest's sink in front of Kafka: the transport's
// shared broker.Sink, publishing to cfg.Topic through pub (NewPublisher),
// one message per partition key (SubjectKeys over cfg.Partitions buckets,
// under hasher, the event log's identifier hasher), each signed by signer
// and within
// cfg.MaxMessageBytes and the Sink's event count limit.
func NewSink(pub message.Publisher, cfg Config, hasher *identity.Hasher, signer *batchmsg.Signer) (*broker.Sink, error) {
	cfg.setDefaults()
	keys, err := NewSubjectKeys(hasher, cfg.Partitions)
	if err != nil {
		return nil, err
	}
	sink := broker.NewSink(pub, cfg.Topic, signer)
	sink.MaxMessageBytes = cfg.MaxMessageBytes
	sink.PartitionKey = keys.Key
	return sink, nil
}
