package event

import (
	"errors"
	"time"

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

// Limits enforced by the decoder.
const (
	MaxEventBytes   = 1 << 20  // one event, as JSON
	MaxElements     = 1000     // per list: elements, inputs, outputs, purposes, categories
	MaxIdentifiers  = 50       // subject.identifiers
	MaxStringBytes  = 1 << 10  // any string field
	MaxValueBytes   = 64 << 10 // one element value, as compact JSON
	DefaultMaxSkew  = 24 * time.Hour
	earliestEventAt = "1900-01-01T00:00:00Z"
)

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

	// trusted skips the future-time check (reading back stored events).
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
	return o
}
