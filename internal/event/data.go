package event

// Taxonomy terms below (categories, purposes, kinds, roles, …) are keys of the
// tenant's taxonomy; the decoder checks them through a Vocabulary.

// Collected is the data of data.collected: personal data came in.
type Collected struct {
	Elements   []Element `json:"elements"`
	Origin     Origin    `json:"origin"`
	Purposes   []string  `json:"purposes"`
	System     string    `json:"system"`                // where it is stored
	LegalBasis string    `json:"legal_basis,omitempty"` // GDPR Art. 6 basis
	Notice     string    `json:"notice,omitempty"`      // the notice at collection (URL or version)
}

// Origin is where collected data came from.
type Origin struct {
	Kind string `json:"kind"`           // source kind, e.g. consumer, data_broker
	Name string `json:"name,omitempty"` // e.g. the broker's or form's name
}

// Shared is the data of data.shared: disclosed outside the business.
type Shared struct {
	Recipient  Recipient `json:"recipient"`
	Elements   []Element `json:"elements"`
	Purposes   []string  `json:"purposes"`
	Disclosure string    `json:"disclosure"` // business_purpose, sale, sharing, …
	System     string    `json:"system"`     // the system it was disclosed from
}

// Recipient is who received shared data.
type Recipient struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`              // recipient kind, e.g. advertising_network
	Role    string `json:"role"`              // legal relationship, e.g. third_party
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
}

// Processed is the data of data.processed: data used, possibly producing
// derived data (e.g. inferences).
type Processed struct {
	Activity          string             `json:"activity"`
	Purposes          []string           `json:"purposes"`
	Inputs            []Element          `json:"inputs"`            // name and category, no value
	Outputs           []Element          `json:"outputs,omitempty"` // derived elements, may carry values
	System            string             `json:"system"`
	AutomatedDecision *AutomatedDecision `json:"automated_decision,omitempty"`
}

// AutomatedDecision describes a decision made by the processing itself.
type AutomatedDecision struct {
	Significant bool   `json:"significant"` // legal or similarly significant effect
	Logic       string `json:"logic"`       // meaningful information about the logic
}

// Transferred is the data of data.transferred: copied between internal
// systems or across borders.
type Transferred struct {
	Elements   []Element `json:"elements"`
	FromSystem string    `json:"from_system"`
	ToSystem   string    `json:"to_system"`
	ToCountry  string    `json:"to_country,omitempty"` // ISO 3166-1 alpha-2
	Mechanism  string    `json:"mechanism,omitempty"`  // transfer safeguard; required with ToCountry
}

// Corrected is the data of data.corrected: values corrected.
type Corrected struct {
	Elements []Element `json:"elements"` // each with its new value
	System   string    `json:"system,omitempty"`
}

// Erased is the data of data.erased: values deleted. Exactly one of
// Elements, Categories and All is set.
type Erased struct {
	Elements   []Element `json:"elements,omitempty"` // name and category, no value
	Categories []string  `json:"categories,omitempty"`
	All        bool      `json:"all,omitempty"`
	Reason     string    `json:"reason"` // consumer_request, retention, account_closed, …
	System     string    `json:"system"`
	RequestID  string    `json:"request_id,omitempty"`
}

// ConsentChanged is the data of consent.changed: a choice or opt-out.
type ConsentChanged struct {
	Choice    string        `json:"choice"` // sale, sharing, targeted_advertising, …
	Status    ConsentStatus `json:"status"`
	Mechanism string        `json:"mechanism"` // gpc, form, email_link, banner, agent, …
	System    string        `json:"system,omitempty"`
}

// ConsentStatus is the state a consent.changed event sets.
type ConsentStatus string

// Consent statuses (a fixed set, not tenant-extensible).
const (
	OptedOut  ConsentStatus = "opted_out"
	OptedIn   ConsentStatus = "opted_in"
	Granted   ConsentStatus = "granted"
	Withdrawn ConsentStatus = "withdrawn"
)

// ConsentStatuses returns every status in a stable order.
func ConsentStatuses() []ConsentStatus {
	return []ConsentStatus{OptedOut, OptedIn, Granted, Withdrawn}
}

// Linked is the (empty) data of subject.linked: all identifiers of the
// subject belong to one person.
type Linked struct{}

// ValueSlots implements Data: elements (collected, shared, transferred,
// corrected) and derived outputs (processed) may carry values; inputs,
// erased elements and the other types never do.
func (d *Collected) ValueSlots() []*Element      { return slots(d.Elements) }
func (d *Shared) ValueSlots() []*Element         { return slots(d.Elements) }
func (d *Processed) ValueSlots() []*Element      { return slots(d.Outputs) }
func (d *Transferred) ValueSlots() []*Element    { return slots(d.Elements) }
func (d *Corrected) ValueSlots() []*Element      { return slots(d.Elements) }
func (d *Erased) ValueSlots() []*Element         { return nil }
func (d *ConsentChanged) ValueSlots() []*Element { return nil }
func (d *Linked) ValueSlots() []*Element         { return nil }

func (*Collected) isData()      {}
func (*Shared) isData()         {}
func (*Processed) isData()      {}
func (*Transferred) isData()    {}
func (*Corrected) isData()      {}
func (*Erased) isData()         {}
func (*ConsentChanged) isData() {}
func (*Linked) isData()         {}
