package broker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureStream creates or updates, idempotently, what the pipeline needs on
// the server: the stream (file storage, subjects Subject and PoisonSubject,
// Replicas, MaxAge, DuplicateWindow) and the pipeline's durable consumer
// (explicit acks, AckWait, MaxDeliver, MaxAckPending, delivering Subject to
// QueueGroup). Run it before NewSubscriber subscribes: the subscriber binds
// to the consumer and never creates or deletes it, so a replica shutting
// down cannot take the consumer (and its position) away from the others.
func EnsureStream(ctx context.Context, cfg Config) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	nc, err := cfg.connect("admin", slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("broker: jetstream: %w", err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig(cfg)); err != nil {
		return fmt.Errorf("broker: ensure stream %s: %w", cfg.Stream, err)
	}
	if _, err := js.CreateOrUpdatePushConsumer(ctx, cfg.Stream, consumerConfig(cfg)); err != nil {
		return fmt.Errorf("broker: ensure consumer %s on stream %s: %w", cfg.Durable, cfg.Stream, err)
	}
	return nil
}

func streamConfig(cfg Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "Custody event batches (pipeline input) and the pipeline's poison queue",
		Subjects:    []string{cfg.Subject, cfg.PoisonSubject},
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		// Limits retention: acknowledged messages stay until MaxAge, so the
		// stream can be replayed and inspected.
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
		MaxAge:     cfg.MaxAge,
		Duplicates: cfg.DuplicateWindow,
	}
}

func consumerConfig(cfg Config) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "Custody ingest pipeline: event batches into the event log",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    cfg.MaxDeliver,
		MaxAckPending: cfg.MaxAckPending,
		FilterSubject: cfg.Subject,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		// Push delivery to a queue group: watermill-nats subscribes with
		// js.QueueSubscribe, bound to this consumer.
		DeliverSubject: deliverSubject(cfg),
		DeliverGroup:   cfg.QueueGroup,
	}
}

// deliverSubject is where the server pushes the consumer's messages; it is
// outside the stream's subjects.
func deliverSubject(cfg Config) string {
	return "_CUSTODY.deliver." + cfg.Stream + "." + cfg.Durable
}
