// Package audit keeps Custody's own processing on the record: every read of
// a person's data (their record, lineage or report) is appended to the event
// log as an access.recorded event — who read it, in which role, through
// which operation, for what stated purpose, and for a reveal of a value
// reads otherwise mask, what was revealed (never the value) — before the
// data is returned, and can be listed per person (the access log).
//
// Entries live in the log like any other event: idempotent by id, never
// updated, under the identifier that was looked up (hashed). They take no
// part in identity resolution, projections or lineage.
package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/requests"
)

// ErrPurposeRequired is returned when a read states no purpose.
var ErrPurposeRequired = errors.New("purpose: a stated purpose is required to read a person's data")

// Appender appends events to the log (eventlog.Log). When it returns nil the
// events are durable.
type Appender interface {
	Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error)
}

// Reader reads events (eventlog.Log).
type Reader interface {
	// InternalByHashes returns the internal events (request.*, access.*)
	// of the given types that carry any of hashes, in time order. Every
	// type must be internal, or it fails with an error wrapping
	// eventlog.ErrNotInternal.
	InternalByHashes(ctx context.Context, tenant string, hashes []string, types ...event.Type) ([]event.Recorded, error)
}

// Resolver finds the person an identifier belongs to (inventory.Service).
type Resolver interface {
	// Hashes returns the hashes of all of the person's identifiers, or an
	// error wrapping inventory.ErrNotFound.
	Hashes(ctx context.Context, tenant string, id identity.Identifier) ([]string, error)
}

// Access is one read to record.
type Access struct {
	Tenant     string
	Identifier identity.Identifier // as looked up
	Actor      string
	Role       string
	Operation  string
	Purpose    string
	Found      bool
	RequestID  string
	// Revealed names what the read showed in clear that reads otherwise
	// mask (a never-disclose value an admin revealed): the element, and
	// the event when one was named. Never the value itself.
	Revealed string
	At       time.Time // default now
}

// Entry is one recorded access.
type Entry struct {
	ID         uuid.UUID
	At         time.Time
	Identifier identity.Ref // the identifier looked up (hashed)
	event.Access
}

// Trail records and lists accesses. It is safe for concurrent use.
type Trail struct {
	app    Appender
	reader Reader
	people Resolver
	hasher *identity.Hasher
	now    func() time.Time
}

// New returns a Trail. hasher must be the log's.
func New(app Appender, reader Reader, people Resolver, hasher *identity.Hasher, now func() time.Time) *Trail {
	if now == nil {
		now = time.Now
	}
	return &Trail{app: app, reader: reader, people: people, hasher: hasher, now: now}
}

// Record appends one access and returns once it is durable. Callers record
// before they return the data, and fail the read when Record fails.
func (t *Trail) Record(ctx context.Context, a Access) error {
	a.Purpose = strings.TrimSpace(a.Purpose)
	if a.Purpose == "" {
		return ErrPurposeRequired
	}
	if a.Operation == "" || a.Actor == "" {
		return fmt.Errorf("audit: operation and actor are required")
	}
	if a.Tenant == "" {
		a.Tenant = event.DefaultTenant
	}
	if a.At.IsZero() {
		a.At = t.now()
	}
	id, err := a.Identifier.Normalized()
	if err != nil {
		return fmt.Errorf("identifier: %w", err)
	}
	e := &event.Event{ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeAccessRecorded, Source: "custody",
		Time: a.At.UTC().Truncate(time.Millisecond), Tenant: a.Tenant, Subject: event.Subject{Identifiers: []identity.Identifier{id}},
		Data: &event.Access{Actor: a.Actor, Role: a.Role, Operation: a.Operation, Purpose: a.Purpose, Found: a.Found, RequestID: a.RequestID,
			Revealed: strings.TrimSpace(a.Revealed)}}
	if _, err := t.app.Append(ctx, []*event.Event{e}); err != nil {
		return fmt.Errorf("record access: %w", err)
	}
	return nil
}

// For returns the accesses to the person id belongs to — looked up by any
// of their identifiers, or through a rights request about them (report
// downloads) — newest first; for an identifier of no one, the accesses that
// looked it up.
func (t *Trail) For(ctx context.Context, tenant string, id identity.Identifier) ([]Entry, error) {
	if tenant == "" {
		tenant = event.DefaultTenant
	}
	ref, err := t.hasher.Ref(id)
	if err != nil {
		return nil, fmt.Errorf("identifier: %w", err)
	}
	hashes, err := t.people.Hashes(ctx, tenant, id)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		hashes = []string{ref.Hash}
	case err != nil:
		return nil, err
	}
	// Reads of the person's rights requests (their reports) are recorded
	// under the request's identifier: add those of the requests about them.
	named, err := t.reader.InternalByHashes(ctx, tenant, hashes, event.TypeRequestOpened)
	if err != nil {
		return nil, err
	}
	for _, r := range named {
		if d, ok := r.Event.Data.(*event.Request); ok && r.Event.Type == event.TypeRequestOpened {
			ref, err := t.hasher.Ref(requests.RequestIdentifier(d.RequestID))
			if err == nil {
				hashes = append(hashes, ref.Hash)
			}
		}
	}
	recs, err := t.reader.InternalByHashes(ctx, tenant, hashes, event.TypeAccessRecorded)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(recs))
	for _, r := range recs {
		a, ok := r.Event.Data.(*event.Access)
		if !ok || len(r.Identifiers) == 0 {
			continue
		}
		out = append(out, Entry{ID: r.Event.ID, At: r.Event.Time, Identifier: r.Identifiers[0], Access: *a})
	}
	slices.Reverse(out) // the log gives them oldest first
	return out, nil
}
