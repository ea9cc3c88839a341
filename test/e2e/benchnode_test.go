package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/pipeline/pipelinetest"
	"github.com/custodyhq/custody/internal/server"
	"github.com/custodyhq/custody/internal/storage"
)

// benchNode is a single node wired as `custody serve` wires it, from the
// same exported parts: storage, node.OpenTransport (embedded NATS JetStream,
// the group-commit sink and the pipeline), the production HTTP server and
// node.MountAPI (POST /v1/events behind authentication and, when asked,
// /graphql and report downloads behind the read admission). It is rebuilt here rather than started with
// node.Run because the benchmarks need the storage handle in the same
// process (chDB serves one data directory per process) for their raw
// baselines, and the pipeline's counters for readable times.
type benchNode struct {
	URL      string // http://127.0.0.1:port
	Store    *storage.Storage
	Registry *prometheus.Registry
	Client   *http.Client
	stop     []func()
}

// startBenchNode starts a node on a fresh data directory in dev mode
// (anonymous requests are let through as admin, as with `make run`), with
// GraphQL mounted if withGraphQL. It is stopped when the benchmark ends.
func startBenchNode(b *testing.B, withGraphQL bool) *benchNode {
	b.Helper()
	chtest.RequireLibrary(b)
	ctx := context.Background()
	dir := b.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Load("", []string{"CUSTODY_DATA_DIR=" + dir, "CUSTODY_DEV=true", "CUSTODY_HTTP_ADDR=127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	if cfg.Broker.Mode != "embedded" {
		b.Fatalf("broker.mode is %q by default, want embedded", cfg.Broker.Mode)
	}
	n := &benchNode{Registry: prometheus.NewRegistry()}
	b.Cleanup(n.close)
	if n.Store, err = storage.Open(ctx, cfg, log); err != nil {
		b.Fatal(err)
	}
	n.stop = append(n.stop, func() { _ = n.Store.Close() })
	tr, err := node.OpenTransport(ctx, cfg, n.Store, true, n.Registry, log)
	if err != nil {
		b.Fatal(err)
	}
	n.stop = append(n.stop, tr.Close)
	runCtx, stopPipeline := context.WithCancel(ctx)
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- tr.Run(runCtx) }()
	n.stop = append(n.stop, func() {
		stopPipeline()
		if err := <-pipeDone; err != nil {
			b.Errorf("pipeline: %v", err)
		}
	})

	srv, err := server.New(server.Config{Addr: cfg.HTTP.Addr, ReadTimeout: cfg.HTTP.ReadTimeout, WriteTimeout: cfg.HTTP.WriteTimeout,
		ShutdownTimeout: cfg.HTTP.ShutdownTimeout}, log, n.Registry, server.Check{Name: "clickhouse", Run: n.Store.Conn.Ping})
	if err != nil {
		b.Fatal(err)
	}
	role := node.RoleIngest
	if withGraphQL {
		role = node.RoleSingleNode
	}
	if err := node.MountAPI(srv, cfg, n.Store, tr, role, n.Registry, log); err != nil {
		b.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		b.Fatal(err)
	}
	n.URL = "http://" + addr.String()
	srvCtx, stopServer := context.WithCancel(ctx)
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(srvCtx) }()
	// The server drains before the pipeline stops, as in node.Run.
	n.stop = append(n.stop, func() {
		stopServer()
		if err := <-srvDone; err != nil {
			b.Errorf("http server: %v", err)
		}
	})
	// Clients keep their connections, as services sending events do: the
	// default two idle connections per host would make most of 50
	// concurrent clients reconnect for every request.
	n.Client = &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}}
	n.stop = append(n.stop, n.Client.CloseIdleConnections)
	return n
}

// close stops the node in node.Run's order: HTTP, pipeline, broker,
// storage (the reverse of starting).
func (n *benchNode) close() {
	for i := len(n.stop) - 1; i >= 0; i-- {
		n.stop[i]()
	}
	n.stop = nil
}

// stored is the pipeline's count of events it stored since the node
// started, read from its metrics registry in memory (a query to the engine
// would compete with the pipeline it measures).
func (n *benchNode) stored(b *testing.B) float64 {
	return pipelinetest.Counter(b, n.Registry, storedCounter, "outcome", "stored")
}

// postEvents posts one NDJSON body and fails unless every event was
// accepted (HTTP 200).
func (n *benchNode) postEvents(body []byte) error {
	resp, err := n.Client.Post(n.URL+"/v1/events", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /v1/events: %d %s", resp.StatusCode, bytes.TrimSpace(answer))
	}
	return nil
}

// envInt reads an integer setting of a benchmark from the environment.
func benchEnvInt(b *testing.B, name string, def, lo, hi int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		b.Fatalf("%s=%q: want an integer %d..%d", name, s, lo, hi)
	}
	return v
}
