package event

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/identity"
)

// Type is an event type, e.g. data.collected.
type Type string

// Event types services send.
const (
	TypeCollected      Type = "data.collected"
	TypeShared         Type = "data.shared"
	TypeProcessed      Type = "data.processed"
	TypeTransferred    Type = "data.transferred"
	TypeCorrected      Type = "data.corrected"
	TypeErased         Type = "data.erased"
	TypeConsentChanged Type = "consent.changed"
	TypeSubjectLinked  Type = "subject.linked"
)

// Rights-request lifecycle types. Custody writes these itself; external input
// carrying them is rejected unless Options.AllowInternalTypes is set.
const (
	TypeRequestOpened    Type = "request.opened"    // received (11 CCR 7101: date, channel, type)
	TypeRequestConfirmed Type = "request.confirmed" // receipt confirmed to the consumer
	TypeRequestVerified  Type = "request.verified"  // identity verified (method, level)
	TypeRequestExtended  Type = "request.extended"  // deadline extended (new due date, reason)
	TypeRequestCompleted Type = "request.completed" // answered
	TypeRequestDenied    Type = "request.denied"    // denied (basis)
	TypeRequestAppealed  Type = "request.appealed"  // the consumer appealed a decision

	// TypeAccessRecorded is Custody's own processing: a user of Custody
	// read a person's record, report or lineage (data: Access).
	TypeAccessRecorded Type = "access.recorded"
)

// ExternalTypes returns the types services may send, in a stable order.
func ExternalTypes() []Type {
	return []Type{TypeCollected, TypeShared, TypeProcessed, TypeTransferred, TypeCorrected, TypeErased, TypeConsentChanged, TypeSubjectLinked}
}

// InternalTypes returns the request.* and access.* types Custody writes
// itself.
func InternalTypes() []Type {
	return []Type{TypeRequestOpened, TypeRequestConfirmed, TypeRequestVerified, TypeRequestExtended, TypeRequestCompleted,
		TypeRequestDenied, TypeRequestAppealed, TypeAccessRecorded}
}

// Internal reports whether t is written by Custody itself (request.*,
// access.*). Projections and lineage ignore internal events: a requester's
// claimed identifiers, or the identifier a privacy analyst looked up, are
// not proof that identifiers belong together.
func (t Type) Internal() bool {
	return strings.HasPrefix(string(t), "request.") || strings.HasPrefix(string(t), "access.")
}

// Known reports whether t is one of the external or internal types.
func (t Type) Known() bool {
	// Two lookups, not one over the appended lists: the append allocated
	// once an event in validation.
	return slices.Contains(ExternalTypes(), t) || slices.Contains(InternalTypes(), t)
}

// SpecVersion is the CloudEvents specversion Custody speaks.
const SpecVersion = "1.0"

// DefaultTenant is the tenant of events that name none.
const DefaultTenant = "default"

// Event is one event of the contract, decoded and validated. Identifier
// values in Subject are normalised (identity.Normalize). Strings are trimmed.
type Event struct {
	ID              uuid.UUID // idempotency key
	SpecVersion     string    // CloudEvents specversion, always "1.0"
	Type            Type
	Source          string    // the service that emitted it
	Time            time.Time // when it happened, UTC
	Tenant          string    // business or brand; DefaultTenant if unnamed
	Subject         Subject
	DataContentType string // CloudEvents datacontenttype, if sent
	DataSchema      string // CloudEvents dataschema, if sent
	// Data is the type-specific payload: *Collected, *Shared, *Processed,
	// *Transferred, *Corrected, *Erased, *ConsentChanged, *Linked or
	// *Request, matching Type.
	Data Data
	// RecordedAt is when Custody recorded the event. The ingest path sets
	// it; it is never read from input and not part of the external form.
	RecordedAt time.Time
}

// String names the event without any personal data.
func (e *Event) String() string {
	return fmt.Sprintf("%s %s from %s (tenant %s)", e.Type, e.ID, e.Source, e.Tenant)
}

// LogValue implements slog.LogValuer without any identifier or element value.
func (e *Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", e.ID.String()),
		slog.String("type", string(e.Type)),
		slog.String("source", e.Source),
		slog.String("tenant", e.Tenant),
		slog.Time("time", e.Time),
		slog.Any("identifiers", redacted(e.Subject.Identifiers)),
	)
}

// redacted renders identifiers with String: slog does not resolve
// LogValuers inside slices, so a []Identifier would be logged as JSON.
func redacted(ids []Identifier) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// Identifier is one identifier of the subject (kind, namespace, value). Its
// value never prints or logs.
type Identifier = identity.Identifier

// Subject is the person an event is about, named by one or more identifiers
// that all belong to them.
type Subject struct {
	Identifiers []Identifier `json:"identifiers"`
}

// Element is one data element: a named datum of a taxonomy category, with
// optionally its specific value (any JSON). The value is personal data:
// Element prints and logs only its name and category.
type Element struct {
	Name     string          `json:"name"`
	Category string          `json:"category"`
	Value    json.RawMessage `json:"value,omitempty"`
}

// String returns "name (category)", plus "=[redacted]" when it has a value.
func (el Element) String() string {
	s := el.Name + " (" + el.Category + ")"
	if len(el.Value) > 0 {
		s += "=[redacted]"
	}
	return s
}

// Format makes every fmt verb print String.
func (el Element) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(el.String())) }

// LogValue implements slog.LogValuer without the value.
func (el Element) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", el.Name), slog.String("category", el.Category), slog.Bool("has_value", len(el.Value) > 0))
}

// Data is the type-specific payload of an event.
type Data interface {
	// ValueSlots returns a pointer to every element of the payload that may
	// carry a specific value, in a fixed order, so storage can take the
	// values out (to encrypt them) and put them back in the same places.
	ValueSlots() []*Element
	isData()
}

func slots(lists ...[]Element) []*Element {
	var out []*Element
	for _, l := range lists {
		for i := range l {
			out = append(out, &l[i])
		}
	}
	return out
}
