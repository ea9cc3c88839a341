package requests

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// DefaultSource is the event source of request.* events Custody writes.
const DefaultSource = "custody"

// RequestNamespace is the namespace of the external identifier that names a
// request in its events (RequestIdentifier).
const RequestNamespace = "custody_request"

// RequestIdentifier is the identifier every event of request id carries:
// the opened event next to the person's identifiers, the later steps alone.
// The log keeps identifier values only as keyed hashes, so the later steps
// cannot repeat the person's identifiers once read back; the request id they
// can, and it finds all of a request's events in the log
// (eventlog.Log.InternalByIdentifiers). It is not personal information, and
// the projections ignore request.* events for identity, so it joins no one.
func RequestIdentifier(id string) event.Identifier {
	return event.Identifier{Kind: identity.External, Namespace: RequestNamespace, Value: id}
}

// Config configures a Lifecycle.
type Config struct {
	// Location is the business's time zone: deadlines are dates there.
	// Default UTC.
	Location *time.Location
	// Holidays are days, written 2006-01-02, that are not business days
	// besides Saturdays and Sundays. Default none.
	Holidays []string
	// Source is the source of the events the commands return. Default
	// DefaultSource.
	Source string
}

// Validate reports a configuration that cannot work, naming the field.
func (c Config) Validate() error {
	var errs []error
	for i, h := range c.Holidays {
		if _, err := ParseDate(h); err != nil {
			errs = append(errs, fmt.Errorf("requests: Config.Holidays[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.Source == "" {
		c.Source = DefaultSource
	}
	return c
}

// Lifecycle runs rights requests: its commands check a step against the
// request's current state and return the request.* event that records it,
// and Apply and Replay fold those events back into state. It does no I/O
// and reads no clock: every time is passed in. A Lifecycle is immutable and
// safe for concurrent use.
type Lifecycle struct {
	cal    Calendar
	source string
}

// NewLifecycle returns a Lifecycle for cfg.
func NewLifecycle(cfg Config) (*Lifecycle, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var hs []Date
	for _, h := range cfg.Holidays {
		d, _ := ParseDate(h) // checked by Validate
		hs = append(hs, d)
	}
	return &Lifecycle{cal: NewCalendar(cfg.Location, hs...), source: cfg.Source}, nil
}

// Calendar returns the calendar deadlines are computed in.
func (l *Lifecycle) Calendar() Calendar { return l.cal }

// Act is what every step records: when it was taken and by whom.
type Act struct {
	// EventID is the id of the returned event, its idempotency key: pass
	// the same id to retry a step safely. A random id when zero.
	EventID uuid.UUID
	// At is when the step was taken. Required.
	At    time.Time
	Actor string // the Custody user who took it
	Note  string // internal note
}

// OpenInput opens a request.
type OpenInput struct {
	Act
	RequestID    string
	Tenant       string        // default event.DefaultTenant
	Subject      event.Subject // the identifiers the request names (normalised)
	Type         Type
	Jurisdiction Jurisdiction
	Channel      Channel
	Agent        string // the authorized agent acting for the person, if any
	// Scope is what a request to know or for access asks for:
	// LevelSpecificPieces (default) or LevelCategories. Leave it empty for
	// other types.
	Scope Level
	// ReceivedAt is when the business received the request; deadlines run
	// from its date. Default At.
	ReceivedAt time.Time
}

// VerifyInput records the outcome of identity verification.
type VerifyInput struct {
	Act
	Method string // how: MethodAccountLogin, MethodMatchingDataPoints, … (any lower-case key)
	// Level is the standard reached. A request for specific pieces whose
	// verification reaches only the categories standard is answered with
	// categories (Request.Scope); LevelNone records a failed verification.
	Level Level
}

// ExtendInput extends the deadline once, with the reason told to the person.
type ExtendInput struct {
	Act
	Reason string
}

// CompleteInput records that the request was answered.
type CompleteInput struct {
	Act
	Outcome Outcome // OutcomeComplied or OutcomeCompliedInPart
	Basis   Basis   // for the part denied, with OutcomeCompliedInPart
	Reason  string
	Report  *ReportRef // required for requests to know and for access
}

// DenyInput records that the request was denied.
type DenyInput struct {
	Act
	Basis  Basis
	Reason string // required with BasisOther
}

// AppealInput records the person's appeal of the answer.
type AppealInput struct {
	Act
	Reason string
}

// Open returns the request.opened event of a new request.
func (l *Lifecycle) Open(in OpenInput) (*event.Event, error) {
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = in.At
	}
	tenant := in.Tenant
	if tenant == "" {
		tenant = event.DefaultTenant
	}
	received := in.ReceivedAt.UTC()
	d := &event.Request{
		RequestID: in.RequestID, Kind: string(in.Type), Jurisdiction: string(in.Jurisdiction), Channel: string(in.Channel),
		Agent: in.Agent, ReceivedAt: &received, Extra: extra{Scope: in.Scope}.raw(),
	}
	if rules, err := RulesFor(in.Jurisdiction, in.Type); err == nil {
		due := l.cal.EndOf(rules.Respond.From(l.cal.DateOf(received), l.cal)).UTC()
		d.DueAt = &due
	}
	subject := event.Subject{Identifiers: slices.Clone(in.Subject.Identifiers)}
	if len(subject.Identifiers) > 0 && !slices.Contains(subject.Identifiers, RequestIdentifier(in.RequestID)) {
		subject.Identifiers = append(subject.Identifiers, RequestIdentifier(in.RequestID))
	}
	e, err := l.build(in.Act, "open", in.RequestID, tenant, subject, event.TypeRequestOpened, d, map[string]string{"agent": in.Agent})
	if err != nil {
		return nil, err
	}
	var r Request
	if err := l.Apply(&r, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Confirm returns the request.confirmed event: receipt was confirmed to the
// person (11 CCR 7021(a)).
func (l *Lifecycle) Confirm(r Request, in Act) (*event.Event, error) {
	return l.command(r, in, event.TypeRequestConfirmed, &event.Request{}, nil)
}

// Verify returns the request.verified event.
func (l *Lifecycle) Verify(r Request, in VerifyInput) (*event.Event, error) {
	return l.command(r, in.Act, event.TypeRequestVerified, &event.Request{Method: in.Method, Level: string(in.Level)},
		map[string]string{"method": in.Method})
}

// Extend returns the request.extended event carrying the new deadline.
func (l *Lifecycle) Extend(r Request, in ExtendInput) (*event.Event, error) {
	d := &event.Request{Reason: in.Reason}
	probe := r.clone()
	e, err := l.command(r, in.Act, event.TypeRequestExtended, d, map[string]string{"reason": in.Reason})
	if err != nil {
		return nil, err
	}
	// Record the new deadline in the event for readers of the log.
	if err := l.Apply(&probe, e); err != nil {
		return nil, err
	}
	x := probe.Extension
	if probe.State == StateAppealed {
		x = probe.AppealExtension
	}
	due := l.cal.EndOf(x.RespondBy).UTC()
	d.DueAt = &due
	return e, nil
}

// Complete returns the request.completed event.
func (l *Lifecycle) Complete(r Request, in CompleteInput) (*event.Event, error) {
	d := &event.Request{Outcome: string(in.Outcome), Basis: string(in.Basis), Reason: in.Reason, Extra: extra{Report: in.Report}.raw()}
	return l.command(r, in.Act, event.TypeRequestCompleted, d, map[string]string{"reason": in.Reason})
}

// Deny returns the request.denied event.
func (l *Lifecycle) Deny(r Request, in DenyInput) (*event.Event, error) {
	d := &event.Request{Basis: string(in.Basis), Reason: in.Reason}
	return l.command(r, in.Act, event.TypeRequestDenied, d, map[string]string{"reason": in.Reason})
}

// Appeal returns the request.appealed event.
func (l *Lifecycle) Appeal(r Request, in AppealInput) (*event.Event, error) {
	d := &event.Request{Reason: in.Reason}
	return l.command(r, in.Act, event.TypeRequestAppealed, d, map[string]string{"reason": in.Reason})
}

// command builds the event of a step of an open request and checks it
// against r's state.
func (l *Lifecycle) command(r Request, act Act, t event.Type, d *event.Request, texts map[string]string) (*event.Event, error) {
	op := opOf(t)
	if r.ID == "" {
		return nil, &InputError{Op: op, Field: "request", Reason: "is not an opened request (the zero Request)"}
	}
	d.RequestID = r.ID
	subject := event.Subject{Identifiers: []event.Identifier{RequestIdentifier(r.ID)}}
	e, err := l.build(act, op, r.ID, r.Tenant, subject, t, d, texts)
	if err != nil {
		return nil, err
	}
	probe := r.clone()
	if err := l.Apply(&probe, e); err != nil {
		return nil, err
	}
	return e, nil
}

func (l *Lifecycle) build(act Act, op, id, tenant string, subject event.Subject, t event.Type, d *event.Request, texts map[string]string) (*event.Event, error) {
	if act.At.IsZero() {
		return nil, &InputError{Op: op, RequestID: id, Field: "at", Reason: "is required: when the step was taken"}
	}
	if texts == nil {
		texts = map[string]string{}
	}
	texts["actor"], texts["note"] = act.Actor, act.Note
	for _, f := range []string{"actor", "note", "agent", "method", "reason"} {
		if s, ok := texts[f]; ok && (len(s) > event.MaxStringBytes || !utf8.ValidString(s)) {
			return nil, &InputError{Op: op, RequestID: id, Field: f, Reason: fmt.Sprintf("must be valid UTF-8 of at most %d bytes", event.MaxStringBytes)}
		}
	}
	d.Actor, d.Note = act.Actor, act.Note
	eid := act.EventID
	if eid == uuid.Nil {
		eid = uuid.New()
	}
	return &event.Event{
		ID: eid, SpecVersion: event.SpecVersion, Type: t, Source: l.source, Time: act.At.UTC(),
		Tenant: tenant, Subject: subject, Data: d,
	}, nil
}
