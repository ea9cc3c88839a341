package sdk

import (
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
)

// Option sets an envelope field of an event built by a constructor.
type Option func(*Event)

// WithID sets the event id, the idempotency key: the same id delivered twice
// is one event. Default: a fresh UUIDv7. Derive it from your own record
// (uuid.NewSHA1) when a retry of your own code may build the event again.
func WithID(id uuid.UUID) Option { return func(e *Event) { e.ID = id } }

// At sets when it happened. Default: the time the constructor ran.
func At(t time.Time) Option { return func(e *Event) { e.Time = t.UTC() } }

// WithTenant sets the tenant (business or brand). Default: Config.Tenant.
func WithTenant(tenant string) Option { return func(e *Event) { e.Tenant = tenant } }

// WithSource sets the emitting service. Default: Config.Source.
func WithSource(source string) Option { return func(e *Event) { e.Source = source } }

// Collected says personal data came in: which elements, from what kind of
// source, for which purposes, stored in which system.
func Collected(subject Subject, data CollectedData, opts ...Option) *Event {
	return build(TypeCollected, subject, &data, opts)
}

// Shared says personal data was disclosed to a recipient outside the
// business (a sale, sharing for targeted ads, a disclosure for a business
// purpose, …).
func Shared(subject Subject, data SharedData, opts ...Option) *Event {
	return build(TypeShared, subject, &data, opts)
}

// Processed says personal data was used, possibly producing derived data
// (Outputs, e.g. inferences).
func Processed(subject Subject, data ProcessedData, opts ...Option) *Event {
	return build(TypeProcessed, subject, &data, opts)
}

// Transferred says personal data was copied between internal systems or
// across borders (then Mechanism names the safeguard).
func Transferred(subject Subject, data TransferredData, opts ...Option) *Event {
	return build(TypeTransferred, subject, &data, opts)
}

// Corrected says values were corrected; each element carries its new value.
func Corrected(subject Subject, data CorrectedData, opts ...Option) *Event {
	return build(TypeCorrected, subject, &data, opts)
}

// Erased says values were deleted: exactly one of Elements, Categories or
// All, with the Reason.
func Erased(subject Subject, data ErasedData, opts ...Option) *Event {
	return build(TypeErased, subject, &data, opts)
}

// ConsentChanged records a choice or opt-out (a GPC signal, a banner, a
// form, an unsubscribe link, an authorized agent).
func ConsentChanged(subject Subject, data ConsentChangedData, opts ...Option) *Event {
	return build(TypeConsentChanged, subject, &data, opts)
}

// Linked says all identifiers of subject (at least two) belong to one
// person, e.g. when a cookie id logs in as a customer.
func Linked(subject Subject, opts ...Option) *Event {
	return build(TypeSubjectLinked, subject, &event.Linked{}, opts)
}

func build(t Type, subject Subject, data event.Data, opts []Option) *Event {
	e := &Event{
		ID:          newID(),
		SpecVersion: event.SpecVersion,
		Type:        t,
		Time:        time.Now().UTC(),
		Subject:     subject,
		Data:        data,
	}
	for _, o := range opts {
		if o != nil {
			o(e)
		}
	}
	return e
}

// newID returns a UUIDv7, or a random UUID should the clock-based generator
// ever fail.
func newID() uuid.UUID {
	if id, err := uuid.NewV7(); err == nil {
		return id
	}
	return uuid.New()
}
