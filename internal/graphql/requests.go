package graphql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
)

// Requests lists the tenant's requests, optionally in one state or overdue.
func (q queryResolver) Requests(ctx context.Context, tenant *string, state *requests.State, overdue *bool) ([]requests.Request, error) {
	all, err := q.deps.Rights.List(ctx, tenantOf(tenant))
	if err != nil {
		return nil, err
	}
	out := []requests.Request{}
	now := q.now()
	for _, r := range all {
		if state != nil && r.State != *state {
			continue
		}
		if overdue != nil {
			st, err := q.deps.Lifecycle.Status(r, now)
			if err != nil {
				return nil, fmt.Errorf("status of request %s: %w", r.ID, err)
			}
			if st.Overdue != *overdue {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Request returns one request; nil when there is none with that id.
func (q queryResolver) Request(ctx context.Context, id string, tenant *string) (*requests.Request, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, badInput("id", "is required")
	}
	if err := requests.ValidateID(id); err != nil {
		return nil, err // BAD_USER_INPUT naming the request id, not "no such request"
	}
	r, err := q.loadersFrom(ctx).requests.Load(ctx, requestKey{tenant: tenantOf(tenant), id: id})
	switch {
	case errors.Is(err, rights.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &r, nil
}

// RequestMetrics returns the 11 CCR 7102 figures of a year.
func (q queryResolver) RequestMetrics(ctx context.Context, tenant *string, year int) ([]requests.Metrics, error) {
	if year < 2000 || year > 2200 {
		return nil, badInput("year", "must be a calendar year like 2026, got %d", year)
	}
	return q.deps.Rights.Metrics(ctx, tenantOf(tenant), year)
}

// stepAct is what every step records: the principal as actor (never a
// name the client sends), and the client's idempotency key, time and note.
// A missing time is now, on the rights queue's clock.
func stepAct(ctx context.Context, key *uuid.UUID, at *time.Time, note *string) (requests.Act, error) {
	p, err := principal(ctx)
	if err != nil {
		return requests.Act{}, err
	}
	return requests.Act{EventID: deref(key), At: deref(at), Actor: p.Name, Note: strings.TrimSpace(deref(note))}, nil
}

// OpenRequest records a request received.
func (m mutationResolver) OpenRequest(ctx context.Context, in model.OpenRequestInput) (*requests.Request, error) {
	a, err := stepAct(ctx, in.IdempotencyKey, in.At, in.Note)
	if err != nil {
		return nil, err
	}
	if len(in.Identifiers) == 0 {
		return nil, badInput("input.identifiers", "name at least one identifier of the person (kind:value)")
	}
	ids := make([]identity.Identifier, 0, len(in.Identifiers))
	for i, s := range in.Identifiers {
		id, err := m.parseIdentifier(fmt.Sprintf("input.identifiers[%d]", i), s, tenantOf(in.Tenant))
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	r, err := m.deps.Rights.Open(ctx, requests.OpenInput{
		Act: a, RequestID: strings.TrimSpace(deref(in.RequestID)), Tenant: tenantOf(in.Tenant),
		Subject: event.Subject{Identifiers: ids}, Type: in.Type, Jurisdiction: in.Jurisdiction, Channel: in.Channel,
		Agent: strings.TrimSpace(deref(in.Agent)), Scope: deref(in.Scope), ReceivedAt: deref(in.ReceivedAt),
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ConfirmRequest records that receipt was confirmed.
func (m mutationResolver) ConfirmRequest(ctx context.Context, id string, tenant *string, in *model.StepInput) (*requests.Request, error) {
	if in == nil {
		in = &model.StepInput{}
	}
	a, err := stepAct(ctx, in.IdempotencyKey, in.At, in.Note)
	if err != nil {
		return nil, err
	}
	return done(m.deps.Rights.Confirm(ctx, tenantOf(tenant), id, a))
}

// VerifyRequest records the outcome of identity verification.
func (m mutationResolver) VerifyRequest(ctx context.Context, id string, tenant *string, in model.VerifyRequestInput) (*requests.Request, error) {
	a, err := stepAct(ctx, in.IdempotencyKey, in.At, in.Note)
	if err != nil {
		return nil, err
	}
	return done(m.deps.Rights.Verify(ctx, tenantOf(tenant), id, requests.VerifyInput{Act: a, Method: strings.TrimSpace(in.Method), Level: in.Level}))
}

// ExtendRequest extends the deadline once.
func (m mutationResolver) ExtendRequest(ctx context.Context, id string, tenant *string, in model.ExtendRequestInput) (*requests.Request, error) {
	a, err := stepAct(ctx, in.IdempotencyKey, in.At, in.Note)
	if err != nil {
		return nil, err
	}
	return done(m.deps.Rights.Extend(ctx, tenantOf(tenant), id, requests.ExtendInput{Act: a, Reason: strings.TrimSpace(in.Reason)}))
}

// CompleteRequest records the answer; the rights queue attaches the
// report of a request to know or for access.
func (m mutationResolver) CompleteRequest(ctx context.Context, id string, tenant *string, in model.CompleteRequestInput) (*requests.Request, error) {
	a, err := stepAct(ctx, in.IdempotencyKey, in.At, in.Note)
	if err != nil {
		return nil, err
	}
	c := requests.CompleteInput{Act: a, Outcome: in.Outcome, Basis: deref(in.Basis), Reason: strings.TrimSpace(deref(in.Reason))}
	if in.Report != nil {
		c.Report = &requests.ReportRef{ID: strings.TrimSpace(in.Report.ID), SHA256: strings.TrimSpace(deref(in.Report.Sha256))}
	}
	return done(m.deps.Rights.Complete(ctx, tenantOf(tenant), id, c))
}

// DenyRequest records a denial.
func (m mutationResolver) DenyRequest(ctx context.Context, id string, tenant *string, in model.DenyRequestInput) (*requests.Request, error) {
	a, err := stepAct(ctx, in.IdempotencyKey, in.At, in.Note)
	if err != nil {
		return nil, err
	}
	return done(m.deps.Rights.Deny(ctx, tenantOf(tenant), id, requests.DenyInput{Act: a, Basis: in.Basis, Reason: strings.TrimSpace(deref(in.Reason))}))
}

// AppealRequest records the person's appeal.
func (m mutationResolver) AppealRequest(ctx context.Context, id string, tenant *string, in model.AppealRequestInput) (*requests.Request, error) {
	a, err := stepAct(ctx, in.IdempotencyKey, in.At, in.Note)
	if err != nil {
		return nil, err
	}
	return done(m.deps.Rights.Appeal(ctx, tenantOf(tenant), id, requests.AppealInput{Act: a, Reason: strings.TrimSpace(deref(in.Reason))}))
}

func done(r requests.Request, err error) (*requests.Request, error) {
	if err != nil {
		return nil, err
	}
	return &r, nil
}

type requestResolver struct{ *resolver }

// Identifiers are the kinds of identifier the request names. The request's
// own id, which every request event carries to be found again, is not one
// of the person's.
func (requestResolver) Identifiers(_ context.Context, obj *requests.Request) ([]model.IdentifierKind, error) {
	out := []model.IdentifierKind{}
	for _, id := range obj.Subject.Identifiers {
		if id.Kind == identity.External && id.Namespace == requests.RequestNamespace {
			continue
		}
		out = append(out, model.IdentifierKind{Kind: string(id.Kind), Namespace: id.Namespace})
	}
	return out, nil
}

func (requestResolver) Sought(_ context.Context, obj *requests.Request) (*requests.Level, error) {
	return optional(obj.Sought), nil
}

// Status is where the request stands against its deadlines now.
func (r requestResolver) Status(_ context.Context, obj *requests.Request) (*requests.Status, error) {
	st, err := r.deps.Lifecycle.Status(*obj, r.now())
	if err != nil {
		return nil, fmt.Errorf("status of request %s: %w", obj.ID, err)
	}
	return &st, nil
}

// Record is the request's 11 CCR 7101 record.
func (r requestResolver) Record(_ context.Context, obj *requests.Request) (*requests.Record, error) {
	rec := r.deps.Lifecycle.Record(*obj)
	return &rec, nil
}

type decisionResolver struct{ *resolver }

func (decisionResolver) Basis(_ context.Context, obj *requests.Decision) (*requests.Basis, error) {
	return optional(obj.Basis), nil
}

type requestRecordResolver struct{ *resolver }

func (requestRecordResolver) VerificationLevel(_ context.Context, obj *requests.Record) (*requests.Level, error) {
	return optional(obj.VerificationLevel), nil
}

func (requestRecordResolver) Outcome(_ context.Context, obj *requests.Record) (*requests.Outcome, error) {
	return optional(obj.Outcome), nil
}

func (requestRecordResolver) DenialBasis(_ context.Context, obj *requests.Record) (*requests.Basis, error) {
	return optional(obj.DenialBasis), nil
}

func (requestRecordResolver) AppealOutcome(_ context.Context, obj *requests.Record) (*requests.Outcome, error) {
	return optional(obj.AppealOutcome), nil
}

func (requestRecordResolver) AppealDenialBasis(_ context.Context, obj *requests.Record) (*requests.Basis, error) {
	return optional(obj.AppealDenialBasis), nil
}

// optional is nil for the zero value ("none"), which no enum value names.
func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
