// Package node assembles the parts of a Custody process from configuration,
// as a factory: the event transport (embedded or external NATS JetStream,
// Kafka, or none) with its ingest sink and pipeline. Commands call it; it
// holds no logic of its own beyond wiring and shutdown order.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/kafka"
	"github.com/custodyhq/custody/internal/pipeline"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/server"
	"github.com/custodyhq/custody/internal/storage"
)

// Transport is the broker side of a process: the sink HTTP ingest hands
// events to, and the pipeline that moves them into the log.
type Transport struct {
	// Sink is where HTTP ingest hands validated events.
	Sink     ingest.Sink
	pipeline *pipeline.Pipeline // nil in direct mode or without a pipeline
	monitor  *broker.Monitor    // NATS modes: the stream and the consumer's backlog
	maxLag   time.Duration
	rejected *rejected.Store // what HTTP ingest and the pipeline reject, capped
	closers  []func()        // in the order they must run
}

// Checks are the transport's readiness checks: the broker can take
// messages and the pipeline's oldest unstored message is within
// broker.max_lag (NATS modes), and the log can be written (the pipeline's
// appends succeed). Each recovers by itself when its fault clears.
func (t *Transport) Checks() []server.Check {
	var checks []server.Check
	if t.monitor != nil {
		checks = append(checks, server.Check{Name: "broker", Run: t.monitor.Writable})
		if t.pipeline != nil {
			checks = append(checks, server.Check{Name: "pipeline_lag", Run: func(ctx context.Context) error {
				return t.monitor.NotLagging(ctx, t.maxLag)
			}})
		}
	}
	if t.pipeline != nil {
		checks = append(checks, server.Check{Name: "event_log_writable", Run: t.pipeline.StorageWritable})
	}
	return checks
}

// Writable is nil unless the pipeline's appends have been failing
// (pipeline.StorageWritable): HTTP ingest then answers 503 rather than
// acknowledge events the log cannot take.
func (t *Transport) Writable(ctx context.Context) error {
	if t.pipeline == nil {
		return nil
	}
	return t.pipeline.StorageWritable(ctx)
}

// watch opens the broker Monitor behind Checks and the backlog metrics.
func (t *Transport) watch(bcfg broker.Config, maxLag time.Duration, registry prometheus.Registerer, log *slog.Logger) error {
	m, err := broker.NewMonitor(bcfg, log)
	if err != nil {
		return err
	}
	t.monitor, t.maxLag = m, maxLag
	t.closers = append([]func(){m.Close}, t.closers...)
	backlog := func() broker.Backlog {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		b, _ := m.Backlog(ctx)
		return b
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "custody_pipeline_backlog_messages",
			Help: "Broker messages the pipeline has not stored yet (waiting or in its hands)."},
			func() float64 { return float64(backlog().Messages) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "custody_pipeline_oldest_unstored_seconds",
			Help: "Age of the oldest broker message the pipeline has not stored yet (0: none)."},
			func() float64 { return backlog().Oldest.Seconds() }),
	} {
		if err := registry.Register(c); err != nil {
			return fmt.Errorf("register pipeline backlog metrics: %w", err)
		}
	}
	return nil
}

// BrokerConfig maps the configuration onto the broker's.
func BrokerConfig(cfg config.Config) broker.Config {
	b := cfg.Broker
	return broker.Config{
		URLs: b.URLs, CredsFile: b.CredsFile, NKeyFile: b.NKeyFile,
		TLS:    broker.TLS{CAFile: b.CAFile, CertFile: b.CertFile, KeyFile: b.KeyFile},
		Stream: b.Stream, Subject: b.Subject, Durable: b.Durable, Replicas: b.Replicas,
	}.WithDefaults()
}

// KafkaConfig maps the configuration onto package kafka's, defaults
// applied.
func KafkaConfig(cfg config.Config) kafka.Config {
	k := cfg.Broker.Kafka
	return kafka.Config{
		Brokers: k.Brokers, Topic: k.Topic, PoisonTopic: k.PoisonTopic, ConsumerGroup: k.ConsumerGroup,
		Partitions: k.Partitions, ReplicationFactor: k.ReplicationFactor, Retention: k.Retention,
		ClientID: k.ClientID, Version: k.Version, MaxMessageBytes: k.MaxMessageBytes,
		TLS:  kafka.TLS{Enabled: k.TLS.Enabled, CAFile: k.TLS.CAFile, CertFile: k.TLS.CertFile, KeyFile: k.TLS.KeyFile},
		SASL: kafka.SASL{Mechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: k.SASL.Password, PasswordFile: k.SASL.PasswordFile},
	}.WithDefaults()
}

// PipelineConfig is the pipeline of every broker mode on topic and poison.
// A batch still being retried when the broker gives it to another
// consumer (NATS: AckWait; Kafka: a rebalance) is appended twice, which is
// harmless (the log is idempotent), so attempts stay short and bounded.
// Batches the ingest sink signed are trusted; any other is validated with
// the taxonomy, and its invalid events are kept as rejected.
// kept is the rejected-event store (shared with HTTP ingest: one set of
// caps and metrics per process).
func PipelineConfig(cfg config.Config, store *storage.Storage, kept *rejected.Store, topic, poison string) (pipeline.Config, error) {
	tax, err := LoadTaxonomy(cfg)
	if err != nil {
		return pipeline.Config{}, err
	}
	signer, err := BatchSigner(store)
	if err != nil {
		return pipeline.Config{}, err
	}
	return pipeline.Config{Topic: topic, PoisonTopic: poison, HandlerTimeout: 20 * time.Second,
		Retry:  pipeline.Retry{MaxRetries: 2, MaxInterval: 5 * time.Second},
		Signer: signer, Validation: event.Options{Vocabulary: tax, PhoneRegions: cfg.PhoneRegions()},
		Rejected: keepRejected{store: kept, stage: rejected.StagePipeline}}, nil
}

// BatchSigner signs the batches the ingest sink publishes and verifies them
// in the pipeline, under a key derived from the identifier key, which every
// process of a deployment holds.
func BatchSigner(store *storage.Storage) (*batchmsg.Signer, error) {
	return batchmsg.NewSigner(store.Hasher.DeriveKey(batchmsg.SignerPurpose))
}

// OpenTransport starts what broker.mode asks for: nothing (direct: ingest
// appends to the log), an embedded NATS JetStream server under
// data_dir/nats, or a connection to an external NATS cluster or to Kafka.
// withPipeline says whether this process also consumes (serve and ingest
// do; a publish-only front end would not).
func OpenTransport(ctx context.Context, cfg config.Config, store *storage.Storage, withPipeline bool, registry prometheus.Registerer, log *slog.Logger) (*Transport, error) {
	kept, err := rejectedStore(cfg, store, registry, log)
	if err != nil {
		return nil, err
	}
	t := &Transport{rejected: kept}
	switch cfg.Broker.Mode {
	case "direct":
		log.Warn("broker.mode is direct: HTTP ingest appends to the log synchronously, no broker in between")
		t.Sink = ingest.LogSink{Log: store.Events}
		return t, t.groupSink(cfg, registry)
	case "kafka":
		t, err := openKafka(ctx, cfg, store, kept, withPipeline, registry, log)
		if err == nil {
			if err = t.groupSink(cfg, registry); err != nil {
				t.Close()
			}
		}
		return t, err
	}
	bcfg := BrokerConfig(cfg)
	if cfg.Broker.Mode == "embedded" {
		emb, err := broker.StartEmbedded(ctx, broker.EmbeddedConfig{Dir: filepath.Join(cfg.DataDir, "nats")}, log)
		if err != nil {
			return nil, fmt.Errorf("start embedded NATS: %w", err)
		}
		t.closers = append(t.closers, emb.Shutdown)
		bcfg.URLs, bcfg.InProcess = nil, emb.Config().InProcess
	}
	fail := func(err error) (*Transport, error) {
		t.Close()
		return nil, err
	}
	// AckWait is how long a message delivered to a process that died waits
	// before it is delivered again: the recovery time after a crash.
	pcfg, err := PipelineConfig(cfg, store, t.rejected, bcfg.Subject, bcfg.PoisonSubject)
	if err != nil {
		return fail(err)
	}
	if cfg.Broker.Mode == "embedded" {
		bcfg.AckWait = 30 * time.Second
	}
	if err := broker.EnsureStream(ctx, bcfg); err != nil {
		return fail(fmt.Errorf("ensure stream %s: %w", bcfg.Stream, err))
	}
	if err := t.watch(bcfg, cfg.Broker.MaxLag, registry, log); err != nil {
		return fail(err)
	}
	pub, err := broker.NewPublisher(bcfg, log)
	if err != nil {
		return fail(err)
	}
	t.closers = append([]func(){func() { _ = pub.Close() }}, t.closers...)
	signer, err := BatchSigner(store)
	if err != nil {
		return fail(err)
	}
	sink := broker.NewSink(pub, bcfg.Subject, signer)
	if cfg.Broker.Mode == "embedded" {
		// The embedded server takes 8 MiB messages: a group of requests
		// (GroupCommit, up to 10,000 events) becomes one message, and the
		// pipeline appends the messages it holds together
		// (pipeline.Coalesce, up to 50,000 events an append).
		sink.MaxMessageBytes, sink.MaxMessageEvents = broker.EmbeddedMaxMessageBytes, 10_000
	}
	t.Sink = sink
	if err := t.groupSink(cfg, registry); err != nil {
		return fail(err)
	}
	if !withPipeline {
		return t, nil
	}
	sub, err := broker.NewSubscriber(bcfg, log)
	if err != nil {
		return fail(err)
	}
	t.closers = append([]func(){func() { _ = sub.Close() }}, t.closers...)
	t.pipeline, err = pipeline.New(pcfg, sub, pub, store.Events, log, registry)
	if err != nil {
		return fail(err)
	}
	return t, nil
}

// openKafka connects to Kafka: the topics (EnsureTopic), a publisher, the
// sink partitioning by subject, and the pipeline as a member of the
// consumer group.
func openKafka(ctx context.Context, cfg config.Config, store *storage.Storage, kept *rejected.Store, withPipeline bool, registry prometheus.Registerer, log *slog.Logger) (*Transport, error) {
	t := &Transport{rejected: kept}
	fail := func(err error) (*Transport, error) {
		t.Close()
		return nil, err
	}
	kcfg := KafkaConfig(cfg)
	if err := kcfg.Validate(); err != nil {
		return nil, err
	}
	log.Info("broker: kafka", "brokers", kcfg.Brokers, "topic", kcfg.Topic, "consumer_group", kcfg.ConsumerGroup,
		"partitions", kcfg.Partitions, "tls", kcfg.TLS.Enabled || kcfg.TLS.CAFile != "" || kcfg.TLS.CertFile != "", "sasl", kcfg.SASL)
	if err := kafka.EnsureTopic(ctx, kcfg, log); err != nil {
		return nil, fmt.Errorf("ensure topic %s: %w", kcfg.Topic, err)
	}
	pub, err := kafka.NewPublisher(kcfg, log)
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, func() { _ = pub.Close() })
	signer, err := BatchSigner(store)
	if err != nil {
		return fail(err)
	}
	if t.Sink, err = kafka.NewSink(pub, kcfg, store.Hasher, signer); err != nil {
		return fail(err)
	}
	if !withPipeline {
		return t, nil
	}
	sub, err := kafka.NewSubscriber(kcfg, log)
	if err != nil {
		return fail(err)
	}
	t.closers = append([]func(){func() { _ = sub.Close() }}, t.closers...)
	pcfg, err := PipelineConfig(cfg, store, t.rejected, kcfg.Topic, kcfg.PoisonTopic)
	if err != nil {
		return fail(err)
	}
	if t.pipeline, err = pipeline.New(pcfg, sub, pub, store.Events, log, registry); err != nil {
		return fail(err)
	}
	return t, nil
}

// groupSink puts the sink behind group commit, so that concurrent
// requests share its duplicate check and its publish (ingest.GroupCommit).
func (t *Transport) groupSink(cfg config.Config, registry prometheus.Registerer) error {
	gc := cfg.Ingest.GroupCommit
	g, err := ingest.NewGroupCommit(t.Sink, ingest.GroupConfig{Concurrency: gc.Concurrency, MaxEvents: gc.MaxEvents}, registry)
	if err != nil {
		return err
	}
	t.Sink = g
	return nil
}

// Run runs the pipeline until ctx ends (returns at once in direct mode).
func (t *Transport) Run(ctx context.Context) error {
	if t.pipeline == nil {
		<-ctx.Done()
		return nil
	}
	err := t.pipeline.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close releases the subscriber, publisher and embedded server, in order.
func (t *Transport) Close() {
	for _, c := range t.closers {
		c()
	}
	t.closers = nil
}
