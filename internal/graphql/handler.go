package graphql

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/graphql/generated"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/server"
)

// Routes.
const (
	Path           = "/graphql"
	PlaygroundPath = "/graphql/play"
)

// Costs in the complexity limit beyond one per field: reading a person
// (their identity walk and every event) and folding a tenant's data map
// cost more than anything they return, so they count extra; a page of a
// list costs its selection once per pageUnit items asked for.
const (
	personReadCost = 50
	tenantReadCost = 20
	pageUnit       = 25
)

// Handler serves GraphQL over HTTP. Mount it behind authentication (Mount
// does): resolvers read the principal from the request context.
type Handler struct {
	cfg     Config
	srv     *handler.Server
	metrics *metrics
	res     *resolver
	log     *slog.Logger
}

// New builds the handler. Its metrics are registered on reg.
func New(deps Deps, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		return nil, fmt.Errorf("graphql: a logger is required")
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	res := &resolver{deps: deps, log: log, now: now, expose: newExposure(deps.Taxonomy)}
	gc := generated.Config{Resolvers: res, Directives: generated.DirectiveRoot{HasRole: hasRole}, Complexity: complexity()}
	srv := handler.New(generated.NewExecutableSchema(gc))
	// POST with a JSON body, and GET for queries (the transport refuses
	// mutations over GET: a link must never change anything). No
	// websockets, multipart or form posts.
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	p := presenter{log: log}
	srv.SetErrorPresenter(p.present)
	srv.SetRecoverFunc(p.recover)
	srv.SetDisableSuggestion(!cfg.Dev) // suggestions would spell out the schema
	if cfg.Dev {
		srv.Use(extension.Introspection{})
	}
	srv.Use(guard{dev: cfg.Dev})
	srv.Use(&limits{depth: cfg.DepthLimit, complexity: extension.FixedComplexityLimit(cfg.ComplexityLimit)})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if st := stateFrom(ctx); st != nil {
			st.markExecuted()
		}
		return next(ctx)
	})
	srv.AroundFields(m.aroundFields)
	return &Handler{cfg: cfg, srv: srv, metrics: m, res: res, log: log}, nil
}

// ServeHTTP serves one GraphQL request with its own timeout, loaders and
// status.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
	defer cancel()
	st := &requestState{}
	ctx = withState(ctx, st)
	st.loaders = h.res.newLoaders(ctx)
	r = r.WithContext(ctx)
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	}
	w.Header().Set("Cache-Control", "no-store") // answers hold personal data
	h.srv.ServeHTTP(&statusWriter{ResponseWriter: w, st: st}, r)
	if _, executed, code := st.snapshot(); !executed {
		if code == "" {
			code = CodeBadUserInput // e.g. an unsupported content type
		}
		h.metrics.observe(refusedOperation, outcomeOf(code), time.Since(start))
	}
}

// Playground serves GraphiQL against Path. Dev mode only: Mount does not
// mount it otherwise.
func (h *Handler) Playground() http.Handler {
	return playground.Handler("Custody GraphQL", Path)
}

// Mount registers the handler on srv behind authn: POST and GET /graphql
// for tokens with role analyst or admin (401 UNAUTHENTICATED without a
// valid token, 403 FORBIDDEN for a publisher, both GraphQL error
// responses), and in dev mode GraphiQL at /graphql/play.
func Mount(srv *server.Server, authn *auth.Authenticator, h *Handler) {
	protected := protect(authn, h)
	srv.Handle("POST "+Path, protected)
	srv.Handle("GET "+Path, protected)
	if h.cfg.Dev {
		// The page is static; its requests go to /graphql with their token.
		srv.Handle("GET "+PlaygroundPath, h.Playground())
	}
}

// complexity prices the fields that cost more than one.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	page := func(child int, first *int, def int) int {
		n := def
		if first != nil {
			n = max(*first, 0)
		}
		return child * max(1, (n+pageUnit-1)/pageUnit)
	}
	c.Query.Subject = func(child int, _ string, _ *string, _, _ *time.Time, _ string) int {
		return personReadCost + child
	}
	c.Query.Lineage = func(child int, _ string, _, _, _ *string, _ *lineage.Direction, _, _ *int, _ *time.Time, _ string) int {
		return personReadCost + child
	}
	c.Query.RightToKnow = func(child int, _ string, _ *string, _, _ *time.Time, _ *requests.Jurisdiction, _ string) int {
		return personReadCost + child
	}
	c.Query.DataMap = func(child int, _ *string, _, _ *time.Time) int { return tenantReadCost + child }
	c.Query.Recipients = func(child int, _ *string, _, _ *time.Time) int { return tenantReadCost + child }
	c.Query.Recipient = func(child int, _ string, _, _ *string, _, _ *time.Time) int { return tenantReadCost + child }
	c.Query.RejectedEvents = func(child int, _ *string, _ *rejected.Status, _, _ *time.Time, first *int, _ *string) int {
		return page(child, first, defaultRejectedPage)
	}
	c.Mutation.RevealValue = func(child int, _ string, _ *string, _, _ string, _ *uuid.UUID, _ string) int {
		return personReadCost + child
	}
	c.Subject.Events = func(child int, first *int, _ *string) int { return page(child, first, defaultEventsPage) }
	return c
}
