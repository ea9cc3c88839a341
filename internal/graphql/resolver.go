package graphql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/graphql/generated"
	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// Deps are the services the resolvers translate to.
type Deps struct {
	Inventory Inventory
	Audit     Audit
	Rejected  Rejected
	Rights    Rights
	// Lifecycle computes requests' deadlines and records. It must be the
	// rights queue's own (rights.Service.Lifecycle()), so deadlines are
	// counted in the same time zone with the same holidays.
	Lifecycle *requests.Lifecycle
	// Taxonomy classifies data categories for each tenant (with its
	// extension): values of never-disclose categories are masked in every
	// read (see mask.go). It must be the one events were validated with.
	Taxonomy *taxonomy.Taxonomy
	// PhoneRegions are the tenants' default phone regions
	// (tenants.<name>.default_phone_region): an identifier asked for as a
	// national phone number is read in its tenant's region, as the events
	// were.
	PhoneRegions map[string]string
	// Now is the clock of deadlines; default time.Now.
	Now func() time.Time
}

// Validate names the first missing dependency.
func (d Deps) Validate() error {
	switch {
	case d.Inventory == nil:
		return errors.New("graphql: Deps.Inventory is required")
	case d.Audit == nil:
		return errors.New("graphql: Deps.Audit is required: reads of personal data must be recorded")
	case d.Rejected == nil:
		return errors.New("graphql: Deps.Rejected is required")
	case d.Rights == nil:
		return errors.New("graphql: Deps.Rights is required")
	case d.Lifecycle == nil:
		return errors.New("graphql: Deps.Lifecycle is required (rights.Service.Lifecycle())")
	case d.Taxonomy == nil:
		return errors.New("graphql: Deps.Taxonomy is required: never-disclose values must be masked")
	}
	return nil
}

// resolver is the root of every resolver: the dependencies and the log.
type resolver struct {
	deps   Deps
	log    *slog.Logger
	now    func() time.Time
	expose exposure
}

var _ generated.ResolverRoot = (*resolver)(nil)

func (r *resolver) Query() generated.QueryResolver       { return queryResolver{r} }
func (r *resolver) Mutation() generated.MutationResolver { return mutationResolver{r} }
func (r *resolver) Subject() generated.SubjectResolver   { return subjectResolver{r} }
func (r *resolver) Report() generated.ReportResolver     { return reportResolver{r} }
func (r *resolver) Request() generated.RequestResolver   { return requestResolver{r} }
func (r *resolver) Decision() generated.DecisionResolver { return decisionResolver{r} }
func (r *resolver) RequestRecord() generated.RequestRecordResolver {
	return requestRecordResolver{r}
}
func (r *resolver) ReplayResult() generated.ReplayResultResolver { return replayResultResolver{r} }

type queryResolver struct{ *resolver }
type mutationResolver struct{ *resolver }

// tenantOf is the tenant argument, or the default tenant.
func tenantOf(t *string) string {
	if t == nil || strings.TrimSpace(*t) == "" {
		return event.DefaultTenant
	}
	return strings.TrimSpace(*t)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// parseIdentifier reads an identifier argument (kind:value or
// external:namespace:value). The error names the argument, never echoing
// more of the value than the client sent.
func (r *resolver) parseIdentifier(arg, s, tenant string) (identity.Identifier, error) {
	id, err := identity.ParseIn(strings.TrimSpace(s), r.deps.PhoneRegions[tenant])
	if err != nil {
		var idErr *identity.Error
		if errors.As(err, &idErr) {
			return identity.Identifier{}, badInput(arg, "%s: %s (write kind:value, e.g. email:jane@example.com, or external:namespace:value)", idErr.Field, idErr.Reason)
		}
		return identity.Identifier{}, badInput(arg, "%v", err)
	}
	return id, nil
}

// needPurpose checks the stated purpose of a read of personal data.
func needPurpose(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", badInput("purpose", "state why you read this person's data (it is recorded in their access log)")
	}
	if len(p) > 500 {
		return "", badInput("purpose", "at most 500 characters, got %d", len(p))
	}
	return p, nil
}

// window reads [from, to) arguments.
func window(from, to *time.Time) (projections.Window, error) {
	w := projections.Window{From: deref(from), To: deref(to)}
	if !w.From.IsZero() && !w.To.IsZero() && !w.From.Before(w.To) {
		return w, badInput("to", "must be after from (%s), got %s", w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	return w, nil
}

// principal is who is asking. The HTTP layer authenticated them; a handler
// mounted without it has no principal and serves nothing.
func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return auth.Principal{}, newError(CodeUnauthenticated, "send Authorization: Bearer <token>")
	}
	return p, nil
}

// recordRead puts a read of a person's data on their access log. It runs
// after the read and before the answer: a read whose record fails is not
// answered.
func (r *resolver) recordRead(ctx context.Context, tenant string, id identity.Identifier, op, purpose string, found bool) error {
	return r.record(ctx, audit.Access{Tenant: tenant, Identifier: id, Operation: op, Purpose: purpose, Found: found})
}

// record puts a on the access log as read by the request's principal.
func (r *resolver) record(ctx context.Context, a audit.Access) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	a.Actor, a.Role = p.Name, string(p.Role)
	err = r.deps.Audit.Record(ctx, a)
	if err != nil {
		return fmt.Errorf("record the read in the access log: %w", err)
	}
	return nil
}

// subjectKey names one read of a person's record in a request.
type subjectKey struct {
	tenant   string
	id       identity.Identifier
	from, to int64 // UnixNano; 0 for an open bound
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

type requestKey struct{ tenant, id string }

// loaders are a request's dataloaders.
type loaders struct {
	subjects *loader[subjectKey, *model.Subject]
	requests *loader[requestKey, requests.Request]
}

// readParallelism bounds the reads one batch runs at once.
const readParallelism = 4

func (r *resolver) newLoaders(ctx context.Context) *loaders {
	return &loaders{
		// People are read one at a time by the port; a batch shares what
		// is asked twice (aliases, fragments) and overlaps the rest. A
		// record leaves here only as reads show it: masked.
		subjects: newLoader(ctx, func(ctx context.Context, keys []subjectKey) ([]*model.Subject, []error) {
			out := make([]*model.Subject, len(keys))
			errs := parallel(len(keys), readParallelism, func(i int) error {
				k := keys[i]
				w := projections.Window{}
				if k.from != 0 {
					w.From = time.Unix(0, k.from).UTC()
				}
				if k.to != 0 {
					w.To = time.Unix(0, k.to).UTC()
				}
				sub, err := r.deps.Inventory.Subject(ctx, k.tenant, k.id, w)
				if err != nil {
					return err
				}
				out[i], err = r.expose.maskSubject(sub)
				return err
			})
			return out, errs
		}),
		// Several requests of one tenant are one read of the queue.
		requests: newLoader(ctx, func(ctx context.Context, keys []requestKey) ([]requests.Request, []error) {
			out := make([]requests.Request, len(keys))
			errs := make([]error, len(keys))
			byTenant := map[string][]int{}
			for i, k := range keys {
				byTenant[k.tenant] = append(byTenant[k.tenant], i)
			}
			for tenant, idx := range byTenant {
				if len(idx) == 1 {
					out[idx[0]], errs[idx[0]] = r.deps.Rights.Get(ctx, tenant, keys[idx[0]].id)
					continue
				}
				all, err := r.deps.Rights.List(ctx, tenant)
				found := map[string]requests.Request{}
				for _, req := range all {
					found[req.ID] = req
				}
				for _, i := range idx {
					req, ok := found[keys[i].id]
					switch {
					case err != nil:
						errs[i] = err
					case !ok:
						errs[i] = fmt.Errorf("request %q: %w", keys[i].id, rights.ErrNotFound)
					default:
						out[i] = req
					}
				}
			}
			return out, errs
		}),
	}
}

// loadersFrom returns the request's loaders; a context without them (a
// resolver called outside Handler) gets fresh ones.
func (r *resolver) loadersFrom(ctx context.Context) *loaders {
	if st := stateFrom(ctx); st != nil && st.loaders != nil {
		return st.loaders
	}
	return r.newLoaders(ctx)
}
