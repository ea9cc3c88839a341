package report

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// ErrInvalidInput is wrapped by every error Build and WindowFor return for
// input they cannot use; the error names the field.
var ErrInvalidInput = errors.New("invalid report input")

// FieldError is one unusable field of the input.
type FieldError struct {
	Field  string // e.g. "window.from", "retention.periods[\"finance\"]"
	Reason string
}

func (e *FieldError) Error() string { return "report: " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Earliest is the earliest start of a report window: a consumer may ask for
// more than the 12 months before their request, but not for anything before
// 2022-01-01 (Cal. Civ. Code 1798.130(a)(2)(B)).
func Earliest() time.Time { return time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC) }

// DefaultWindow is the window of a report for a request under j received
// at received: the 12 months before it. The GDPR has no such limit (Art. 15
// covers all the data being processed), so under it the default reaches
// back to Earliest.
func DefaultWindow(j requests.Jurisdiction, received time.Time) Window {
	from := received.UTC().AddDate(-1, 0, 0)
	if j == requests.GDPR || j == requests.Malaysia {
		from = Earliest()
	}
	if from.Before(Earliest()) {
		from = Earliest()
	}
	return Window{From: from, To: received.UTC(), Default: true}
}

// WindowFor returns the window of a report for a request under j received
// at received. Zero from and to take the default's bounds; a from earlier
// than the default is an extension the person asked for.
func WindowFor(j requests.Jurisdiction, received, from, to time.Time) (Window, error) {
	if received.IsZero() {
		return Window{}, fieldErr("received", "is required: the window runs back from when the request was received")
	}
	w := DefaultWindow(j, received)
	if !from.IsZero() {
		w.From, w.Default = from.UTC(), false
	}
	if !to.IsZero() {
		w.To, w.Default = to.UTC(), false
	}
	return w, w.Validate()
}

// Validate reports a window a report cannot have, naming the bound.
func (w Window) Validate() error {
	switch {
	case w.From.IsZero():
		return fieldErr("window.from", "is required")
	case w.To.IsZero():
		return fieldErr("window.to", "is required")
	case w.From.Before(Earliest()):
		return fieldErr("window.from", "%s is before %s: a report reaches back no further (Cal. Civ. Code 1798.130(a)(2)(B))",
			w.From.UTC().Format(time.DateOnly), Earliest().Format(time.DateOnly))
	case !w.To.After(w.From):
		return fieldErr("window.to", "%s is not after window.from %s", w.To.UTC().Format(time.RFC3339), w.From.UTC().Format(time.RFC3339))
	}
	return nil
}

// Projection returns the window to build the report's projections.Record
// over.
func (w Window) Projection() projections.Window { return projections.Window{From: w.From, To: w.To} }

// Retention is the business's retention policy: how long it keeps each
// category of personal information (Cal. Civ. Code 1798.100(a)(3)), in
// plain language ("Up to seven years after your last order").
type Retention struct {
	// Periods maps a data category key ("financial.card_number") or a
	// group, its part before the dot ("financial"), to a period. The key
	// wins over the group.
	Periods map[string]string
	// Default applies to categories with no period; "" leaves them
	// "not stated" in the report.
	Default string
}

// For returns the period for data category key, "" when none is stated.
func (r Retention) For(key string) string {
	if p, ok := r.Periods[key]; ok {
		return p
	}
	if group, _, ok := strings.Cut(key, "."); ok {
		if p, ok := r.Periods[group]; ok {
			return p
		}
	}
	return r.Default
}

// Validate reports periods that name no category or group of tenant's
// taxonomy, and empty periods.
func (r Retention) Validate(tax *taxonomy.Taxonomy, tenant string) error {
	groups := map[string]bool{}
	for _, c := range tax.Categories(tenant) {
		group, _, _ := strings.Cut(c.Key, ".")
		groups[group] = true
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(r.Periods)) {
		field := fmt.Sprintf("retention.periods[%q]", k)
		if _, ok := tax.Category(tenant, k); !ok && !groups[k] {
			errs = append(errs, fieldErr(field, "is neither a data category nor a group of categories of tenant %q", tenant))
		}
		if strings.TrimSpace(r.Periods[k]) == "" {
			errs = append(errs, fieldErr(field, "the period is empty; say how long the information is kept"))
		}
	}
	return errors.Join(errs...)
}

// Input is everything a report is built from. Build reads no clock and does
// no I/O: the record, the request and the time come in here.
type Input struct {
	// Record is the person's record over exactly Window (build it with
	// Window.Projection()). Element values must be decrypted.
	Record projections.Record
	// Taxonomy names the categories, purposes, sources and recipients, for
	// the record's tenant. Required.
	Taxonomy *taxonomy.Taxonomy
	// Business is who the report is from; Name defaults to the tenant.
	Business Business
	// Request is the verified request to know or for access the report
	// answers. Its id, type, law, receipt and verification shape the
	// report: it shows specific pieces only if the request's Scope allows.
	// Nil for a report made without a request.
	Request *requests.Request
	// Jurisdiction is the law of a report without a Request; default CCPA.
	Jurisdiction requests.Jurisdiction
	// Scope is what a report without a Request shows:
	// requests.LevelCategories (the default) or LevelSpecificPieces.
	Scope     requests.Level
	Window    Window
	Retention Retention
	// GeneratedAt is when the report is made. Required.
	GeneratedAt time.Time
}

func (in Input) validate(tenant string) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if in.Taxonomy == nil {
		add(fieldErr("taxonomy", "is required"))
	}
	if in.GeneratedAt.IsZero() {
		add(fieldErr("generated_at", "is required: when the report is made"))
	}
	if err := in.Window.Validate(); err != nil {
		add(err)
	} else {
		if !in.GeneratedAt.IsZero() && in.Window.To.After(in.GeneratedAt) {
			add(fieldErr("window.to", "%s is after generated_at %s: a report cannot cover the future",
				in.Window.To.UTC().Format(time.RFC3339), in.GeneratedAt.UTC().Format(time.RFC3339)))
		}
		if rw := in.Record.Window; !rw.From.Equal(in.Window.From) || !rw.To.Equal(in.Window.To) {
			add(fieldErr("record.window", "the record covers %s but the report's window is %s; build the record over Window.Projection()",
				span(rw.From, rw.To), span(in.Window.From, in.Window.To)))
		}
	}
	if r := in.Request; r != nil {
		switch {
		case in.Jurisdiction != "":
			add(fieldErr("jurisdiction", "is for a report without a request; the request's law applies"))
		case in.Scope != "":
			add(fieldErr("scope", "is for a report without a request; the request's verification decides"))
		case !r.Type.Discloses():
			add(fieldErr("request.type", "request %s is a %s; only requests to know and for access are answered with a report", r.ID, r.Type.Name()))
		case r.State == requests.StateDenied:
			add(fieldErr("request.state", "request %s was denied; there is nothing to report", r.ID))
		case r.Scope() == requests.LevelNone:
			add(fieldErr("request.verification", "request %s is not verified; verify the requester before reporting (11 CCR 7024(a)–(b))", r.ID))
		case r.Tenant != tenant:
			add(fieldErr("request.tenant", "request %s is for tenant %q, the record for %q", r.ID, r.Tenant, tenant))
		}
	} else {
		if in.Jurisdiction != "" && !in.Jurisdiction.Known() {
			add(fieldErr("jurisdiction", "%q is not a jurisdiction Custody knows", in.Jurisdiction))
		}
		if in.Scope != "" && in.Scope != requests.LevelCategories && in.Scope != requests.LevelSpecificPieces {
			add(fieldErr("scope", "%q is not a scope; want `categories` or `specific_pieces`", in.Scope))
		}
	}
	if in.Taxonomy != nil {
		add(in.Retention.Validate(in.Taxonomy, tenant))
	}
	return errors.Join(errs...)
}

func span(from, to time.Time) string {
	f := func(t time.Time) string {
		if t.IsZero() {
			return "unbounded"
		}
		return t.UTC().Format(time.RFC3339)
	}
	return "[" + f(from) + ", " + f(to) + ")"
}
