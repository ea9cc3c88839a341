package event

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// Vocabulary answers whether a taxonomy term is known for a tenant. The
// taxonomy package implements it; tenants may extend the base vocabulary.
type Vocabulary interface {
	// Lookup reports whether key is a term of list for tenant and, when it is
	// not, the closest known term ("" when nothing is close).
	Lookup(tenant string, list taxonomy.List, key string) (known bool, suggestion string)
}

// AnyTerm is a Vocabulary that knows every term. Use it where taxonomy
// checks do not belong (structural checks, reading back stored events).
var AnyTerm Vocabulary = anyTerm{}

type anyTerm struct{}

func (anyTerm) Lookup(string, taxonomy.List, string) (bool, string) { return true, "" }

// Limits enforced by the decoder. The Max values are ceilings: Options.Limits
// may lower them (the defaults are the Default values or, where there is
// none, the ceiling itself) but never raise them, because what reads
// events further on is sized by them — broker messages, stored rows,
// reports, GraphQL answers. Events Custody reads back from its own storage
// (Event.UnmarshalJSON) are held to the ceilings, not to Options.Limits,
// and neither to MaxValueDepth nor to MaxElements per event (only per
// list), so that events stored before these limits existed or were lowered
// stay readable.
const (
	MaxEventBytes   = 1 << 20  // one event, as JSON (ceiling; the default is DefaultMaxEventBytes)
	MaxElements     = 1000     // per list: elements, inputs, outputs, purposes, categories; and data elements per event
	MaxIdentifiers  = 50       // subject.identifiers
	MaxStringBytes  = 1 << 10  // any string field
	MaxValueBytes   = 64 << 10 // one element value (and a request's extra), as compact JSON
	MaxValueDepth   = 32       // arrays and objects nested in one element value ([[1]] is 2)
	DefaultMaxSkew  = 24 * time.Hour
	earliestEventAt = "1900-01-01T00:00:00Z"

	// DefaultMaxEventBytes is the default Limits.MaxEventBytes: room for
	// three values of the largest size and the rest of the event, and an
	// event always fits in one broker message
	// (broker.DefaultMaxMessageBytes is 768 KiB).
	DefaultMaxEventBytes = 256 << 10
)

// Limits bound the work one event of input can cause, so that a small
// request cannot make validation, storage, reports or GraphQL answers large
// or slow: a value of 9,000 nested arrays, 18 KB as sent, once made a
// report of 810 MB. A zero field takes its default; a field may be set up
// to its ceiling (the constants above), down to the least each field
// states. An event over a limit is rejected with a FieldError naming the
// field and the limit.
type Limits struct {
	// MaxEventBytes bounds one event as sent, in bytes. Default
	// DefaultMaxEventBytes (256 KiB), at least 1 KiB, at most
	// MaxEventBytes (1 MiB).
	MaxEventBytes int
	// MaxElements bounds the data elements of one event: each list of
	// elements (elements, inputs, outputs), and a processed event's
	// inputs and outputs together. Default and ceiling MaxElements
	// (1,000). Lists of terms (purposes, categories) are held to
	// MaxElements.
	MaxElements int
	// MaxIdentifiers bounds subject.identifiers. Default and ceiling
	// MaxIdentifiers (50); at least 2, which subject.linked needs.
	MaxIdentifiers int
	// MaxValueBytes bounds one element value, and a request event's
	// extra, as compact JSON. Default and ceiling MaxValueBytes (64 KiB).
	MaxValueBytes int
	// MaxValueDepth bounds how deeply arrays and objects nest in one
	// element value or extra (a scalar is 0, [1] is 1, {"a":[1]} is 2).
	// Default and ceiling MaxValueDepth (32). The parser does not build
	// the tree of anything nested deeper, so a deeply nested value costs
	// one scan of its bytes, not a tree.
	MaxValueDepth int
}

// ceilings are the limits events read back from storage are held to.
var ceilings = Limits{MaxEventBytes: MaxEventBytes, MaxElements: MaxElements, MaxIdentifiers: MaxIdentifiers,
	MaxValueBytes: MaxValueBytes, MaxValueDepth: MaxValueDepth}

// validate reports every field out of range, as "Options.Limits.<Field> …".
func (l Limits) validate() []error {
	var errs []error
	check := func(name string, v, lo, def, ceiling int) {
		if v != 0 && (v < lo || v > ceiling) {
			errs = append(errs, fmt.Errorf("event: Options.Limits.%s must be %d..%d (0 = default %d), got %d", name, lo, ceiling, def, v))
		}
	}
	check("MaxEventBytes", l.MaxEventBytes, 1024, DefaultMaxEventBytes, MaxEventBytes)
	check("MaxElements", l.MaxElements, 1, MaxElements, MaxElements)
	check("MaxIdentifiers", l.MaxIdentifiers, 2, MaxIdentifiers, MaxIdentifiers)
	check("MaxValueBytes", l.MaxValueBytes, 1, MaxValueBytes, MaxValueBytes)
	check("MaxValueDepth", l.MaxValueDepth, 1, MaxValueDepth, MaxValueDepth)
	return errs
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxEventBytes, DefaultMaxEventBytes)
	def(&l.MaxElements, MaxElements)
	def(&l.MaxIdentifiers, MaxIdentifiers)
	def(&l.MaxValueBytes, MaxValueBytes)
	def(&l.MaxValueDepth, MaxValueDepth)
	return l
}

// envelopeDepth is how deeply an element value lies in an event: the
// event, data, elements and the element are objects and arrays around it.
// A request event's extra lies shallower.
const envelopeDepth = 4

// keepDepth is how deep the parser builds an event's tree: deep enough for
// every element value of at most MaxValueDepth levels; anything deeper is
// scanned for syntax only and marked (node.cut).
func (o *Options) keepDepth() int {
	if o.trusted {
		return maxDepth
	}
	return envelopeDepth + o.Limits.MaxValueDepth
}

// sizeText renders a byte limit for a message: "64 KiB", "1 MiB" or
// "1000 bytes".
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// Options control decoding and validation.
type Options struct {
	// Vocabulary checks taxonomy terms per tenant. Required; use AnyTerm to
	// skip taxonomy checks deliberately.
	Vocabulary Vocabulary
	// Now is the clock for the future-time check. Default time.Now.
	Now func() time.Time
	// AllowInternalTypes accepts request.* events. Only Custody's own
	// writers set it; external input must not.
	AllowInternalTypes bool
	// MaxFutureSkew is how far in the future (relative to Now) an event's
	// time may lie. Default 24h.
	MaxFutureSkew time.Duration
	// Limits bound the size and nesting of one event; zero fields take
	// their defaults.
	Limits Limits
	// PhoneRegions maps a tenant to its default phone region (an
	// identity.PhoneRegions code): that tenant's phone identifiers written
	// without a country code are read as national numbers there
	// (identity.NormalizeIn). Tenants not in it have none. Default none.
	PhoneRegions map[string]string

	// trusted skips the future-time check and holds events to the
	// ceilings only, not to Limits nor to MaxValueDepth (reading back
	// stored events).
	trusted bool
}

// Validate reports options that cannot work. Decode and DecodeBatch panic on
// such options, so call Validate where options are built (at start-up).
func (o Options) Validate() error {
	var errs []error
	if o.Vocabulary == nil {
		errs = append(errs, errors.New("event: Options.Vocabulary is required (use event.AnyTerm to skip taxonomy checks)"))
	}
	if o.MaxFutureSkew < 0 {
		errs = append(errs, errors.New("event: Options.MaxFutureSkew must not be negative"))
	}
	errs = append(errs, o.Limits.validate()...)
	for tenant, region := range o.PhoneRegions {
		if !identity.KnownPhoneRegion(region) {
			errs = append(errs, fmt.Errorf("event: Options.PhoneRegions[%q]: %q is not a supported phone region (%s)", tenant, region, strings.Join(identity.PhoneRegions(), ", ")))
		}
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if err := o.Validate(); err != nil {
		panic(err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxFutureSkew == 0 {
		o.MaxFutureSkew = DefaultMaxSkew
	}
	if o.trusted {
		o.Limits = ceilings
	} else {
		o.Limits = o.Limits.withDefaults()
	}
	return o
}
