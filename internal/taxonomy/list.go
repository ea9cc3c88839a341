package taxonomy

// List names one controlled vocabulary of the taxonomy. Event validation asks
// Lookup(tenant, list, key) for every term an event uses.
type List string

const (
	// Categories are dotted data-category keys such as contact.email.
	Categories List = "categories"
	// SourceKinds are the 11 CCR 7001(e) source groupings (origin.kind).
	SourceKinds List = "source_kinds"
	// RecipientKinds are kinds of recipients (recipient.kind).
	RecipientKinds List = "recipient_kinds"
	// RecipientRoles are legal relationships (recipient.role).
	RecipientRoles List = "recipient_roles"
	// DisclosureTypes are business_purpose, sale, sharing, … (disclosure).
	DisclosureTypes List = "disclosure_types"
	// Purposes are business and commercial purposes (purposes[]).
	Purposes List = "purposes"
	// LegalBases are GDPR Art. 6 bases (legal_basis).
	LegalBases List = "legal_bases"
	// ConsentChoices are what a consent.changed event is about (choice).
	ConsentChoices List = "consent_choices"
	// ConsentMechanisms are how a choice was expressed (mechanism).
	ConsentMechanisms List = "consent_mechanisms"
	// ErasureReasons are why data was erased (data.erased reason).
	ErasureReasons List = "erasure_reasons"
	// TransferMechanisms are cross-border safeguards (data.transferred mechanism).
	TransferMechanisms List = "transfer_mechanisms"
)

// Lists returns every vocabulary in a stable order.
func Lists() []List {
	return []List{Categories, SourceKinds, RecipientKinds, RecipientRoles, DisclosureTypes, Purposes, LegalBases, ConsentChoices, ConsentMechanisms, ErasureReasons, TransferMechanisms}
}

// Valid reports whether l is one of the lists returned by Lists.
func (l List) Valid() bool {
	for _, known := range Lists() {
		if l == known {
			return true
		}
	}
	return false
}
