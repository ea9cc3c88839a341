package node

import (
	"fmt"
	"time"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/config"
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
// LoadTaxonomy loaded (nil: load it here).
func NewServices(cfg config.Config, st *storage.Storage, tax *taxonomy.Taxonomy) (Services, error) {
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
	return Services{
		Taxonomy: tax,
		Audit:    audit.New(st.Events, st.Events, st.Inventory, st.Hasher, nil),
		Rights:   rs,
	}, nil
}
