package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/custodyhq/custody/internal/taxonomy"
)

// Profile is one business as data: its systems, sources, recipients and
// practices, and how the people it deals with behave. Keys of taxonomy
// terms (categories, purposes, kinds, …) are the tenant's taxonomy keys.
// Load one with LoadProfile and check it with Validate before use.
type Profile struct {
	// Tenant is the tenant of the events (lower case, a-z 0-9 _ -); it is
	// also the profile's name on the command line.
	Tenant string `yaml:"tenant"`
	// Name is the business's name for people.
	Name string `yaml:"name"`
	// Policy names the privacy policy the profile models.
	Policy string `yaml:"policy"`
	// Summary says in a sentence what the business does.
	Summary string `yaml:"summary"`
	// Country is where the business is established (ISO 3166-1 alpha-2).
	Country string `yaml:"country"`
	// Identity says what the business's identifiers look like.
	Identity IdentityPlan `yaml:"identity"`
	// Taxonomy holds terms the tenant needs beyond the base taxonomy. The
	// server must be configured with the same extension.
	Taxonomy *taxonomy.Extension `yaml:"taxonomy,omitempty"`

	Lifecycle    Lifecycle     `yaml:"lifecycle"`
	Segments     []Segment     `yaml:"segments"`
	Interactions []Interaction `yaml:"interactions"`
	Systems      []System      `yaml:"systems"`
	Sources      []Source      `yaml:"sources"`
	Recipients   []Recipient   `yaml:"recipients"`

	Collections []Collection    `yaml:"collections"`
	Disclosures []Disclosure    `yaml:"disclosures"`
	Processing  []Activity      `yaml:"processing"`
	Transfers   []Transfer      `yaml:"transfers"`
	Consents    []Consent       `yaml:"consents"`
	Corrections []Correction    `yaml:"corrections"`
	Erasures    []Erasure       `yaml:"erasures"`
	Retention   []RetentionRule `yaml:"retention"`

	// Violations are practices the policy does not declare, generated on
	// purpose to demonstrate drift between policy and practice.
	Violations Violations `yaml:"violations"`

	// root is the decoded YAML, for line numbers in validation problems.
	root *yaml.Node
}

// IdentityPlan says what identifiers of the business's people look like.
type IdentityPlan struct {
	// AccountID is the identifier kind of an account: customer_id, user_id
	// or account_id.
	AccountID string `yaml:"account_id"`
	// Prefix starts every account id, e.g. "IPC-".
	Prefix string `yaml:"prefix"`
	// Phone is the country calling code of people's phone numbers, e.g. "+1".
	Phone string `yaml:"phone"`
	// Site is the web origin pages are generated under, e.g.
	// https://shop.ipcon.test (use a reserved domain such as .test).
	Site string `yaml:"site"`
	// Names picks the name pool: "us", "my" or "se".
	Names string `yaml:"names"`
}

// Lifecycle is how people dealing with the business behave. Shares are
// fractions of people in [0, 1]; rates are per person and month.
type Lifecycle struct {
	// Signup is the share of people who create an account; the others
	// only visit.
	Signup float64 `yaml:"signup"`
	// MaxDevices is the most devices (browsers, phones) a person uses; each
	// person gets 1 to MaxDevices. Default 1.
	MaxDevices int `yaml:"max_devices"`
	// Mobile is the share of devices that are phones (with an advertising id).
	Mobile float64 `yaml:"mobile"`
	// VisitsPerMonth is how often a person visits the website or app.
	VisitsPerMonth float64 `yaml:"visits_per_month"`
	// LoginsPerMonth is how often an account holder logs in.
	LoginsPerMonth float64 `yaml:"logins_per_month"`
	// AccountClosure is the share of account holders who close their account.
	AccountClosure float64 `yaml:"account_closure"`
	// DeletionRequest is the share of account holders who ask for their
	// personal information to be deleted.
	DeletionRequest float64 `yaml:"deletion_request"`
	// Correction is the share of account holders who correct something.
	Correction float64 `yaml:"correction"`
}

// Segment is a group of people a practice or interaction may be limited
// to (e.g. those who sign in with a social account).
type Segment struct {
	Key         string  `yaml:"key"`
	Share       float64 `yaml:"share"`
	Description string  `yaml:"description"`
}

// Audiences of an Interaction.
const (
	AudienceCustomers = "customers" // account holders only (the default)
	AudienceEveryone  = "everyone"  // visitors too, identified by their devices
)

// Interaction is something people do from time to time (purchase, support
// chat, …); practices happen "on" it.
type Interaction struct {
	Key string `yaml:"key"`
	// PerMonth is the mean number of times per person and month.
	PerMonth float64 `yaml:"per_month"`
	// Audience is AudienceCustomers (default) or AudienceEveryone.
	Audience string `yaml:"audience"`
	// Segment limits the interaction to a segment's people.
	Segment string `yaml:"segment"`
	// Once limits it to one time per person.
	Once        bool   `yaml:"once"`
	Description string `yaml:"description"`
}

// System is an internal system that holds personal data.
type System struct {
	Key         string `yaml:"key"`
	Description string `yaml:"description"`
	Country     string `yaml:"country"`
}

// Source is where collected data comes from: a source kind and a name.
type Source struct {
	Key  string `yaml:"key"`
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
}

// Recipient is someone outside the business who receives personal data.
type Recipient struct {
	Key     string `yaml:"key"`
	Name    string `yaml:"name"`
	Kind    string `yaml:"kind"`
	Role    string `yaml:"role"`
	Country string `yaml:"country"`
}

// Element is a data element: the business's name for it and its category.
// Values, if given, are the sample values the generator picks from;
// otherwise it makes one up from the category (or sends none).
type Element struct {
	Name     string   `yaml:"name"`
	Category string   `yaml:"category"`
	Values   []string `yaml:"values,omitempty"`
}

// elementKey identifies an element by name and category.
type elementKey struct{ name, category string }

// Built-in triggers: what the generator simulates itself. Interactions
// and consents (by id) are triggers too.
const (
	TriggerVisit           = "visit"            // a visit to the website or app (by device)
	TriggerSignup          = "signup"           // the account is created
	TriggerLogin           = "login"            // a login (also on each new device)
	TriggerMonthly         = "monthly"          // once a month per account holder
	TriggerAccountClosed   = "account_closed"   // the person closes their account
	TriggerDeletionRequest = "deletion_request" // the person asks for deletion
)

// BuiltinTriggers returns the built-in triggers.
func BuiltinTriggers() []string {
	return []string{TriggerVisit, TriggerSignup, TriggerLogin, TriggerMonthly, TriggerAccountClosed, TriggerDeletionRequest}
}

// Triggers lists what a practice happens on. In YAML it is one trigger or
// a list of them.
type Triggers []string

// UnmarshalYAML accepts a scalar or a sequence.
func (t *Triggers) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*t = Triggers{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*t = list
	return nil
}

// When says when a practice happens: on which triggers, for whom, how
// often, and which opt-outs stop it.
type When struct {
	// ID names the practice; unique within the profile.
	ID string `yaml:"id"`
	// On lists the triggers the practice happens on.
	On Triggers `yaml:"on"`
	// Segment limits the practice to a segment's people.
	Segment string `yaml:"segment,omitempty"`
	// Chance is the probability it happens on each trigger (default 1).
	Chance float64 `yaml:"chance,omitempty"`
	// StopsOn lists consent choices whose opt-out (or withdrawal) stops
	// the practice for that person. Sales stop on "sale" and sharing on
	// "sharing" and "targeted_advertising" without saying so.
	StopsOn []string `yaml:"stops_on,omitempty"`
	// Violates quotes the policy passage a violation contradicts; required
	// in Violations, forbidden elsewhere.
	Violates string `yaml:"violates,omitempty"`
}

// Collection is a collection practice (data.collected).
type Collection struct {
	When `yaml:",inline"`
	// Source is a source key; or Sources lists several of one kind, one of
	// which each person uses (e.g. SSO providers).
	Source     string    `yaml:"source,omitempty"`
	Sources    []string  `yaml:"sources,omitempty"`
	System     string    `yaml:"system"`
	Purposes   []string  `yaml:"purposes"`
	LegalBasis string    `yaml:"legal_basis,omitempty"`
	Notice     string    `yaml:"notice,omitempty"`
	Elements   []Element `yaml:"elements"`
}

// Disclosure is a disclosure practice (data.shared).
type Disclosure struct {
	When       `yaml:",inline"`
	Recipient  string    `yaml:"recipient"`
	Disclosure string    `yaml:"disclosure"`
	Purposes   []string  `yaml:"purposes"`
	System     string    `yaml:"system"`
	Elements   []Element `yaml:"elements"`
}

// Activity is a processing practice (data.processed); Outputs are derived
// data such as inferences.
type Activity struct {
	When              `yaml:",inline"`
	Activity          string             `yaml:"activity"`
	System            string             `yaml:"system"`
	Purposes          []string           `yaml:"purposes"`
	Inputs            []Element          `yaml:"inputs"`
	Outputs           []Element          `yaml:"outputs,omitempty"`
	AutomatedDecision *AutomatedDecision `yaml:"automated_decision,omitempty"`
}

// AutomatedDecision describes a decision a processing activity makes.
type AutomatedDecision struct {
	Significant bool   `yaml:"significant"`
	Logic       string `yaml:"logic"`
}

// Transfer is a transfer practice (data.transferred) between two systems,
// possibly across a border.
type Transfer struct {
	When      `yaml:",inline"`
	From      string    `yaml:"from"`
	To        string    `yaml:"to"`
	ToCountry string    `yaml:"to_country,omitempty"`
	Mechanism string    `yaml:"mechanism,omitempty"`
	Elements  []Element `yaml:"elements"`
}

// Consent is a choice people make (consent.changed), at most once per
// person: with probability Chance, on one occurrence of a trigger.
type Consent struct {
	ID      string   `yaml:"id"`
	On      Triggers `yaml:"on"`
	Segment string   `yaml:"segment,omitempty"`
	// Chance is the share of people who make the choice.
	Chance float64 `yaml:"chance"`
	// Choices are set together (a GPC signal opts out of sale and sharing).
	Choices   []string `yaml:"choices"`
	Status    string   `yaml:"status"`
	Mechanism string   `yaml:"mechanism"`
	System    string   `yaml:"system,omitempty"`
	// Ignored (violations only): the choice is recorded but the business
	// goes on as before.
	Ignored  bool   `yaml:"ignored,omitempty"`
	Violates string `yaml:"violates,omitempty"`
}

// Correction is a correction people may ask for (data.corrected): a held
// element gets a new value.
type Correction struct {
	ID      string  `yaml:"id"`
	Element Element `yaml:"element"`
	System  string  `yaml:"system"`
}

// Erasure is an erasure practice (data.erased) on a trigger, typically
// account_closed or deletion_request. Exactly one of All, Categories and
// Elements says what is erased; only what the person's data in System
// holds is named.
type Erasure struct {
	When       `yaml:",inline"`
	Reason     string    `yaml:"reason"`
	System     string    `yaml:"system"`
	All        bool      `yaml:"all,omitempty"`
	Categories []string  `yaml:"categories,omitempty"`
	Elements   []Element `yaml:"elements,omitempty"`
}

// Anchors of a RetentionRule.
const (
	AfterCollection    = "collection"     // the first collection of the data
	AfterOptOut        = "opt_out"        // an opt-out of Choice
	AfterAccountClosed = "account_closed" // the closure of the account
)

// RetentionRule erases categories from a system a Period after an anchor
// (data.erased with reason "retention").
type RetentionRule struct {
	ID          string   `yaml:"id"`
	Description string   `yaml:"description"`
	Categories  []string `yaml:"categories"`
	System      string   `yaml:"system"`
	Period      Period   `yaml:"period"`
	After       string   `yaml:"after"`
	// Choice is the consent choice whose opt-out starts the clock (After
	// opt_out only).
	Choice string `yaml:"choice,omitempty"`
}

// Violations are practices a profile performs although its policy does
// not declare them (or contradicts them).
type Violations struct {
	Collections []Collection `yaml:"collections,omitempty"`
	Disclosures []Disclosure `yaml:"disclosures,omitempty"`
	Processing  []Activity   `yaml:"processing,omitempty"`
	Consents    []Consent    `yaml:"consents,omitempty"`
}

// Empty reports whether there are no violations.
func (v Violations) Empty() bool {
	return len(v.Collections)+len(v.Disclosures)+len(v.Processing)+len(v.Consents) == 0
}

// Period is a retention period: a number of days, weeks, months or years,
// written 30d, 12w, 6mo, 7y.
type Period struct {
	N    int
	Unit string // d, w, mo, y
}

// ParsePeriod reads "30d", "12w", "6mo" or "7y".
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	for _, unit := range []string{"mo", "d", "w", "y"} {
		if num, ok := strings.CutSuffix(s, unit); ok {
			n, err := strconv.Atoi(num)
			if err != nil || n <= 0 {
				break
			}
			return Period{N: n, Unit: unit}, nil
		}
	}
	return Period{}, fmt.Errorf("period %q: want a positive number and a unit: 30d, 12w, 6mo or 7y", s)
}

// String renders the period as ParsePeriod reads it.
func (p Period) String() string {
	if p.N == 0 {
		return ""
	}
	return strconv.Itoa(p.N) + p.Unit
}

// Month is the length of a month in generated timelines: a twelfth of a
// Gregorian year. Fixed lengths keep a timeline the same, only shifted,
// whatever the end date.
const Month = 730*time.Hour + 29*time.Minute + 6*time.Second

// Duration returns the period in fixed units: days of 24 h, weeks of 7 days,
// Months and years of 12 Months.
func (p Period) Duration() time.Duration {
	switch p.Unit {
	case "d":
		return time.Duration(p.N) * 24 * time.Hour
	case "w":
		return time.Duration(p.N) * 7 * 24 * time.Hour
	case "mo":
		return time.Duration(p.N) * Month
	case "y":
		return time.Duration(p.N) * 12 * Month
	}
	return 0
}

// UnmarshalYAML reads a period written as ParsePeriod reads it.
func (p *Period) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a period is a scalar such as 6mo", n.Line)}}
	}
	v, err := ParsePeriod(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*p = v
	return nil
}

// MarshalYAML writes the period as a scalar.
func (p Period) MarshalYAML() (any, error) { return p.String(), nil }

// LoadProfile reads one profile from YAML. Unknown fields are errors, as
// is more than one document. The profile is not validated yet: call
// Validate.
func LoadProfile(r io.Reader) (Profile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Profile{}, fmt.Errorf("read profile: %w", err)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Profile{}, errors.New("profile: the document is empty")
		}
		return Profile{}, fmt.Errorf("profile: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Profile{}, errors.New("profile: more than one YAML document; expected exactly one")
	}
	// Decode the bytes again, strictly: yaml.Node.Decode cannot reject
	// unknown fields.
	var p Profile
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("profile: %w", err)
	}
	p.root = &root
	return p, nil
}
