package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/pipeline"
	"github.com/custodyhq/custody/internal/storage"
)

// transport is the broker side of a process: the sink HTTP ingest hands
// events to, and the pipeline that moves them into the log.
type transport struct {
	sink     ingest.Sink
	pipeline *pipeline.Pipeline // nil in direct mode
	closers  []func()           // in the order they must run
}

// brokerConfig maps the configuration onto the broker's.
func brokerConfig(cfg config.Config) broker.Config {
	b := cfg.Broker
	return broker.Config{
		URLs: b.URLs, CredsFile: b.CredsFile, NKeyFile: b.NKeyFile,
		TLS:    broker.TLS{CAFile: b.CAFile, CertFile: b.CertFile, KeyFile: b.KeyFile},
		Stream: b.Stream, Subject: b.Subject, Durable: b.Durable, QueueGroup: b.QueueGroup, Replicas: b.Replicas,
	}.WithDefaults()
}

// openTransport starts what broker.mode asks for: nothing (direct: ingest
// appends to the log), an embedded NATS JetStream server under
// data_dir/nats, or a connection to an external cluster. withPipeline
// says whether this process also consumes (serve and ingest do; a
// publish-only front end would not).
func openTransport(ctx context.Context, cfg config.Config, store *storage.Storage, withPipeline bool, registry prometheus.Registerer, log *slog.Logger) (*transport, error) {
	t := &transport{}
	if cfg.Broker.Mode == "direct" {
		log.Warn("broker.mode is direct: HTTP ingest appends to the log synchronously, no broker in between")
		t.sink = ingest.LogSink{Log: store.Events}
		return t, nil
	}
	bcfg := brokerConfig(cfg)
	if cfg.Broker.Mode == "embedded" {
		emb, err := broker.StartEmbedded(ctx, broker.EmbeddedConfig{Dir: filepath.Join(cfg.DataDir, "nats")}, log)
		if err != nil {
			return nil, fmt.Errorf("start embedded NATS: %w", err)
		}
		t.closers = append(t.closers, emb.Shutdown)
		bcfg.URLs = []string{emb.ClientURL()}
		log.Info("embedded NATS JetStream ready", "dir", filepath.Join(cfg.DataDir, "nats"))
	}
	fail := func(err error) (*transport, error) {
		t.Close()
		return nil, err
	}
	if err := broker.EnsureStream(ctx, bcfg); err != nil {
		return fail(fmt.Errorf("ensure stream %s: %w", bcfg.Stream, err))
	}
	pub, err := broker.NewPublisher(bcfg, log)
	if err != nil {
		return fail(err)
	}
	t.closers = append([]func(){func() { _ = pub.Close() }}, t.closers...)
	t.sink = broker.NewSink(pub, bcfg.Subject, store.Events)
	if !withPipeline {
		return t, nil
	}
	sub, err := broker.NewSubscriber(bcfg, log)
	if err != nil {
		return fail(err)
	}
	t.closers = append([]func(){func() { _ = sub.Close() }}, t.closers...)
	t.pipeline, err = pipeline.New(pipeline.Config{Topic: bcfg.Subject, PoisonTopic: bcfg.PoisonSubject}, sub, pub, store.Events, log, registry)
	if err != nil {
		return fail(err)
	}
	return t, nil
}

// Run runs the pipeline until ctx ends (returns at once in direct mode).
func (t *transport) Run(ctx context.Context) error {
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
func (t *transport) Close() {
	for _, c := range t.closers {
		c()
	}
	t.closers = nil
}
