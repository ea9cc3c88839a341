package node

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
	"github.com/custodyhq/custody/internal/storage"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// Services are the application services above storage that every role
// reading personal data needs: the audit trail of reads and the
// rights-request queue with its reports.
type Services struct {
	Taxonomy *taxonomy.Taxonomy
	Audit    *audit.Trail
	Rights   *rights.Service
}

// NewServices builds the services on opened storage, with the taxonomy
// LoadTaxonomy loaded (nil: load it here). registry, when not nil,
// receives the metrics of the access log's group commit.
func NewServices(cfg config.Config, st *storage.Storage, tax *taxonomy.Taxonomy, registry prometheus.Registerer) (Services, error) {
	if tax == nil {
		var err error
		if tax, err = LoadTaxonomy(cfg); err != nil {
			return Services{}, err
		}
	}
	loc, err := time.LoadLocation(cfg.Requests.TimeZone)
	if err != nil {
		return Services{}, fmt.Errorf("requests.time_zone: %w", err)
	}
	businesses := map[string]report.Business{}
	retention := map[string]report.Retention{}
	for tenant, t := range cfg.Tenants {
		businesses[tenant] = report.Business{Name: t.Name, Contact: t.Contact}
		retention[tenant] = report.Retention{Default: t.Retention.Default, Periods: t.Retention.Periods}
		if err := retention[tenant].Validate(tax, tenant); err != nil {
			return Services{}, fmt.Errorf("tenants.%s: %w", tenant, err)
		}
	}
	rs, err := rights.New(st.Events, st.Inventory, rights.Config{
		Lifecycle: requests.Config{Location: loc, Holidays: cfg.Requests.Holidays},
		Taxonomy:  tax, Businesses: businesses, Retention: retention,
	})
	if err != nil {
		return Services{}, err
	}
	log, err := accessLog(st, registry)
	if err != nil {
		return Services{}, err
	}
	return Services{
		Taxonomy: tax,
		Audit:    audit.New(log, st.Events, st.Inventory, st.Hasher, nil),
		Rights:   rs,
	}, nil
}

// accessLog is where the audit trail appends its records: the event log
// behind group commit, so that the reads of many people at once share
// appends (each a ClickHouse insert beside the pipeline's) instead of
// paying one each, and each read still proceeds only once its record is
// durable.
func accessLog(st *storage.Storage, registry prometheus.Registerer) (audit.Appender, error) {
	g, err := ingest.NewGroupCommit(ingest.LogSink{Log: st.Events}, ingest.GroupConfig{Name: "access_log", Concurrency: 1}, registry)
	if err != nil {
		return nil, err
	}
	return groupAppender{g}, nil
}

// groupAppender is a group commit over the log as an audit.Appender.
type groupAppender struct{ g *ingest.GroupCommit }

func (a groupAppender) Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error) {
	verdicts, err := a.g.Accept(ctx, events)
	if err != nil {
		return nil, err
	}
	out := make([]eventlog.Outcome, len(verdicts))
	for i, v := range verdicts {
		if v == ingest.Duplicate {
			out[i] = eventlog.Duplicate
		}
	}
	return out, nil
}
