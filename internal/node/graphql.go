package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/graphql"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/reportapi"
	"github.com/custodyhq/custody/internal/server"
	"github.com/custodyhq/custody/internal/storage"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// mountReadAPI builds the read API on the process's storage and mounts it
// on srv behind authn: GraphQL at /graphql, and the download of a completed
// request's report (admin only). Both admit their reads of personal data
// through one readGate (graphql.reads).
func mountReadAPI(srv *server.Server, cfg config.Config, store *storage.Storage, tax *taxonomy.Taxonomy, authn *auth.Authenticator,
	registry prometheus.Registerer, log *slog.Logger) error {
	svc, err := NewServices(cfg, store, tax, registry)
	if err != nil {
		return err
	}
	gate, err := newReadGate(cfg.GraphQL.Reads, registry)
	if err != nil {
		return fmt.Errorf("graphql.reads: %w", err)
	}
	srv.Handle(reportapi.Pattern, authn.Require(reportapi.New(admittedDownloads{rights: svc.Rights, gate: gate}, svc.Audit, log), auth.Admin))
	h, err := graphql.New(graphql.Deps{
		Inventory: admittedInventory{Inventory: store.Inventory, gate: gate},
		Audit:     admittedAudit{Audit: svc.Audit, gate: gate},
		Rejected: rejectedQueue{store: store.Rejected(), opts: event.Options{Vocabulary: svc.Taxonomy, PhoneRegions: cfg.PhoneRegions()},
			sink: ingest.LogSink{Log: store.Events}},
		Rights:       admittedRights{Rights: svc.Rights, gate: gate},
		Lifecycle:    svc.Rights.Lifecycle(),
		PhoneRegions: cfg.PhoneRegions(),
		Taxonomy:     svc.Taxonomy,
	}, graphql.Config{Dev: cfg.Dev, ComplexityLimit: cfg.GraphQL.ComplexityLimit, DepthLimit: cfg.GraphQL.DepthLimit,
		RequestTimeout: cfg.GraphQL.RequestTimeout, MaxBodyBytes: cfg.GraphQL.MaxBodyBytes}, log, registry)
	if err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	graphql.Mount(srv, authn, h)
	return nil
}

// rejectedQueue adapts the rejected-event store to the GraphQL port:
// replays validate with the process's taxonomy and append to the log
// directly, as `custody rejected replay` does, so a replayed event is in
// the log when the mutation answers.
type rejectedQueue struct {
	store *rejected.Store
	opts  event.Options
	sink  ingest.Sink
}

func (q rejectedQueue) List(ctx context.Context, f rejected.Filter) ([]rejected.Rejection, error) {
	return q.store.List(ctx, f)
}

func (q rejectedQueue) Replay(ctx context.Context, ids []uuid.UUID) (rejected.ReplayReport, error) {
	return q.store.Replay(ctx, ids, q.opts, q.sink)
}

// RunGraphQL runs the GraphQL role alone on cfg until ctx ends: storage
// (migrated), the GraphQL API with /healthz, /readyz and /metrics, and no
// broker or pipeline. It keeps no state of its own: run replicas against
// a ClickHouse server (clickhouse.transport: native) behind a load
// balancer.
func RunGraphQL(ctx context.Context, cfg config.Config, version string) error {
	log := cfg.Logger(os.Stderr)
	start := time.Now()
	log.Info("starting custody graphql", "version", version, "transport", cfg.ClickHouse.Transport, "dev", cfg.Dev)
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE: anonymous admin access to /graphql, introspection and GraphiQL at /graphql/play; never run production like this")
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
	srv, err := newServer(cfg, store, registry, log)
	if err != nil {
		return err
	}
	authn, err := authenticator(cfg, log)
	if err != nil {
		return err
	}
	if err := mountReadAPI(srv, cfg, store, nil, authn, registry, log); err != nil {
		return err
	}
	return serve(ctx, srv, "custody graphql ready", start, log)
}
