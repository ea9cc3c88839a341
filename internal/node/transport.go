// Package node assembles the parts of a Custody process from configuration,
// as a factory: the event transport (embedded or external NATS JetStream,
// or none) with its ingest sink and pipeline. Commands call it; it holds no
// logic of its own beyond wiring and shutdown order.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/pipeline"
	"github.com/custodyhq/custody/internal/storage"
)

// Transport is the broker side of a process: the sink HTTP ingest hands
// events to, and the pipeline that moves them into the log.
type Transport struct {
	// Sink is where HTTP ingest hands validated events.
	Sink     ingest.Sink
	pipeline *pipeline.Pipeline // nil in direct mode or without a pipeline
	closers  []func()           // in the order they must run
}

// BrokerConfig maps the configuration onto the broker's.
func BrokerConfig(cfg config.Config) broker.Config {
	b := cfg.Broker
	return broker.Config{
		URLs: b.URLs, CredsFile: b.CredsFile, NKeyFile: b.NKeyFile,
		TLS:    broker.TLS{CAFile: b.CAFile, CertFile: b.CertFile, KeyFile: b.KeyFile},
		Stream: b.Stream, Subject: b.Subject, Durable: b.Durable, QueueGroup: b.QueueGroup, Replicas: b.Replicas,
	}.WithDefaults()
}

// OpenTransport starts what broker.mode asks for: nothing (direct: ingest
// appends to the log), an embedded NATS JetStream server under
// data_dir/nats, or a connection to an external cluster. withPipeline
// says whether this process also consumes (serve and ingest do; a
// publish-only front end would not).
func OpenTransport(ctx context.Context, cfg config.Config, store *storage.Storage, withPipeline bool, registry prometheus.Registerer, log *slog.Logger) (*Transport, error) {
	t := &Transport{}
	if cfg.Broker.Mode == "direct" {
		log.Warn("broker.mode is direct: HTTP ingest appends to the log synchronously, no broker in between")
		t.Sink = ingest.LogSink{Log: store.Events}
		return t, nil
	}
	bcfg := BrokerConfig(cfg)
	if cfg.Broker.Mode == "embedded" {
		emb, err := broker.StartEmbedded(ctx, broker.EmbeddedConfig{Dir: filepath.Join(cfg.DataDir, "nats")}, log)
		if err != nil {
			return nil, fmt.Errorf("start embedded NATS: %w", err)
		}
		t.closers = append(t.closers, emb.Shutdown)
		bcfg.URLs = []string{emb.ClientURL()}
	}
	fail := func(err error) (*Transport, error) {
		t.Close()
		return nil, err
	}
	// AckWait is how long a message delivered to a process that died waits
	// before it is delivered again: the recovery time after a crash. A batch
	// still being retried past it is delivered twice, which is harmless (the
	// log is idempotent), so AckWait stays short and attempts are bounded.
	pcfg := pipeline.Config{Topic: bcfg.Subject, PoisonTopic: bcfg.PoisonSubject, HandlerTimeout: 20 * time.Second,
		Retry: pipeline.Retry{MaxRetries: 2, MaxInterval: 5 * time.Second}}
	if cfg.Broker.Mode == "embedded" {
		bcfg.AckWait = 30 * time.Second
	}
	if err := broker.EnsureStream(ctx, bcfg); err != nil {
		return fail(fmt.Errorf("ensure stream %s: %w", bcfg.Stream, err))
	}
	pub, err := broker.NewPublisher(bcfg, log)
	if err != nil {
		return fail(err)
	}
	t.closers = append([]func(){func() { _ = pub.Close() }}, t.closers...)
	sink := broker.NewSink(pub, bcfg.Subject, store.Events)
	if cfg.Broker.Mode == "embedded" {
		// The embedded server takes 8 MiB messages: one request becomes one
		// message and one append (measured: 1,000-event appends drain at
		// ~19k events/s, 10,000-event ones far faster).
		sink.MaxMessageBytes, sink.MaxMessageEvents = broker.EmbeddedMaxMessageBytes, 10_000
	}
	t.Sink = sink
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
