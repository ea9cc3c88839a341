package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/server"
	"github.com/custodyhq/custody/internal/storage"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// Role is what a process serves besides ingest.
type Role int

// Roles.
const (
	// RoleSingleNode serves ingest and the read API (GraphQL, report
	// downloads) on one port: `custody serve`.
	RoleSingleNode Role = iota
	// RoleIngest serves ingest only: cmd/ingest replicas.
	RoleIngest
)

// Run runs a Custody process on cfg until ctx ends: storage (migrated),
// the event transport with its pipeline, and the HTTP API (POST /v1/events,
// and for RoleSingleNode /graphql and report downloads, on one port) with
// /healthz, /readyz and /metrics. Shutdown order: HTTP drains, then the
// pipeline finishes the batches it holds, then the broker, then storage.
func Run(ctx context.Context, cfg config.Config, version string, role Role) error {
	log := cfg.Logger(os.Stderr)
	start := time.Now()
	log.Info("starting custody", "version", version, "data_dir", cfg.DataDir, "transport", cfg.ClickHouse.Transport, "dev", cfg.Dev)
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE: anonymous access to POST /v1/events and /graphql (as admin) is allowed, with introspection and GraphiQL at /graphql/play; never run production like this")
	}
	store, err := storage.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close storage", "err", err)
		}
		log.Info("storage closed")
	}()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tr, err := OpenTransport(ctx, cfg, store, true, registry, log)
	if err != nil {
		return err
	}
	defer tr.Close()
	// The pipeline stops after the HTTP server: requests in flight are
	// published first, then the pipeline finishes the batches it holds.
	ctx, shutdown := context.WithCancel(ctx)
	defer shutdown()
	pipeCtx, stopPipe := context.WithCancel(context.WithoutCancel(ctx))
	pipeDone := make(chan error, 1)
	go func() {
		err := tr.Run(pipeCtx)
		if err != nil && pipeCtx.Err() == nil {
			// Without a pipeline nothing reaches the log: stop serving.
			log.Error("pipeline failed; shutting down", "err", err)
			shutdown()
		}
		pipeDone <- err
	}()
	defer func() {
		stopPipe()
		<-pipeDone
		log.Info("pipeline stopped")
	}()
	srv, err := newServer(cfg, store, registry, log, tr.Checks()...)
	if err != nil {
		return err
	}
	if err := MountAPI(srv, cfg, store, tr, role, registry, log); err != nil {
		return err
	}
	return serve(ctx, srv, "custody ready", start, log)
}

// newServer builds the HTTP server of a process: probes (ClickHouse must
// answer for /readyz, and the other checks pass), /metrics on registry.
func newServer(cfg config.Config, store *storage.Storage, registry *prometheus.Registry, log *slog.Logger, checks ...server.Check) (*server.Server, error) {
	return server.New(server.Config{
		Addr: cfg.HTTP.Addr, ReadTimeout: cfg.HTTP.ReadTimeout, WriteTimeout: cfg.HTTP.WriteTimeout,
		ShutdownTimeout: cfg.HTTP.ShutdownTimeout,
	}, log, registry, append([]server.Check{{Name: "clickhouse", Run: store.Conn.Ping}}, checks...)...)
}

// serve listens, logs that the process is ready, and serves until ctx ends.
func serve(ctx context.Context, srv *server.Server, ready string, start time.Time, log *slog.Logger) error {
	bound, err := srv.Listen()
	if err != nil {
		return err
	}
	log.Info(ready, "addr", bound.String(), "startup", time.Since(start).Round(time.Millisecond))
	if err := srv.Serve(ctx); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("shutting down")
	return nil
}

// MountAPI registers the API handlers of role on srv: POST /v1/events
// handing validated events to tr's sink (503 while tr says the log cannot
// be written), and for RoleSingleNode the read API
// (GraphQL, report downloads) behind its read admission. Run uses it; so
// do tests and benchmarks that need the storage handle in their own
// process.
func MountAPI(srv *server.Server, cfg config.Config, store *storage.Storage, tr *Transport, role Role, registry *prometheus.Registry, log *slog.Logger) error {
	tax, err := LoadTaxonomy(cfg)
	if err != nil {
		return err
	}
	h, err := ingest.NewHandler(ingest.Config{MaxBodyBytes: cfg.Ingest.MaxBodyBytes, MaxEvents: cfg.Ingest.MaxEvents}, event.Options{Vocabulary: tax, PhoneRegions: cfg.PhoneRegions()}, tr.Sink, log, registry)
	if err != nil {
		return err
	}
	h.RequireWritable(tr.Writable)
	h.KeepRejected(keepRejected{store: tr.rejected, stage: rejected.StageHTTP})
	authn, err := authenticator(cfg, log)
	if err != nil {
		return err
	}
	srv.Handle("POST /v1/events", authn.Require(h, auth.Publisher))
	if role == RoleIngest {
		return nil
	}
	return mountReadAPI(srv, cfg, store, tax, authn, registry, log)
}

// authenticator builds the API's token check: the configured tokens, or in
// their absence (outside dev mode) an admin and a publisher token generated
// into data_dir/tokens, whose files are logged, never their contents.
func authenticator(cfg config.Config, log *slog.Logger) (*auth.Authenticator, error) {
	tokens := cfg.Auth.Tokens
	if len(tokens) == 0 && !cfg.Dev {
		var paths []string
		var err error
		tokens, paths, err = auth.Bootstrap(filepath.Join(cfg.DataDir, "tokens"))
		if err != nil {
			return nil, err
		}
		log.Warn("no auth.tokens configured: using generated tokens; send them as Authorization: Bearer <file contents>",
			"admin_token_file", paths[0], "publisher_token_file", paths[1])
	}
	return auth.New(tokens, cfg.Dev)
}

// keepRejected adapts the rejected-event store to the ports of HTTP ingest
// and the pipeline, which keep what they reject at their stage.
type keepRejected struct {
	store *rejected.Store
	stage string
}

// Keep stores the rejections. A full store is not a failure of the
// request: the store kept what fitted, counted and logged the rest
// (rejected.ErrFull), and the producer is answered with every error.
func (k keepRejected) Keep(ctx context.Context, results []event.Result) error {
	err := k.store.Put(ctx, rejected.FromResults(results, k.stage, time.Now()))
	if errors.Is(err, rejected.ErrFull) {
		return nil
	}
	return err
}

// LoadTaxonomy loads the built-in taxonomy and each tenant's extension file.
func LoadTaxonomy(cfg config.Config) (*taxonomy.Taxonomy, error) {
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		return nil, fmt.Errorf("load taxonomy: %w", err)
	}
	for tenant, path := range cfg.Taxonomy.Extensions {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("taxonomy extension for tenant %s: %w", tenant, err)
		}
		ext, err := taxonomy.LoadExtension(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("taxonomy extension %s (tenant %s): %w", path, tenant, err)
		}
		if tax, err = tax.WithExtension(tenant, ext); err != nil {
			return nil, fmt.Errorf("taxonomy extension %s (tenant %s): %w", path, tenant, err)
		}
	}
	return tax, nil
}
