package requests

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
)

var (
	requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	keyPattern       = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	tenantPattern    = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
)

// Step is one event of a request's history.
type Step struct {
	Event uuid.UUID
	Type  event.Type
	At    time.Time
	Actor string
	Note  string
}

// Verification is the latest verification of the requester's identity.
type Verification struct {
	Step
	Method string // e.g. account_login, matching_data_points, signed_declaration
	Level  Level
}

// Extension is the one extension of a deadline.
type Extension struct {
	Step
	Reason    string
	RespondBy Date // the new deadline
}

// Decision is an answer to the request or to its appeal.
type Decision struct {
	Step
	Outcome Outcome
	Basis   Basis  // of a denial, in whole or in part
	Reason  string // explanation given to the person
	Report  *ReportRef
}

// Appeal is the person's appeal of a decision.
type Appeal struct {
	Step
	Reason string
}

// ReportRef names the report a completed request to know or access
// delivered, so it can be served again and shown to be unchanged.
type ReportRef struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256,omitempty"` // hex digest of the delivered file
}

// Verification methods in common use. Any lower-case key is accepted.
const (
	MethodAccountLogin       = "account_login"        // signed in to a password-protected account (11 CCR 7060(c))
	MethodMatchingDataPoints = "matching_data_points" // data points matched against our records (11 CCR 7062(b)–(c))
	MethodSignedDeclaration  = "signed_declaration"   // with a declaration under penalty of perjury (11 CCR 7062(c))
	MethodIdentityDocument   = "identity_document"
)

// Request is the state of one rights request, folded from its request.*
// events. The zero Request is "not opened yet".
type Request struct {
	ID     string
	Tenant string
	// Subject is the person's identifiers as the opened event names them
	// (with RequestIdentifier); read back from the log they carry kinds
	// only, as the log keeps no identifier values.
	Subject      event.Subject
	Type         Type
	Jurisdiction Jurisdiction
	Channel      Channel
	Agent        string // the authorized agent who made the request, if any
	// Sought is what a request to know or for access asked for:
	// LevelSpecificPieces (the default, which includes the categories) or
	// LevelCategories. Empty for the other types.
	Sought     Level
	ReceivedAt time.Time
	State      State

	Confirmed    *Step
	Verification *Verification
	Extension    *Extension // of the response deadline
	Response     *Decision  // the first answer
	Appeal       *Appeal
	// AppealExtension and AppealDecision concern the appeal.
	AppealExtension *Extension
	AppealDecision  *Decision

	History []Step // every step, in order
}

// Closed reports whether the request has been answered (and any appeal
// decided).
func (r Request) Closed() bool { return r.State == StateCompleted || r.State == StateDenied }

// Final returns the decision that stands: the appeal's, if decided, else
// the first answer; nil while unanswered.
func (r Request) Final() *Decision {
	if r.AppealDecision != nil {
		return r.AppealDecision
	}
	return r.Response
}

// Scope returns what a report for this request may show: the lower of
// what was sought and what verification reached. A request for specific
// pieces verified only to the categories standard is answered as a request
// for categories (11 CCR 7024(a)). LevelNone means nothing may be
// disclosed (not verified, or verification failed).
func (r Request) Scope() Level {
	if !r.Type.Discloses() || r.Verification == nil {
		return LevelNone
	}
	if r.Verification.Level.rank() < r.Sought.rank() {
		return r.Verification.Level
	}
	return r.Sought
}

// Downgraded reports whether a request for specific pieces could not be
// verified to that standard and is answered with categories at most.
func (r Request) Downgraded() bool {
	return r.Type.Discloses() && r.Sought == LevelSpecificPieces && r.Verification != nil &&
		r.Verification.Level != LevelSpecificPieces
}

func (r Request) last() (time.Time, bool) {
	if len(r.History) == 0 {
		return time.Time{}, false
	}
	return r.History[len(r.History)-1].At, true
}

// extra is what request.* events carry in event.Request.Extra until
// event.Request has fields for them.
type extra struct {
	Scope  Level      `json:"scope,omitempty"`  // request.opened: what was sought
	Report *ReportRef `json:"report,omitempty"` // request.completed: the report delivered
}

func readExtra(d *event.Request) (extra, error) {
	var x extra
	if len(d.Extra) == 0 {
		return x, nil
	}
	if err := json.Unmarshal(d.Extra, &x); err != nil {
		return x, fmt.Errorf("extra: %w", err)
	}
	return x, nil
}

func (x extra) raw() json.RawMessage {
	if x == (extra{}) {
		return nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		// A struct of strings always marshals.
		panic(err)
	}
	return b
}

// opOf names the step an event type records.
func opOf(t event.Type) string {
	switch t {
	case event.TypeRequestOpened:
		return "open"
	case event.TypeRequestConfirmed:
		return "confirm"
	case event.TypeRequestVerified:
		return "verify"
	case event.TypeRequestExtended:
		return "extend"
	case event.TypeRequestCompleted:
		return "complete"
	case event.TypeRequestDenied:
		return "deny"
	case event.TypeRequestAppealed:
		return "appeal"
	}
	return string(t)
}

// stage orders events of one request that carry the same time.
func stage(t event.Type) int {
	return slices.Index([]event.Type{event.TypeRequestOpened, event.TypeRequestConfirmed, event.TypeRequestVerified,
		event.TypeRequestExtended, event.TypeRequestCompleted, event.TypeRequestDenied, event.TypeRequestAppealed}, t)
}

// Apply folds one request.* event into r. It checks the event against r's
// state exactly as the commands do, and leaves r unchanged when it returns
// an error (a *TransitionError or *InputError).
func (l *Lifecycle) Apply(r *Request, e *event.Event) error {
	d, ok := e.Data.(*event.Request)
	if !ok || !e.Type.Internal() {
		return fmt.Errorf("requests: event %s is a %s event, not a request.* event", e.ID, e.Type)
	}
	op := opOf(e.Type)
	x, err := readExtra(d)
	if err != nil {
		return &InputError{Op: op, RequestID: d.RequestID, Field: "extra", Reason: err.Error()}
	}
	next := r.clone()
	if e.Type == event.TypeRequestOpened {
		if r.ID != "" {
			return &TransitionError{Op: op, RequestID: r.ID, Reason: "is already open (received " + l.day(r.ReceivedAt) + ")"}
		}
		err = l.open(&next, e, d, x)
	} else {
		switch {
		case r.ID == "":
			return &TransitionError{Op: op, RequestID: d.RequestID, Reason: "was never opened"}
		case d.RequestID != r.ID:
			return &InputError{Op: op, RequestID: r.ID, Field: "request_id", Reason: fmt.Sprintf("the event is for request %q", d.RequestID)}
		}
		if last, ok := r.last(); ok && e.Time.Before(last) {
			return &TransitionError{Op: op, RequestID: r.ID, Reason: fmt.Sprintf("cannot take a step at %s, before its last step at %s",
				e.Time.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))}
		}
		err = l.step(&next, e, d, x)
	}
	if err != nil {
		return err
	}
	next.History = append(next.History, Step{Event: e.ID, Type: e.Type, At: e.Time, Actor: d.Actor, Note: d.Note})
	*r = next
	return nil
}

func (r Request) clone() Request {
	r.History = slices.Clone(r.History)
	return r
}

func (l *Lifecycle) open(r *Request, e *event.Event, d *event.Request, x extra) error {
	fail := func(field, reason string) error {
		return &InputError{Op: "open", RequestID: d.RequestID, Field: field, Reason: reason}
	}
	if !requestIDPattern.MatchString(d.RequestID) {
		return &InputError{Op: "open", Field: "request_id", Reason: "must be 1–64 letters, digits, `.`, `_`, `:` or `-`, starting with a letter or digit"}
	}
	t, j := Type(d.Kind), Jurisdiction(d.Jurisdiction)
	if !slices.Contains(Types(), t) {
		return fail("kind", fmt.Sprintf("%q is not a request type; want one of %s", d.Kind, quotedList(Types())))
	}
	if !j.Known() {
		return fail("jurisdiction", fmt.Sprintf("%q is not a jurisdiction Custody knows; want one of %s", d.Jurisdiction, quotedList(Jurisdictions())))
	}
	if _, err := RulesFor(j, t); err != nil {
		return fail("jurisdiction", err.Error())
	}
	if c := Channel(d.Channel); !slices.Contains(Channels(), c) {
		return fail("channel", fmt.Sprintf("%q is not a channel; want one of %s", d.Channel, quotedList(Channels())))
	}
	if d.ReceivedAt == nil || d.ReceivedAt.IsZero() {
		return fail("received_at", "is required: when the business received the request")
	}
	if d.ReceivedAt.After(e.Time) {
		return fail("received_at", "is after the time the request was opened in Custody")
	}
	if !slices.ContainsFunc(e.Subject.Identifiers, func(id event.Identifier) bool { return id.Namespace != RequestNamespace }) {
		return fail("subject", "at least one identifier of the person the request is about is required")
	}
	if !tenantPattern.MatchString(e.Tenant) {
		return fail("tenant", "must be 1–64 lower-case letters, digits, `_` or `-`")
	}
	sought := x.Scope
	switch {
	case !t.Discloses() && sought != "":
		return fail("scope", "applies only to requests to know and for access")
	case t.Discloses() && sought == "":
		sought = LevelSpecificPieces
	case t.Discloses() && sought != LevelCategories && sought != LevelSpecificPieces:
		return fail("scope", fmt.Sprintf("%q is not a scope; want `categories` or `specific_pieces`", sought))
	}
	*r = Request{
		ID: d.RequestID, Tenant: e.Tenant, Subject: e.Subject, Type: t, Jurisdiction: j, Channel: Channel(d.Channel),
		Agent: d.Agent, Sought: sought, ReceivedAt: d.ReceivedAt.UTC(), State: StateOpen,
	}
	return nil
}

func (l *Lifecycle) step(r *Request, e *event.Event, d *event.Request, x extra) error {
	op := opOf(e.Type)
	deny := func(reason string) error { return &TransitionError{Op: op, RequestID: r.ID, Reason: reason} }
	fail := func(field, reason string) error {
		return &InputError{Op: op, RequestID: r.ID, Field: field, Reason: reason}
	}
	if r.Closed() && e.Type != event.TypeRequestAppealed {
		f := r.Final()
		return deny(fmt.Sprintf("was already %s on %s", r.State, l.day(f.At)))
	}
	rules, err := RulesFor(r.Jurisdiction, r.Type)
	if err != nil {
		return deny(err.Error())
	}
	switch e.Type {
	case event.TypeRequestConfirmed:
		if r.Confirmed != nil {
			return deny("was already confirmed on " + l.day(r.Confirmed.At))
		}
		if r.State == StateAppealed {
			return deny("is under appeal; receipt was confirmed by the answer")
		}
		r.Confirmed = &Step{Event: e.ID, Type: e.Type, At: e.Time, Actor: d.Actor, Note: d.Note}
		if r.State == StateOpen {
			r.State = StateConfirmed
		}
	case event.TypeRequestVerified:
		if !keyPattern.MatchString(d.Method) {
			return fail("method", "is required: a lower-case key such as `"+MethodMatchingDataPoints+"`")
		}
		if lv := Level(d.Level); !slices.Contains(Levels(), lv) {
			return fail("level", fmt.Sprintf("%q is not a verification level; want one of %s", d.Level, quotedList(Levels())))
		}
		r.Verification = &Verification{Step: l.stepOf(e, d), Method: d.Method, Level: Level(d.Level)}
		if r.State != StateAppealed {
			r.State = StateVerified
		}
	case event.TypeRequestExtended:
		return l.extend(r, e, d, rules, deny, fail)
	case event.TypeRequestCompleted, event.TypeRequestDenied:
		return l.decide(r, e, d, x, deny, fail)
	case event.TypeRequestAppealed:
		switch {
		case r.Appeal != nil:
			return deny("was already appealed on " + l.day(r.Appeal.At) + "; a decision can be appealed once")
		case !r.Closed():
			return deny("has not been answered yet; only an answer can be appealed")
		}
		r.Appeal = &Appeal{Step: l.stepOf(e, d), Reason: d.Reason}
		r.State = StateAppealed
	default:
		return fmt.Errorf("requests: unknown event type %s", e.Type)
	}
	return nil
}

func (l *Lifecycle) extend(r *Request, e *event.Event, d *event.Request, rules Rules, deny func(string) error, fail func(string, string) error) error {
	appeal := r.State == StateAppealed
	limit, extended, ext := rules.Extended, rules.Respond, r.Extension
	from := l.cal.DateOf(r.ReceivedAt)
	if appeal {
		if rules.Appeal == nil {
			return deny("is under appeal, and the " + r.Jurisdiction.Name() + " sets no appeal deadline to extend")
		}
		limit, extended, ext = rules.AppealExtended, *rules.Appeal, r.AppealExtension
		from = l.cal.DateOf(r.Appeal.At)
	}
	switch {
	case ext != nil:
		return deny("was already extended on " + l.day(ext.At))
	case limit == nil:
		return deny(fmt.Sprintf("cannot be extended: the %s allows no extension for a %s", r.Jurisdiction.Name(), r.Type.Name()))
	case d.Reason == "":
		return fail("reason", "is required: the person must be told why more time is needed")
	}
	if due := extended.From(from, l.cal); l.cal.DateOf(e.Time).After(due) {
		return deny("can no longer be extended: notice of an extension must be given within the first period, which ended on " + due.String())
	}
	x := &Extension{Step: l.stepOf(e, d), Reason: d.Reason, RespondBy: limit.From(from, l.cal)}
	if appeal {
		r.AppealExtension = x
	} else {
		r.Extension = x
	}
	return nil
}

func (l *Lifecycle) decide(r *Request, e *event.Event, d *event.Request, x extra, deny func(string) error, fail func(string, string) error) error {
	dec := &Decision{Step: l.stepOf(e, d), Basis: Basis(d.Basis), Reason: d.Reason, Report: x.Report}
	if r.State == StateAppealed && !e.Time.After(r.Appeal.At) {
		return deny("cannot decide the appeal at the moment it was made; the decision must come after " + r.Appeal.At.UTC().Format(time.RFC3339))
	}
	if e.Type == event.TypeRequestDenied {
		dec.Outcome = OutcomeDenied
		if err := checkBasis(dec, fail); err != nil {
			return err
		}
		r.State = StateDenied
	} else {
		dec.Outcome = Outcome(d.Outcome)
		switch dec.Outcome {
		case OutcomeComplied:
			if dec.Basis != "" {
				return fail("basis", "applies only when the request is denied in whole or in part (outcome `complied_in_part`)")
			}
		case OutcomeCompliedInPart:
			if err := checkBasis(dec, fail); err != nil {
				return err
			}
		default:
			return fail("outcome", fmt.Sprintf("%q is not an outcome of completion; want `complied` or `complied_in_part`", d.Outcome))
		}
		if r.Type.NeedsVerification() {
			switch {
			case r.Verification == nil:
				return deny("is not verified; verify the requester's identity first, or deny it with basis `unverifiable`")
			case r.Verification.Level == LevelNone:
				return deny("could not be verified (" + l.day(r.Verification.At) + "); verify again, or deny it with basis `unverifiable`")
			}
		}
		if r.Type.Discloses() && (dec.Report == nil || dec.Report.ID == "") {
			return fail("report", "is required: a "+r.Type.Name()+" is answered with a report; attach its id")
		}
		r.State = StateCompleted
	}
	if r.Appeal != nil {
		r.AppealDecision = dec
	} else {
		r.Response = dec
	}
	return nil
}

func checkBasis(dec *Decision, fail func(string, string) error) error {
	if !slices.Contains(Bases(), dec.Basis) {
		return fail("basis", fmt.Sprintf("%q is not a basis of denial; want one of %s", dec.Basis, quotedList(Bases())))
	}
	if dec.Basis == BasisOther && dec.Reason == "" {
		return fail("reason", "is required with basis `other`: say why")
	}
	return nil
}

func (l *Lifecycle) stepOf(e *event.Event, d *event.Request) Step {
	return Step{Event: e.ID, Type: e.Type, At: e.Time, Actor: d.Actor, Note: d.Note}
}

// day renders t as a date in the business's time zone.
func (l *Lifecycle) day(t time.Time) string { return l.cal.DateOf(t).String() }

// Replay folds request.* events (other types are skipped) into requests,
// sorted by receipt and id. Each request's events are applied in time
// order; events at the same instant in lifecycle order, then by id. An
// event that does not apply (an invalid transition, a step of a request
// never opened) is left out and reported in the returned error, which
// joins one error per such event; the requests are returned either way.
func (l *Lifecycle) Replay(events []*event.Event) ([]Request, error) {
	byID := map[string][]*event.Event{}
	for _, e := range events {
		if d, ok := e.Data.(*event.Request); ok && e.Type.Internal() {
			byID[d.RequestID] = append(byID[d.RequestID], e)
		}
	}
	var out []Request
	var errs []error
	for _, evs := range byID {
		slices.SortFunc(evs, func(a, b *event.Event) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(stage(a.Type), stage(b.Type)), slices.Compare(a.ID[:], b.ID[:]))
		})
		var r Request
		seen := map[uuid.UUID]bool{}
		for _, e := range evs {
			if seen[e.ID] {
				continue // the log's idempotency key: a duplicate is one event
			}
			seen[e.ID] = true
			if err := l.Apply(&r, e); err != nil {
				errs = append(errs, fmt.Errorf("event %s: %w", e.ID, err))
			}
		}
		if r.ID != "" {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Request) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return out, errors.Join(errs...)
}

// MaxIDLen is the longest request id, in bytes.
const MaxIDLen = 64

// ValidateID checks a request id as it arrives from a client (an HTTP
// path, a GraphQL argument, a command line) before anything is looked up
// by it: ids are 1–64 letters, digits, `.`, `_`, `:` or `-`, starting with
// a letter or digit, the form Open accepts, so an id outside it names no
// request. The error is an *InputError for field "request id" (wrapping
// ErrInvalidInput) whose reason says what is wrong; it never repeats the
// id, which may hold control characters or be very long.
func ValidateID(id string) error {
	if requestIDPattern.MatchString(id) {
		return nil
	}
	const want = "must be 1–64 letters, digits, `.`, `_`, `:` or `-`, starting with a letter or digit"
	var got string
	switch {
	case id == "":
		got = "it is empty"
	case len(id) > MaxIDLen:
		got = fmt.Sprintf("it is %d bytes long", len(id))
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }):
		got = "it contains a control character"
	case !utf8.ValidString(id):
		got = "it is not valid UTF-8"
	case !requestIDPattern.MatchString(id[:1] + "x"):
		got = "it does not start with a letter or digit"
	default:
		got = "it contains a character outside those"
	}
	return &InputError{Field: "request id", Reason: want + "; " + got}
}
