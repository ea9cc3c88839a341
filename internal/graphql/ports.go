package graphql

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
)

// The resolvers' dependencies. Each is implemented by an application
// package on real storage; the GraphQL layer only translates.
//
// A read of personal data may be refused before it runs because too many
// are running or waiting (internal/node puts Subject, Lineage,
// RightToKnow and Audit.For behind the read side's admission): its error
// wraps admission.ErrOverloaded (a *admission.RefusedError) and is
// answered as OVERLOADED, and no access-log entry is recorded, since
// nothing was read.

// Inventory answers questions about stored data (inventory.Service).
// Errors wrap inventory.ErrNotFound and inventory.ErrTooLarge.
type Inventory interface {
	Subject(ctx context.Context, tenant string, id identity.Identifier, w projections.Window) (inventory.Subject, error)
	Lineage(ctx context.Context, tenant string, id identity.Identifier, req inventory.LineageRequest) (lineage.Subgraph, inventory.Person, error)
	DataMap(ctx context.Context, tenant string, w projections.Window) ([]projections.DataMapRow, error)
	Recipients(ctx context.Context, tenant string, w projections.Window) ([]inventory.Recipient, error)
}

// Audit records reads of personal data and lists them (audit.Trail).
// Record returns once the entry is durable; a read whose Record fails must
// fail. Record wraps audit.ErrPurposeRequired when Purpose is empty.
type Audit interface {
	Record(ctx context.Context, a audit.Access) error
	For(ctx context.Context, tenant string, id identity.Identifier) ([]audit.Entry, error)
}

// Rejected is the poison queue: events refused at ingest or in the pipeline,
// kept sealed, listable and replayable.
type Rejected interface {
	List(ctx context.Context, f rejected.Filter) ([]rejected.Rejection, error)
	Replay(ctx context.Context, ids []uuid.UUID) (rejected.ReplayReport, error)
}

// Rights is the rights-request queue and the reports it answers with
// (internal/rights). Every command appends a request.* event and returns
// the request as it stands after it; errors wrap requests.ErrInvalidInput
// (bad input, naming the field), requests.ErrInvalidTransition (the step is
// not allowed now) or rights.ErrNotFound. Complete of a request to know or
// for access generates the report and attaches it.
type Rights interface {
	List(ctx context.Context, tenant string) ([]requests.Request, error)
	Get(ctx context.Context, tenant, id string) (requests.Request, error)
	Open(ctx context.Context, in requests.OpenInput) (requests.Request, error)
	Confirm(ctx context.Context, tenant, id string, in requests.Act) (requests.Request, error)
	Verify(ctx context.Context, tenant, id string, in requests.VerifyInput) (requests.Request, error)
	Extend(ctx context.Context, tenant, id string, in requests.ExtendInput) (requests.Request, error)
	Complete(ctx context.Context, tenant, id string, in requests.CompleteInput) (requests.Request, error)
	Deny(ctx context.Context, tenant, id string, in requests.DenyInput) (requests.Request, error)
	Appeal(ctx context.Context, tenant, id string, in requests.AppealInput) (requests.Request, error)
	// RightToKnow builds the report for the person id belongs to over
	// [from, to) (zero: the jurisdiction's default window before now).
	RightToKnow(ctx context.Context, tenant string, id identity.Identifier, from, to time.Time, j requests.Jurisdiction) (report.Report, error)
	// Metrics returns the 11 CCR 7102 metrics of a calendar year, per request
	// type.
	Metrics(ctx context.Context, tenant string, year int) ([]requests.Metrics, error)
}
