package report

import (
	"encoding/json"
	"time"
)

// SchemaID is the $id of the JSON Schema the JSON form of a Report follows
// (schema/reports/right-to-know.v1.schema.json). A change that breaks
// readers gets a new version and a new file.
const SchemaID = "https://custody.dev/schema/reports/right-to-know.v1.schema.json"

// Report is a right-to-know / access report for one person over a window:
// what Cal. Civ. Code 1798.110, 1798.115 and 1798.130, 11 CCR 7024 and GDPR
// Art. 15 require a business to tell them. Its JSON form (WriteJSON) is the
// portable copy; HTML and PDF render the same content for people.
//
// Every list is sorted (the order is documented per field) and never nil,
// so two reports over the same facts are byte-identical and diff cleanly.
// Values of 11 CCR 7024(d) items (government id numbers, account numbers,
// passwords, security answers, biometric data) are never in a Report: Build
// leaves them out, and the report names them instead.
type Report struct {
	Schema      string    `json:"schema"` // SchemaID
	GeneratedAt time.Time `json:"generated_at"`
	Business    Business  `json:"business"`
	// Request is the request the report answers; nil for a report made
	// without one (e.g. by the privacy team).
	Request      *RequestInfo `json:"request"`
	Jurisdiction Term         `json:"jurisdiction"`
	// Scope is what the report shows: "specific_pieces" (categories and the
	// information itself) or "categories" (categories only).
	Scope string `json:"scope"`
	// ScopeNote explains, in plain language, why the information itself is
	// not shown; "" when it is.
	ScopeNote string `json:"scope_note"`
	Window    Window `json:"window"`
	// IdentifierKinds are the kinds of identifier the person's records
	// were found by (email, customer_id, …), in identity.Kinds order. The
	// identifiers themselves are not in the report.
	IdentifierKinds []Term `json:"identifier_kinds"`

	// Categories are the statutory categories of personal information
	// collected (Cal. Civ. Code 1798.140(v)(1)(A)–(L)), by letter. Letter L
	// is sensitive personal information (1798.140(ae)).
	Categories []StatutoryCategory `json:"categories"`
	// DataCategories are the finer categories of the taxonomy, by key.
	DataCategories []DataCategory `json:"data_categories"`
	// Sources are the categories of sources (11 CCR 7001(e)), by kind,
	// with the named sources where the information was not collected from
	// the person (GDPR Art. 15(1)(g)).
	Sources []SourceCategory `json:"sources"`
	// Purposes are the business and commercial purposes for collecting,
	// using, selling, sharing and disclosing, business purposes first,
	// then by key.
	Purposes []Purpose `json:"purposes"`

	// SoldOrShared lists, per statutory category, the categories of third
	// parties it was sold or shared with (1798.115(a)(2), 1798.130(a)(4)(B)).
	SoldOrShared []DisclosedCategory `json:"sold_or_shared"`
	// DisclosedForBusinessPurpose lists, per statutory category, the
	// categories of recipients it was disclosed to for a business purpose
	// (1798.115(a)(3), 1798.130(a)(4)(C)). Kept apart from SoldOrShared.
	DisclosedForBusinessPurpose []DisclosedCategory `json:"disclosed_for_business_purpose"`
	// OtherDisclosures are disclosures that are neither: at the person's
	// direction, to comply with the law, in a merger.
	OtherDisclosures []DisclosedCategory `json:"other_disclosures"`
	// Recipients are the named recipients with their countries (GDPR Art.
	// 15(1)(c); Oregon and Minnesota), by name, kind, role.
	Recipients []Recipient `json:"recipients"`

	// SpecificPieces is the information itself, by category then name;
	// empty unless Scope is "specific_pieces".
	SpecificPieces []Piece `json:"specific_pieces"`
	// AutomatedDecisions are decisions made by automated means (GDPR Art.
	// 15(1)(h)), by activity, then logic.
	AutomatedDecisions []AutomatedDecision `json:"automated_decisions"`
	// Choices are the person's opt-outs and consents, by choice.
	Choices []Choice `json:"choices"`
	// Erasures and Corrections are by time.
	Erasures    []Erasure    `json:"erasures"`
	Corrections []Correction `json:"corrections"`
}

// Term is a taxonomy or statutory term with its plain-language name.
type Term struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Business is who the report is from.
type Business struct {
	Name    string `json:"name"`
	Contact string `json:"contact,omitempty"` // how to reach the privacy team
}

// RequestInfo is the request a report answers.
type RequestInfo struct {
	ID         string    `json:"id"`
	Type       Term      `json:"type"`
	ReceivedAt time.Time `json:"received_at"`
	Channel    string    `json:"channel"`
	Agent      string    `json:"agent,omitempty"` // the authorized agent, if one made it
	// Sought is what was asked for; Verification the method and level
	// reached; Downgraded is true when specific pieces were asked for but
	// verification reached only the categories standard (11 CCR 7024(a)).
	Sought       string       `json:"sought"`
	Verification Verification `json:"verification"`
	Downgraded   bool         `json:"downgraded"`
}

// Verification is how the requester's identity was verified.
type Verification struct {
	Method string `json:"method"`
	Level  string `json:"level"`
}

// Window is the period the report covers, [From, To). Events outside it
// are not in the report.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Default is true for the law's default window (the 12 months before
	// the request was received), false when the person asked for another.
	Default bool `json:"default"`
}

// StatutoryCategory is a category of personal information of Cal. Civ.
// Code 1798.140(v)(1), under its exact statutory name.
type StatutoryCategory struct {
	Letter      string `json:"letter"`
	Name        string `json:"name"`   // verbatim
	Detail      string `json:"detail"` // the statutory parenthetical, "" if none
	Description string `json:"description"`
	// Sensitive is true for letter L, sensitive personal information.
	Sensitive bool `json:"sensitive"`
	// DataCategories are the data categories in it, by key.
	DataCategories []Term `json:"data_categories"`
}

// DataCategory is one category of the taxonomy that the report covers.
type DataCategory struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Letters are its statutory categories, "L" included when sensitive.
	Letters []string `json:"letters"`
	// Sensitive is its 1798.140(ae) clause, nil when not sensitive.
	Sensitive *Sensitive `json:"sensitive"`
	// GDPRSpecial is its GDPR Art. 9/10 special category, nil if none.
	GDPRSpecial *Term `json:"gdpr_special"`
	// NeverDisclose is true for 11 CCR 7024(d) items: the report names
	// them but never shows their values.
	NeverDisclose bool `json:"never_disclose"`
	// FirstCollected and LastCollected are nil when nothing of it was
	// collected inside the window (it was only moved, corrected or erased).
	FirstCollected *time.Time  `json:"first_collected"`
	LastCollected  *time.Time  `json:"last_collected"`
	Sources        []SourceRef `json:"sources"`  // by kind, name
	Purposes       []string    `json:"purposes"` // purpose keys, sorted
	// Retention is how long it is kept, in plain language; "" when the
	// business stated no period.
	Retention string `json:"retention"`
}

// Sensitive is a clause of Cal. Civ. Code 1798.140(ae).
type Sensitive struct {
	Clause   string `json:"clause"`   // e.g. "(1)(B)"
	Citation string `json:"citation"` // e.g. "Cal. Civ. Code 1798.140(ae)(1)(B)"
	Text     string `json:"text"`     // the statutory wording
}

// SourceRef is one source of information: its kind and, if given, name.
type SourceRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// SourceCategory is a category of sources.
type SourceCategory struct {
	Term
	// FromYou is true for information collected from the person or their
	// devices; false for information obtained from others or derived.
	FromYou bool `json:"from_you"`
	// Named are the sources' names as recorded, sorted.
	Named          []string `json:"named"`
	DataCategories []Term   `json:"data_categories"` // by key
}

// Purpose is a business or commercial purpose.
type Purpose struct {
	Term
	// Kind is "business" (one of Cal. Civ. Code 1798.140(e)) or "commercial".
	Kind      string `json:"kind"`
	Statutory string `json:"statutory"` // e.g. "1798.140(e)(2)"; "" for commercial purposes
	// DataCategories are the data categories collected, used or disclosed
	// for it, by key.
	DataCategories []Term `json:"data_categories"`
}

// DisclosedCategory is one statutory category and whom it was disclosed to.
type DisclosedCategory struct {
	Letter         string              `json:"letter"`
	Name           string              `json:"name"` // verbatim statutory name
	Sensitive      bool                `json:"sensitive"`
	DataCategories []Term              `json:"data_categories"` // by key
	Recipients     []RecipientCategory `json:"recipients"`      // by kind
	Purposes       []string            `json:"purposes"`        // purpose keys, sorted
}

// RecipientCategory is a category of third parties or recipients.
type RecipientCategory struct {
	Term
	// Disclosures are the disclosure types (sale, sharing,
	// business_purpose, …), by key.
	Disclosures []Term `json:"disclosures"`
	// Roles are the legal relationships (service_provider, third_party,
	// …), by key.
	Roles []Term `json:"roles"`
}

// Recipient is a named recipient.
type Recipient struct {
	Name           string    `json:"name"`
	Kind           Term      `json:"kind"`
	Role           Term      `json:"role"`
	Disclosures    []Term    `json:"disclosures"`     // by key
	Countries      []Country `json:"countries"`       // by code
	DataCategories []Term    `json:"data_categories"` // by key
	Purposes       []string  `json:"purposes"`        // purpose keys, sorted
	First          time.Time `json:"first"`
	Last           time.Time `json:"last"`
}

// Country is an ISO 3166-1 alpha-2 code and its English name.
type Country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Value statuses of a Piece.
const (
	ValueShown       = "shown"        // Value holds it
	ValueWithheld    = "withheld"     // an 11 CCR 7024(d) item: named, never shown
	ValueErased      = "erased"       // deleted; nothing to show
	ValueUnreadable  = "unreadable"   // its encryption key was destroyed on erasure
	ValueNotRecorded = "not_recorded" // the events named it without a value
)

// Piece is one specific piece of personal information.
type Piece struct {
	Category     string `json:"category"`
	CategoryName string `json:"category_name"`
	Name         string `json:"name"` // the element's name in the business's systems
	// Value is the value as recorded (any JSON), present only when
	// ValueStatus is ValueShown. A value over MaxShownValueBytes as compact
	// JSON, or nested deeper than MaxShownValueDepth, is shown in part: a
	// JSON string of the beginning of its compact JSON, with a Notice.
	Value       json.RawMessage `json:"value,omitempty"`
	ValueStatus string          `json:"value_status"`
	// Notice explains in plain language why no value is shown, or why it
	// is shown in part; "" when it is shown as recorded.
	Notice string `json:"notice"`
	// Status is held, corrected or erased, as of StatusAt (nil if no event
	// in the window set it).
	Status         string      `json:"status"`
	StatusAt       *time.Time  `json:"status_at"`
	FirstCollected *time.Time  `json:"first_collected"`
	LastCollected  *time.Time  `json:"last_collected"`
	Sources        []SourceRef `json:"sources"`
}

// AutomatedDecision is a decision a processing activity makes by itself.
type AutomatedDecision struct {
	Activity string `json:"activity"`
	// Significant is true when it has legal or similarly significant
	// effects (GDPR Art. 22).
	Significant bool   `json:"significant"`
	Logic       string `json:"logic"` // meaningful information about the logic involved
	// Purposes are purpose keys, sorted; Inputs and Outputs the data
	// categories it uses and derives, by key.
	Purposes []string  `json:"purposes"`
	Inputs   []Term    `json:"inputs"`
	Outputs  []Term    `json:"outputs"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

// Choice is the current state of one opt-out or consent.
type Choice struct {
	Choice Term      `json:"choice"`
	Status Term      `json:"status"` // opted_out, opted_in, granted, withdrawn
	Since  time.Time `json:"since"`
	// Mechanism is how the person last expressed it (gpc, form, …).
	Mechanism Term `json:"mechanism"`
}

// Erasure is one deletion. Exactly one of All, Categories and Elements says
// what was deleted.
type Erasure struct {
	At         time.Time    `json:"at"`
	All        bool         `json:"all"`
	Categories []Term       `json:"categories"`
	Elements   []ElementRef `json:"elements"`
	Reason     Term         `json:"reason"`
	RequestID  string       `json:"request_id"`
}

// ElementRef names an element: its name and data category.
type ElementRef struct {
	Name         string `json:"name"`
	Category     string `json:"category"`
	CategoryName string `json:"category_name"`
}

// Correction is one correction; the corrected values are among the
// specific pieces.
type Correction struct {
	At       time.Time    `json:"at"`
	Elements []ElementRef `json:"elements"`
}
