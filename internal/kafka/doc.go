// Package kafka is Custody's event transport on Kafka, behind Watermill:
// the connection configuration (brokers, TLS, SASL PLAIN or SCRAM), the
// topics (EnsureTopic), a Watermill publisher and a consumer-group
// subscriber (watermill-kafka over IBM/sarama), and the partition keys
// that let the ingest Sink (broker.Sink, shared with NATS) keep each
// subject on one partition. It is broker.mode: kafka; package broker is
// the NATS JetStream transport.
//
// Delivery is at least once, end to end:
//
//   - A publish returns only after the brokers acknowledged every message
//     (sarama's SyncProducer, RequiredAcks=WaitForAll, idempotent
//     producer), so the Sink answers "accepted" only for events Kafka
//     holds on every in-sync replica. With replication factor 3,
//     EnsureTopic sets min.insync.replicas=2: an acknowledged batch is on
//     two brokers at least.
//   - The subscriber marks a message's offset only after the pipeline
//     acked it, and commits marked offsets (every second, and when a
//     member leaves the group). A nack hands the same message over again;
//     anything else (an error, a crash, a rebalance mid-batch) ends in a
//     redelivery from the last committed offset. Event ids make redelivery
//     harmless: the log keeps one event per id.
//
// Order: Kafka orders each partition, and a consumer group gives each
// partition to one member, which handles its messages one after another.
// The Sink sends all events of one subject (the event log's subject key)
// to one partition (SubjectKeys), so per-subject order holds from the
// request to the log; the pipeline does not need it for correctness.
//
// What has been exercised: the tests run against kfake
// (github.com/twmb/franz-go/pkg/kfake), an in-process cluster that speaks
// the Kafka wire protocol, because no Kafka server can be installed where
// they run. Sarama's consumer groups (JoinGroup, SyncGroup, Heartbeat,
// OffsetFetch, OffsetCommit, LeaveGroup), the idempotent producer
// (InitProducerId), topic creation, SASL PLAIN and SCRAM-SHA-512 and TLS
// work against it at protocol level 2.3.0, the default. At 2.4.0 and above
// sarama 1.43.3 asks OffsetFetch v6+, and kfake answers a partition that
// has no committed offset with a null metadata string where Apache Kafka
// sends an empty one; sarama cannot decode that ("invalid byteslice
// length") and its consumer group fails before the first message. Real
// brokers are unaffected, but those levels are untested here, hence the
// default. Nothing has run against Apache Kafka itself.
//
// It is not the pipeline (package pipeline appends batches to the log) and
// knows nothing of events beyond their subject identifiers, hashed with the
// log's identifier key for partitioning.
package kafka
