package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureStream creates or updates, idempotently, what the pipeline needs on
// the server: the stream (file storage, subjects Subject and PoisonSubject,
// Replicas, MaxAge, DuplicateWindow) and the pipeline's durable consumer
// (a pull consumer of Subject: explicit acks, AckWait, MaxDeliver,
// MaxAckPending). Run it before NewSubscriber subscribes: the subscriber binds
// to the consumer and never creates or deletes it, so a replica shutting
// down cannot take the consumer (and its position) away from the others.
func EnsureStream(ctx context.Context, cfg Config) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	nc, js, err := cfg.jetStream("admin", slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer nc.Close()
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig(cfg)); err != nil {
		return fmt.Errorf("broker: ensure stream %s: %w", cfg.Stream, err)
	}
	if err := ensureConsumer(ctx, js, cfg); err != nil {
		return fmt.Errorf("broker: ensure consumer %s on stream %s: %w", cfg.Durable, cfg.Stream, err)
	}
	return nil
}

// ensureConsumer creates or updates the pipeline's pull consumer. Earlier
// versions of Custody made it a push consumer, which JetStream cannot turn into a
// pull one: that consumer is replaced by a pull consumer starting after
// its acknowledgement floor, so nothing it had not settled is skipped
// (messages it acknowledged out of order above the floor are delivered
// again, which the log's idempotence absorbs). Stop every replica of the
// older version first: their subscriptions end with the push consumer.
// A consumer made that way keeps its start position on later updates.
func ensureConsumer(ctx context.Context, js jetstream.JetStream, cfg Config) error {
	want := consumerConfig(cfg)
	info, err := js.Stream(ctx, cfg.Stream)
	if err != nil {
		return err
	}
	existing, err := info.Consumer(ctx, cfg.Durable)
	switch {
	case errors.Is(err, jetstream.ErrNotPullConsumer):
		old, err := js.PushConsumer(ctx, cfg.Stream, cfg.Durable)
		if err != nil {
			return err
		}
		floor := old.CachedInfo().AckFloor.Stream
		if err := js.DeleteConsumer(ctx, cfg.Stream, cfg.Durable); err != nil {
			return fmt.Errorf("replace the push consumer of an older version: %w", err)
		}
		if floor > 0 {
			want.DeliverPolicy, want.OptStartSeq = jetstream.DeliverByStartSequencePolicy, floor+1
		}
	case err == nil:
		had := existing.CachedInfo().Config
		want.DeliverPolicy, want.OptStartSeq = had.DeliverPolicy, had.OptStartSeq
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return err
	}
	_, err = js.CreateOrUpdateConsumer(ctx, cfg.Stream, want)
	return err
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
		// No client may delete or purge messages: what ingest acknowledged
		// stays until the pipeline has stored it (or MaxAge).
		DenyDelete: true,
		DenyPurge:  true,
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
	}
}
