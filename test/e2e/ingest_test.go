package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/pipeline"
	"github.com/custodyhq/custody/internal/storage"
	"github.com/custodyhq/custody/sdk"
)

func TestIngest_100kEventsThroughTheSDKWithDuplicatesAndARestartAreStoredOnce(t *testing.T) {
	chtest.RequireLibrary(t)
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Load("", []string{"CUSTODY_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	emb, err := broker.StartEmbedded(ctx, broker.EmbeddedConfig{Dir: filepath.Join(dir, "nats")}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	bcfg := emb.Config()
	if err := broker.EnsureStream(ctx, bcfg); err != nil {
		t.Fatal(err)
	}
	pub, err := broker.NewPublisher(bcfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	start := func() (stop func()) {
		sub, err := broker.NewSubscriber(bcfg, log)
		if err != nil {
			t.Fatal(err)
		}
		pcfg, err := node.PipelineConfig(cfg, store, store.Rejected(), bcfg.Subject, bcfg.PoisonSubject)
		if err != nil {
			t.Fatal(err)
		}
		p, err := pipeline.New(pcfg, sub, pub, store.Events, log, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(runCtx) }()
		return func() {
			cancel()
			if err := <-done; err != nil && runCtx.Err() == nil {
				t.Errorf("pipeline: %v", err)
			}
			_ = sub.Close()
		}
	}

	client, err := sdk.New(sdk.Config{Source: "e2e", Tenant: "acme", BatchSize: 1000, BufferSize: 20_000, FlushInterval: 100 * time.Millisecond},
		&sdk.BrokerTransport{Publisher: pub, Topic: bcfg.Subject})
	if err != nil {
		t.Fatal(err)
	}
	const total = 100_000
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var emitted []*sdk.Event
	emit := func(e *sdk.Event) {
		for {
			err := client.Emit(ctx, e)
			if err == nil {
				return
			}
			if err != sdk.ErrBufferFull {
				t.Fatalf("emit: %v", err)
			}
			time.Sleep(5 * time.Millisecond) // the buffer drains as batches are published
		}
	}
	stop := start()
	for i := 0; i < total; i++ {
		person := i % 5000
		e := sdk.Collected(sdk.Person(sdk.Email(fmt.Sprintf("p%d@example.com", person)), sdk.CustomerID(fmt.Sprintf("C-%d", person))),
			sdk.CollectedData{
				Elements: []sdk.Element{sdk.ElemValue("email", "contact.email", fmt.Sprintf("p%d@example.com", person))},
				Origin:   sdk.Origin{Kind: "consumer", Name: "checkout"}, Purposes: []string{"order_fulfilment"}, System: "orders-db",
			}, sdk.At(base.Add(time.Duration(i)*time.Second)))
		emit(e)
		emitted = append(emitted, e)
		if i%20 == 0 { // 5% duplicates: an earlier event again, same id
			emit(emitted[(i*7919)%len(emitted)])
		}
		if i == total/2 { // restart the pipeline mid-stream
			stop()
			stop = start()
		}
	}
	if err := client.Close(ctx); err != nil {
		t.Fatalf("sdk close: %v", err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	var n uint64
	for {
		if n, err = store.Events.Count(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		if n >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	if n != total {
		t.Fatalf("log holds %d distinct events, want %d", n, total)
	}
	// Readers see each event once.
	seen := logtest.VisibleOnce(t, store.Events)
	if len(seen) != total {
		t.Fatalf("scan saw %d events, want %d", len(seen), total)
	}
}
