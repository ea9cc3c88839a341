package sdk

import (
	"encoding/json"
	"io"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// The event contract, re-exported from Custody's own event package so that
// what the SDK sends is by construction what the server reads.
type (
	// Event is one event of the contract. Build it with a constructor
	// (Collected, Shared, …); its fields are exported for reading and for
	// the rare case a constructor does not fit.
	Event = event.Event
	// Type is an event type such as data.collected.
	Type = event.Type
	// Subject is the person an event is about; build it with Person.
	Subject = event.Subject
	// Identifier is one identifier of the subject; build it with Email,
	// Phone, CustomerID, …. Its value never prints or logs.
	Identifier = identity.Identifier
	// IdentifierKind is the kind of an Identifier.
	IdentifierKind = identity.Kind
	// Element is one data element: a name, a taxonomy category and
	// optionally the value. Build it with Elem or ElemValue. Its value never
	// prints or logs.
	Element = event.Element
	// FieldError is one problem with one event: a JSON path such as
	// data.elements[0].category and a reason that says how to fix it.
	FieldError = event.FieldError

	// CollectedData is the data of data.collected.
	CollectedData = event.Collected
	// SharedData is the data of data.shared.
	SharedData = event.Shared
	// ProcessedData is the data of data.processed.
	ProcessedData = event.Processed
	// TransferredData is the data of data.transferred.
	TransferredData = event.Transferred
	// CorrectedData is the data of data.corrected.
	CorrectedData = event.Corrected
	// ErasedData is the data of data.erased.
	ErasedData = event.Erased
	// ConsentChangedData is the data of consent.changed.
	ConsentChangedData = event.ConsentChanged

	// Origin is where collected data came from (CollectedData.Origin).
	Origin = event.Origin
	// Recipient is who received shared data (SharedData.Recipient).
	Recipient = event.Recipient
	// AutomatedDecision describes a decision made by processing itself.
	AutomatedDecision = event.AutomatedDecision
	// ConsentStatus is the state a consent.changed event sets.
	ConsentStatus = event.ConsentStatus

	// TaxonomyExtension holds a tenant's own taxonomy terms (see
	// Config.TaxonomyExtensions and LoadTaxonomyExtension).
	TaxonomyExtension = taxonomy.Extension
	// TaxonomyCategory is a data category of a TaxonomyExtension.
	TaxonomyCategory = taxonomy.Category
	// TaxonomyPurpose is a purpose of a TaxonomyExtension.
	TaxonomyPurpose = taxonomy.Purpose
	// TaxonomyDisclosure is a disclosure type of a TaxonomyExtension.
	TaxonomyDisclosure = taxonomy.Disclosure
	// TaxonomyTerm is a term of the other lists of a TaxonomyExtension.
	TaxonomyTerm = taxonomy.Term
)

// Event types.
const (
	TypeCollected      = event.TypeCollected
	TypeShared         = event.TypeShared
	TypeProcessed      = event.TypeProcessed
	TypeTransferred    = event.TypeTransferred
	TypeCorrected      = event.TypeCorrected
	TypeErased         = event.TypeErased
	TypeConsentChanged = event.TypeConsentChanged
	TypeSubjectLinked  = event.TypeSubjectLinked
)

// Consent statuses.
const (
	OptedOut  = event.OptedOut
	OptedIn   = event.OptedIn
	Granted   = event.Granted
	Withdrawn = event.Withdrawn
)

// Identifier kinds.
const (
	KindEmail         = identity.Email
	KindPhone         = identity.Phone
	KindUserID        = identity.UserID
	KindCustomerID    = identity.CustomerID
	KindAccountID     = identity.AccountID
	KindDeviceID      = identity.DeviceID
	KindCookieID      = identity.CookieID
	KindAdvertisingID = identity.AdvertisingID
	KindExternal      = identity.External
)

// DefaultTenant is the tenant of events and clients that name none.
const DefaultTenant = event.DefaultTenant

// Person returns the subject named by ids, which must all belong to one
// person: sdk.Person(sdk.Email("jane@example.com"), sdk.CustomerID("C-1009")).
func Person(ids ...Identifier) Subject {
	return Subject{Identifiers: append([]Identifier(nil), ids...)}
}

// Email is an email address. Custody matches it trimmed and lower-cased.
func Email(v string) Identifier { return Identifier{Kind: KindEmail, Value: v} }

// Phone is a phone number with its country code (E.164, e.g. +14155550100;
// spaces, dashes and parentheses are fine). A number without a country code
// is rejected, not guessed, unless the event's tenant has a default phone
// region (Config.PhoneRegions).
func Phone(v string) Identifier { return Identifier{Kind: KindPhone, Value: v} }

// UserID is a user id of your service.
func UserID(v string) Identifier { return Identifier{Kind: KindUserID, Value: v} }

// CustomerID is a customer number.
func CustomerID(v string) Identifier { return Identifier{Kind: KindCustomerID, Value: v} }

// AccountID is an account id or number.
func AccountID(v string) Identifier { return Identifier{Kind: KindAccountID, Value: v} }

// DeviceID is a device identifier.
func DeviceID(v string) Identifier { return Identifier{Kind: KindDeviceID, Value: v} }

// CookieID is a cookie identifier.
func CookieID(v string) Identifier { return Identifier{Kind: KindCookieID, Value: v} }

// AdvertisingID is a mobile advertising id (IDFA or GAID, a UUID).
func AdvertisingID(v string) Identifier { return Identifier{Kind: KindAdvertisingID, Value: v} }

// External is an id in another system, named by namespace (e.g.
// "salesforce").
func External(namespace, v string) Identifier {
	return Identifier{Kind: KindExternal, Namespace: namespace, Value: v}
}

// Elem is a data element without its value: the name your system uses and
// its taxonomy category, e.g. sdk.Elem("card", "financial.card_number").
func Elem(name, category string) Element { return Element{Name: name, Category: category} }

// badValue marks an element value that could not be encoded; Emit reports
// it as a field error.
const badValue = 0

// ElemValue is a data element with its specific value, encoded with
// encoding/json (a string, number, object, …). A value that cannot be
// encoded (a channel, a func, NaN) makes Emit reject the event with the
// value's path.
func ElemValue(name, category string, value any) Element {
	b, err := json.Marshal(value)
	if err != nil {
		b = append([]byte{badValue}, err.Error()...)
	}
	return Element{Name: name, Category: category, Value: b}
}

// LoadTaxonomyExtension reads a tenant's taxonomy extension from YAML, in the
// same format as the server's tenant extension files.
func LoadTaxonomyExtension(r io.Reader) (TaxonomyExtension, error) {
	return taxonomy.LoadExtension(r)
}
