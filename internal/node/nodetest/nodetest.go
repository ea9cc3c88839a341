// Package nodetest starts the parts of a Custody node that tests of whole
// ingest paths share (ingest replicas on a real broker and log). It fakes
// nothing.
package nodetest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/storage"
)

// Replica is one ingest process: its transport (the Sink HTTP ingest
// hands events to) with the pipeline running, and its metrics.
type Replica struct {
	Transport *node.Transport
	Registry  *prometheus.Registry
}

// StartReplica opens a transport as cmd/ingest does (node.OpenTransport
// with the pipeline) and runs its pipeline until the test ends; a pipeline
// that stops with an error fails the test.
func StartReplica(ctx context.Context, t testing.TB, cfg config.Config, store *storage.Storage, log *slog.Logger) *Replica {
	t.Helper()
	reg := prometheus.NewRegistry()
	tr, err := node.OpenTransport(ctx, cfg, store, true, reg, log)
	if err != nil {
		t.Fatalf("open transport: %v", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}
		tr.Close()
	})
	return &Replica{Transport: tr, Registry: reg}
}
