package node

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/admission"
	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/graphql"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/reportapi"
	"github.com/custodyhq/custody/internal/requests"
)

// readGate is the read side's admission of reads of personal data
// (graphql.reads): one Limiter for the whole process, shared by GraphQL and
// report downloads, so that together they never run more than
// max_concurrent reads beside the pipeline. An admitted read's SELECTs run
// with ClickHouse's max_threads and priority of graphql.reads.
type readGate struct {
	limiter  *admission.Limiter
	settings clickhouse.Settings
}

func newReadGate(cfg config.ReadsConfig, registry prometheus.Registerer) (readGate, error) {
	queued := config.DefaultReadsMaxQueued
	if cfg.MaxQueued != nil {
		queued = *cfg.MaxQueued
	}
	l, err := admission.New(admission.Config{MaxConcurrent: cfg.MaxConcurrent, MaxQueued: queued, MaxWait: cfg.MaxWait}, registry)
	if err != nil {
		return readGate{}, err
	}
	return readGate{limiter: l, settings: clickhouse.Settings{"max_threads": cfg.MaxThreads, "priority": cfg.Priority}}, nil
}

// enter waits for a turn to read (see admission.Limiter.Acquire) and
// returns the context to read with; release ends the turn.
func (g readGate) enter(ctx context.Context) (context.Context, func(), error) {
	release, err := g.limiter.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	return clickhouse.WithSelectSettings(ctx, g.settings), release, nil
}

// admittedInventory admits the inventory's reads of a person; the tenant
// reads (DataMap, Recipients) pass through.
type admittedInventory struct {
	graphql.Inventory
	gate readGate
}

func (a admittedInventory) Subject(ctx context.Context, tenant string, id identity.Identifier, w projections.Window) (inventory.Subject, error) {
	ctx, release, err := a.gate.enter(ctx)
	if err != nil {
		return inventory.Subject{}, err
	}
	defer release()
	return a.Inventory.Subject(ctx, tenant, id, w)
}

func (a admittedInventory) Lineage(ctx context.Context, tenant string, id identity.Identifier, req inventory.LineageRequest) (lineage.Subgraph, inventory.Person, error) {
	ctx, release, err := a.gate.enter(ctx)
	if err != nil {
		return lineage.Subgraph{}, inventory.Person{}, err
	}
	defer release()
	return a.Inventory.Lineage(ctx, tenant, id, req)
}

// admittedAudit admits reads of a person's access log. Record passes
// through, never refused: a read that happened must be recorded.
type admittedAudit struct {
	graphql.Audit
	gate readGate
}

func (a admittedAudit) For(ctx context.Context, tenant string, id identity.Identifier) ([]audit.Entry, error) {
	ctx, release, err := a.gate.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return a.Audit.For(ctx, tenant, id)
}

// admittedRights admits right-to-know reports; the request queue's
// commands pass through (Complete builds a report too, but it is an
// admin's step of a request, rare, and not refused).
type admittedRights struct {
	graphql.Rights
	gate readGate
}

func (a admittedRights) RightToKnow(ctx context.Context, tenant string, id identity.Identifier, from, to time.Time, j requests.Jurisdiction) (report.Report, error) {
	ctx, release, err := a.gate.enter(ctx)
	if err != nil {
		return report.Report{}, err
	}
	defer release()
	return a.Rights.RightToKnow(ctx, tenant, id, from, to, j)
}

// admittedDownloads admits report downloads (GET /v1/requests/{id}/report).
type admittedDownloads struct {
	rights reportapi.Rights
	gate   readGate
}

func (a admittedDownloads) Download(ctx context.Context, tenant, id string) (report.Report, requests.Request, bool, error) {
	ctx, release, err := a.gate.enter(ctx)
	if err != nil {
		return report.Report{}, requests.Request{}, false, err
	}
	defer release()
	return a.rights.Download(ctx, tenant, id)
}
