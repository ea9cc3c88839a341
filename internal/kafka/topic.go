package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/IBM/sarama"
)

// EnsureTopic creates what the pipeline needs on the brokers when it is
// missing: the topic and the poison topic, each with Partitions partitions,
// ReplicationFactor replicas and these topic settings:
//
//   - retention.ms = Retention (both topics; drain the poison topic
//     within it);
//   - max.message.bytes = MaxMessageBytes plus 64 KiB of headroom;
//   - min.insync.replicas = 2 with three or more replicas (so an
//     acknowledged publish is on two brokers), 1 otherwise.
//
// It is idempotent and safe to run from every replica at once: a topic
// that exists is left as it is (a topic another replica created meanwhile
// counts as existing). One whose partition count or replication factor
// differs from the configuration is logged as a warning, not changed:
// partitions and replicas are the operator's to change (see deploy/README).
// Consumer groups need no provisioning: Kafka creates one when its first
// member joins.
func EnsureTopic(ctx context.Context, cfg Config, log *slog.Logger) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	sc, err := cfg.sarama(roleAdmin)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	admin, err := sarama.NewClusterAdmin(cfg.Brokers, sc)
	if err != nil {
		return fmt.Errorf("kafka: connect to %v: %w", cfg.Brokers, err)
	}
	defer admin.Close()
	log = log.With("component", "kafka", "role", roleAdmin)
	for _, topic := range []string{cfg.Topic, cfg.PoisonTopic} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := ensureTopic(admin, cfg, topic, log); err != nil {
			return err
		}
	}
	return nil
}

func ensureTopic(admin sarama.ClusterAdmin, cfg Config, topic string, log *slog.Logger) error {
	meta, err := admin.DescribeTopics([]string{topic})
	if err != nil {
		return fmt.Errorf("kafka: describe topic %s: %w", topic, err)
	}
	if len(meta) == 1 && errors.Is(meta[0].Err, sarama.ErrNoError) {
		checkTopicShape(meta[0], cfg, log)
		return nil
	}
	if len(meta) == 1 && !errors.Is(meta[0].Err, sarama.ErrUnknownTopicOrPartition) {
		return fmt.Errorf("kafka: describe topic %s: %w", topic, meta[0].Err)
	}
	err = admin.CreateTopic(topic, &sarama.TopicDetail{
		NumPartitions:     int32(cfg.Partitions),
		ReplicationFactor: int16(cfg.ReplicationFactor),
		ConfigEntries:     topicConfig(cfg),
	}, false)
	switch {
	case err == nil:
		log.Info("created topic", "topic", topic, "partitions", cfg.Partitions, "replication_factor", cfg.ReplicationFactor)
		return nil
	case errors.Is(err, sarama.ErrTopicAlreadyExists):
		return nil
	default:
		return fmt.Errorf("kafka: create topic %s (%d partitions, replication factor %d): %w", topic, cfg.Partitions, cfg.ReplicationFactor, err)
	}
}

// topicConfig is the settings of a topic EnsureTopic creates.
func topicConfig(cfg Config) map[string]*string {
	minISR := 1
	if cfg.ReplicationFactor >= 3 {
		minISR = 2
	}
	s := func(v string) *string { return &v }
	return map[string]*string{
		"retention.ms":        s(strconv.FormatInt(cfg.Retention.Milliseconds(), 10)),
		"max.message.bytes":   s(strconv.Itoa(cfg.MaxMessageBytes + headroom)),
		"min.insync.replicas": s(strconv.Itoa(minISR)),
		"cleanup.policy":      s("delete"),
	}
}

// checkTopicShape warns about an existing topic that differs from the
// configuration.
func checkTopicShape(meta *sarama.TopicMetadata, cfg Config, log *slog.Logger) {
	if n := len(meta.Partitions); n != cfg.Partitions {
		log.Warn("topic has another partition count than broker.kafka.partitions; subjects stay on one partition each, but "+
			"with fewer partitions several partition keys share one, and with more some partitions stay idle",
			"topic", meta.Name, "partitions", n, "configured", cfg.Partitions)
	}
	if len(meta.Partitions) > 0 {
		if rf := len(meta.Partitions[0].Replicas); rf < cfg.ReplicationFactor {
			log.Warn("topic has fewer replicas than broker.kafka.replication_factor", "topic", meta.Name,
				"replication_factor", rf, "configured", cfg.ReplicationFactor)
		}
	}
}
