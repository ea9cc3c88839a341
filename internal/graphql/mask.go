package graphql

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// Least exposure. The values of data elements whose category the taxonomy
// marks never-disclose (11 CCR 7024(d): card and account numbers,
// government ids, health insurance ids, passwords, security answers,
// authentication secrets, biometrics, …) are masked in every answer,
// whoever asks: a person's elements (Subject.elements.value) and the element
// values in their events' data (Event.data) alike. Nothing else the API
// returns carries element values: lineage and the data map name elements
// only, and right-to-know reports withhold never-disclose values
// themselves. An admin sees one value in clear only through revealValue,
// with a stated purpose, and the reveal is recorded in the person's access
// log (reveal.go).
//
// maskValue is the one place that decides what a value shows; every value
// leaves the read side through it (maskSubject, maskEvent). Identifying
// numbers keep their last four characters ("•••• 1111"), when they have at
// least eight (so at most half is shown); everything else never-disclose —
// and any value whose category the taxonomy does not know (fail closed) —
// is fully masked, without even its length.

// Masks shown in place of a value.
const (
	maskFull     = "••••"
	maskLastFour = "•••• "
)

// lastFourCategories are the never-disclose categories that are
// identifying numbers, whose last four characters may be shown, as on a
// receipt. Any other never-disclose category — passwords, security
// answers, authentication secrets, card security codes, biometric
// templates, document copies, statements, and every never-disclose
// category a tenant adds — is fully masked.
var lastFourCategories = map[string]bool{
	"financial.card_number":         true,
	"financial.bank_account":        true,
	"government_id.ssn":             true,
	"government_id.drivers_license": true,
	"government_id.state_id":        true,
	"government_id.passport":        true,
	"government_id.national_id":     true,
	"government_id.tax_id":          true,
	"health.insurance_id":           true,
}

// exposure decides what reads show of element values, by the taxonomy's
// classification of their category for the tenant.
type exposure struct {
	tax *taxonomy.Taxonomy
	// known caches the masking of the categories the taxonomy knows, by
	// tenant and category (a *Taxonomy never changes): a person's timeline
	// asks about the same few categories thousands of times.
	known *sync.Map // categoryOf → masking
}

type categoryOf struct{ tenant, category string }

func newExposure(tax *taxonomy.Taxonomy) exposure {
	return exposure{tax: tax, known: &sync.Map{}}
}

// masking is how a category's values are shown.
type masking int

const (
	shown    masking = iota // in clear
	lastFour                // at most the last four characters
	hidden                  // not at all
)

func (x exposure) masking(tenant, category string) masking {
	k := categoryOf{tenant, category}
	if m, ok := x.known.Load(k); ok {
		return m.(masking)
	}
	c, ok := x.tax.Category(tenant, category)
	if !ok {
		// Unknown to the taxonomy (an extension removed since, or data
		// that never passed validation): what it is cannot be told, so
		// nothing of it is shown. Not cached: such keys are unbounded.
		return hidden
	}
	m := hidden
	switch {
	case !c.NeverDisclose:
		m = shown
	case lastFourCategories[c.Key]:
		m = lastFour
	}
	x.known.Store(k, m)
	return m
}

// maskValue returns what a read shows of v, a value of category for
// tenant, and whether that is masked. An absent value stays absent.
func (x exposure) maskValue(tenant, category string, v json.RawMessage) (json.RawMessage, bool) {
	if len(v) == 0 || string(v) == "null" {
		return v, false
	}
	switch x.masking(tenant, category) {
	case shown:
		return v, false
	case lastFour:
		if tail, ok := lastFourOf(v); ok {
			return quoted(maskLastFour + tail), true
		}
	}
	return quoted(maskFull), true
}

// lastFourOf returns the last four letters or digits of a string or number
// value with at least eight of them; separators (spaces, dashes, dots) are
// not counted. Objects, arrays, booleans and short values have none.
func lastFourOf(v json.RawMessage) (string, bool) {
	var text string
	var s string
	var n json.Number
	switch {
	case json.Unmarshal(v, &s) == nil:
		text = s
	case json.Unmarshal(v, &n) == nil:
		text = n.String()
	default:
		return "", false
	}
	var alnum []rune
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			alnum = append(alnum, r)
		}
	}
	if len(alnum) < 8 {
		return "", false
	}
	return string(alnum[len(alnum)-4:]), true
}

func quoted(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// maskSubject is the view of a person's record that reads return: every
// element value and every element value in the events' data through
// maskValue. sub is not changed (the loader may share it).
func (x exposure) maskSubject(sub inventory.Subject) (*model.Subject, error) {
	tenant := sub.Record.Tenant
	if tenant == "" {
		tenant = sub.Tenant
	}
	out := &model.Subject{Record: sub.Record, Merges: sub.Merges,
		Elements: make([]model.Element, len(sub.Record.Elements)), Timeline: make([]model.Event, len(sub.Events))}
	for i, el := range sub.Record.Elements {
		el.Value, out.Elements[i].Masked = x.maskValue(tenant, el.Category, el.Value)
		out.Elements[i].Element = el
	}
	for i, rec := range sub.Events {
		ev, err := x.maskEvent(rec)
		if err != nil {
			return nil, err
		}
		out.Timeline[i] = ev
	}
	return out, nil
}

// maskEvent is the view of an event that reads return: its data with
// every element value through maskValue. An event with nothing to mask is
// returned as it is; otherwise its data is copied first (rec is not
// changed).
func (x exposure) maskEvent(rec event.Recorded) (model.Event, error) {
	e := rec.Event
	if e == nil || e.Data == nil {
		return model.Event{Rec: rec}, nil
	}
	need := false
	for _, s := range e.Data.ValueSlots() {
		if _, masked := x.maskValue(e.Tenant, s.Category, s.Value); masked {
			need = true
			break
		}
	}
	if !need {
		return model.Event{Rec: rec}, nil
	}
	b, err := json.Marshal(e.Data)
	if err != nil {
		return model.Event{}, fmt.Errorf("event %s: encode data: %w", e.ID, err)
	}
	d, err := event.NewData(e.Type)
	if err != nil {
		return model.Event{}, fmt.Errorf("event %s: %w", e.ID, err)
	}
	if err := json.Unmarshal(b, d); err != nil {
		return model.Event{}, fmt.Errorf("event %s: copy data: %w", e.ID, err)
	}
	for _, s := range d.ValueSlots() {
		s.Value, _ = x.maskValue(e.Tenant, s.Category, s.Value)
	}
	cp := *e
	cp.Data = d
	rec.Event = &cp
	return model.Event{Rec: rec, Masked: true}, nil
}

// elementValue finds the value of the element category/name among an
// event's value slots.
func elementValue(d event.Data, category, name string) (json.RawMessage, bool) {
	if d == nil {
		return nil, false
	}
	for _, s := range d.ValueSlots() {
		if s.Category == category && s.Name == name {
			return s.Value, true
		}
	}
	return nil, false
}

// describeReveal names what a reveal showed, for the access log: the
// element and where its value came from, never the value.
func describeReveal(category, name, eventID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "value of %s (%s)", name, category)
	if eventID == "" {
		b.WriteString(", current")
	} else {
		b.WriteString(" in event " + eventID)
	}
	return b.String()
}
