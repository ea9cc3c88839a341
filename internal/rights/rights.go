// Package rights runs the rights-request queue on the event log: it opens
// requests and takes them through their lifecycle (internal/requests) by
// appending request.* events, reads them back by replaying those events,
// and answers requests to know and for access with reports
// (internal/report) built from the person's record.
//
// A completed report is not stored: it holds decrypted personal data, and
// the log already holds everything it was built from. The completion event
// keeps the report's SHA-256; Download builds it again as of the completion
// and says whether it still matches (it does not once data in it has been
// erased or its keys shredded).
package rights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("no such request")
	// ErrNoReport: the request has no report (not a request to know or for
	// access, or not completed).
	ErrNoReport = errors.New("request has no report")
)

// Log is the event log (eventlog.Log).
type Log interface {
	// Append stores events idempotently by id; nil means durable.
	Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error)
	// OfTypes returns every event of tenant of the given types.
	OfTypes(ctx context.Context, tenant string, types ...event.Type) ([]event.Recorded, error)
	// InternalByIdentifiers returns every internal event (request.*,
	// access.*) of tenant carrying any of ids, in time order; never a
	// person's ordinary events.
	InternalByIdentifiers(ctx context.Context, tenant string, ids ...identity.Identifier) ([]event.Recorded, error)
}

// People reads people's records (inventory.Service).
type People interface {
	Subject(ctx context.Context, tenant string, id identity.Identifier, w projections.Window) (inventory.Subject, error)
	SubjectOf(ctx context.Context, tenant string, ref identity.Ref, w projections.Window) (inventory.Subject, error)
}

// Config configures a Service.
type Config struct {
	Lifecycle requests.Config
	// Taxonomy names categories and purposes in reports. Required.
	Taxonomy *taxonomy.Taxonomy
	// Businesses and Retention, by tenant, fill reports' sender and
	// retention periods.
	Businesses map[string]report.Business
	Retention  map[string]report.Retention
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service is the rights-request queue. It is safe for concurrent use; two
// commands racing on one request may both be accepted (the replay then
// keeps the one that applies first and reports the other).
type Service struct {
	lc     *requests.Lifecycle
	log    Log
	people People
	cfg    Config
}

// New returns a Service.
func New(log Log, people People, cfg Config) (*Service, error) {
	if cfg.Taxonomy == nil {
		return nil, errors.New("rights: Config.Taxonomy is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	lc, err := requests.NewLifecycle(cfg.Lifecycle)
	if err != nil {
		return nil, err
	}
	return &Service{lc: lc, log: log, people: people, cfg: cfg}, nil
}

// Lifecycle returns the lifecycle rules (deadlines, statuses, records).
func (s *Service) Lifecycle() *requests.Lifecycle { return s.lc }

func tenantOr(t string) string {
	if t == "" {
		return event.DefaultTenant
	}
	return t
}

// stored is the tenant's requests with the identifiers each was opened with.
type stored struct {
	reqs []requests.Request
	refs map[string][]identity.Ref // request id → identifiers of request.opened
}

// load reads tenant's requests: all of them, or only the one named id.
func (s *Service) load(ctx context.Context, tenant string, id ...string) (stored, error) {
	var recs []event.Recorded
	var err error
	if len(id) == 1 {
		// Every event of a request carries its request identifier.
		recs, err = s.log.InternalByIdentifiers(ctx, tenant, requests.RequestIdentifier(id[0]))
	} else {
		recs, err = s.log.OfTypes(ctx, tenant, requestTypes()...)
	}
	if err != nil {
		return stored{}, err
	}
	events := make([]*event.Event, len(recs))
	refs := map[string][]identity.Ref{}
	for i, r := range recs {
		events[i] = r.Event
		if d, ok := r.Event.Data.(*event.Request); ok && r.Event.Type == event.TypeRequestOpened {
			refs[d.RequestID] = r.Identifiers
		}
	}
	// Replay leaves out events that do not apply (two racing commands) and
	// reports them; the requests it returns are still right.
	reqs, _ := s.lc.Replay(events)
	return stored{reqs: reqs, refs: refs}, nil
}

func requestTypes() []event.Type {
	var out []event.Type
	for _, t := range event.InternalTypes() {
		if t != event.TypeAccessRecorded {
			out = append(out, t)
		}
	}
	return out
}

// List returns tenant's requests by receipt.
func (s *Service) List(ctx context.Context, tenant string) ([]requests.Request, error) {
	st, err := s.load(ctx, tenantOr(tenant))
	return st.reqs, err
}

func (st stored) get(id string) (requests.Request, bool) {
	for _, r := range st.reqs {
		if r.ID == id {
			return r, true
		}
	}
	return requests.Request{}, false
}

// Get returns one request.
func (s *Service) Get(ctx context.Context, tenant, id string) (requests.Request, error) {
	r, _, err := s.one(ctx, tenantOr(tenant), id)
	return r, err
}

// one reads one request and the identifiers it was opened with.
func (s *Service) one(ctx context.Context, tenant, id string) (requests.Request, []identity.Ref, error) {
	// An id no request can have is the caller's mistake, said as such,
	// not a failed lookup (the log would refuse it as an identifier).
	if err := requests.ValidateID(id); err != nil {
		return requests.Request{}, nil, err
	}
	st, err := s.load(ctx, tenant, id)
	if err != nil {
		return requests.Request{}, nil, err
	}
	r, ok := st.get(id)
	if !ok {
		return requests.Request{}, nil, fmt.Errorf("request %q: %w", id, ErrNotFound)
	}
	return r, st.refs[id], nil
}

func (s *Service) append(ctx context.Context, e *event.Event) error {
	if _, err := s.log.Append(ctx, []*event.Event{e}); err != nil {
		return fmt.Errorf("record %s: %w", e.Type, err)
	}
	return nil
}

func (s *Service) act(a requests.Act) requests.Act {
	if a.At.IsZero() {
		a.At = s.cfg.Now()
	}
	a.At = a.At.UTC().Truncate(time.Millisecond) // the log keeps milliseconds
	return a
}

// Open opens a request. A request id is generated when none is given; an
// id already in use is refused.
func (s *Service) Open(ctx context.Context, in requests.OpenInput) (requests.Request, error) {
	in.Tenant = tenantOr(in.Tenant)
	in.Act = s.act(in.Act)
	if in.RequestID == "" {
		in.RequestID = "req-" + uuid.NewString()
	} else if err := requests.ValidateID(in.RequestID); err != nil {
		return requests.Request{}, err
	}
	if _, err := s.Get(ctx, in.Tenant, in.RequestID); err == nil {
		return requests.Request{}, fmt.Errorf("%w: request_id: %q is already in use", requests.ErrInvalidInput, in.RequestID)
	} else if !errors.Is(err, ErrNotFound) {
		return requests.Request{}, err
	}
	e, err := s.lc.Open(in)
	if err != nil {
		return requests.Request{}, err
	}
	if err := s.append(ctx, e); err != nil {
		return requests.Request{}, err
	}
	var r requests.Request
	if err := s.lc.Apply(&r, e); err != nil {
		return requests.Request{}, err
	}
	return r, nil
}

// step runs one lifecycle command on a stored request.
func (s *Service) step(ctx context.Context, tenant, id string, cmd func(requests.Request) (*event.Event, error)) (requests.Request, error) {
	r, err := s.Get(ctx, tenant, id)
	if err != nil {
		return requests.Request{}, err
	}
	return s.apply(ctx, r, cmd)
}

// apply runs cmd on r as read, appends its event and returns r after it.
func (s *Service) apply(ctx context.Context, r requests.Request, cmd func(requests.Request) (*event.Event, error)) (requests.Request, error) {
	e, err := cmd(r)
	if err != nil {
		return requests.Request{}, err
	}
	if err := s.append(ctx, e); err != nil {
		return requests.Request{}, err
	}
	if err := s.lc.Apply(&r, e); err != nil {
		return requests.Request{}, err
	}
	return r, nil
}

// Confirm records that receipt was confirmed to the person.
func (s *Service) Confirm(ctx context.Context, tenant, id string, in requests.Act) (requests.Request, error) {
	in = s.act(in)
	return s.step(ctx, tenant, id, func(r requests.Request) (*event.Event, error) { return s.lc.Confirm(r, in) })
}

// Verify records the outcome of identity verification.
func (s *Service) Verify(ctx context.Context, tenant, id string, in requests.VerifyInput) (requests.Request, error) {
	in.Act = s.act(in.Act)
	return s.step(ctx, tenant, id, func(r requests.Request) (*event.Event, error) { return s.lc.Verify(r, in) })
}

// Extend extends the deadline once.
func (s *Service) Extend(ctx context.Context, tenant, id string, in requests.ExtendInput) (requests.Request, error) {
	in.Act = s.act(in.Act)
	return s.step(ctx, tenant, id, func(r requests.Request) (*event.Event, error) { return s.lc.Extend(r, in) })
}

// Deny records a denial.
func (s *Service) Deny(ctx context.Context, tenant, id string, in requests.DenyInput) (requests.Request, error) {
	in.Act = s.act(in.Act)
	return s.step(ctx, tenant, id, func(r requests.Request) (*event.Event, error) { return s.lc.Deny(r, in) })
}

// Appeal records the person's appeal.
func (s *Service) Appeal(ctx context.Context, tenant, id string, in requests.AppealInput) (requests.Request, error) {
	in.Act = s.act(in.Act)
	return s.step(ctx, tenant, id, func(r requests.Request) (*event.Event, error) { return s.lc.Appeal(r, in) })
}

// Complete records that the request was answered. For a request to know or
// for access without in.Report, the report is built now (as of in.At) and
// its digest attached.
func (s *Service) Complete(ctx context.Context, tenant, id string, in requests.CompleteInput) (requests.Request, error) {
	tenant = tenantOr(tenant)
	in.Act = s.act(in.Act)
	r, refs, err := s.one(ctx, tenant, id)
	if err != nil {
		return requests.Request{}, err
	}
	if r.Type.Discloses() && in.Report == nil {
		rep, err := s.reportFor(ctx, tenant, r, refs, in.At)
		if err != nil {
			return requests.Request{}, fmt.Errorf("build the report: %w", err)
		}
		sum, err := digest(rep)
		if err != nil {
			return requests.Request{}, err
		}
		in.Report = &requests.ReportRef{ID: r.ID, SHA256: sum}
	}
	return s.apply(ctx, r, func(r requests.Request) (*event.Event, error) { return s.lc.Complete(r, in) })
}

// digest is the SHA-256 of the report's JSON form, which is deterministic.
func digest(r report.Report) (string, error) {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// reportFor builds the report answering r, as of at.
func (s *Service) reportFor(ctx context.Context, tenant string, r requests.Request, refs []identity.Ref, at time.Time) (report.Report, error) {
	w := report.DefaultWindow(r.Jurisdiction, r.ReceivedAt)
	rec, err := s.recordOf(ctx, tenant, refs, w.Projection())
	if err != nil {
		return report.Report{}, err
	}
	return report.Build(report.Input{Record: rec, Taxonomy: s.cfg.Taxonomy, Business: s.business(tenant), Request: &r,
		Window: w, Retention: s.cfg.Retention[tenant], GeneratedAt: at})
}

// recordOf is the record of the person any of refs belongs to; an empty
// record when none of them is known (a request about someone the business
// holds nothing on gets a report that says so).
func (s *Service) recordOf(ctx context.Context, tenant string, refs []identity.Ref, w projections.Window) (projections.Record, error) {
	for _, ref := range refs {
		sub, err := s.people.SubjectOf(ctx, tenant, ref, w)
		switch {
		case err == nil:
			return sub.Record, nil
		case !errors.Is(err, inventory.ErrNotFound):
			return projections.Record{}, err
		}
	}
	return projections.Record{Tenant: tenant, Window: w}, nil
}

func (s *Service) business(tenant string) report.Business {
	b := s.cfg.Businesses[tenant]
	if b.Name == "" {
		b.Name = tenant
	}
	return b
}

// RightToKnow builds a report for the person id belongs to, for a privacy
// team's review (no request: specific pieces shown). Zero from and to take
// the jurisdiction's default window before now.
func (s *Service) RightToKnow(ctx context.Context, tenant string, id identity.Identifier, from, to time.Time, j requests.Jurisdiction) (report.Report, error) {
	tenant = tenantOr(tenant)
	if j == "" {
		j = requests.CCPA
	}
	now := s.cfg.Now().UTC()
	w, err := report.WindowFor(j, now, from, to)
	if err != nil {
		return report.Report{}, err
	}
	sub, err := s.people.Subject(ctx, tenant, id, w.Projection())
	if err != nil {
		return report.Report{}, err
	}
	return report.Build(report.Input{Record: sub.Record, Taxonomy: s.cfg.Taxonomy, Business: s.business(tenant), Jurisdiction: j,
		Scope: requests.LevelSpecificPieces, Window: w, Retention: s.cfg.Retention[tenant], GeneratedAt: now})
}

// Download builds again the report a completed request delivered, as of its
// completion, and reports whether it is byte for byte the one delivered. It
// returns the request too.
func (s *Service) Download(ctx context.Context, tenant, id string) (report.Report, requests.Request, bool, error) {
	tenant = tenantOr(tenant)
	r, refs, err := s.one(ctx, tenant, id)
	if err != nil {
		return report.Report{}, requests.Request{}, false, err
	}
	d := r.Final()
	if d == nil || d.Report == nil {
		return report.Report{}, r, false, fmt.Errorf("request %q: %w", id, ErrNoReport)
	}
	rep, err := s.reportFor(ctx, tenant, r, refs, d.At)
	if err != nil {
		return report.Report{}, r, false, err
	}
	sum, err := digest(rep)
	if err != nil {
		return report.Report{}, r, false, err
	}
	return rep, r, sum == d.Report.SHA256, nil
}

// Metrics returns the 11 CCR 7102 metrics of a calendar year, per type.
func (s *Service) Metrics(ctx context.Context, tenant string, year int) ([]requests.Metrics, error) {
	st, err := s.load(ctx, tenantOr(tenant))
	if err != nil {
		return nil, err
	}
	return s.lc.Metrics(st.reqs, year), nil
}
