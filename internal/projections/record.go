package projections

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// Window selects events by Event.Time: [From, To). A zero bound is unbounded.
type Window struct {
	From, To time.Time
}

// Contains reports whether t is inside the window.
func (w Window) Contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// Record is one person's inventory over a window: what the business holds or
// held about them, where it came from, why, where it is, whom it was
// disclosed to, how it was used, their choices, and what was erased or
// corrected. Empty lists are nil.
type Record struct {
	Tenant      string
	Person      PersonID
	Identifiers []identity.Ref // all of the person's identifiers (never windowed)
	Window      Window
	Events      int // distinct events about the person in the window

	Elements    []Element         // by category, then name
	Categories  []CategorySummary // the elements rolled up by category
	Disclosures []Disclosure      // by recipient name, kind, role, disclosure type
	Activities  []Activity        // by activity, system
	Consents    []Consent         // by choice
	Erasures    []Erasure         // by time, event id
	Corrections []Correction      // by time, event id
}

// ElementKey names a data element: its name and taxonomy category.
type ElementKey struct {
	Name     string
	Category string
}

// Source is where collected data came from: a source kind and name. Derived
// data (outputs of data.processed) has kind "inferred" and the activity as name.
type Source struct {
	Kind string
	Name string
}

// Status is an element's current state.
type Status string

// Element statuses.
const (
	StatusHeld      Status = "held"      // collected or derived, and not since corrected or erased
	StatusCorrected Status = "corrected" // its latest status event is a correction
	StatusErased    Status = "erased"    // its latest status event is an erasure
)

// SourceInferred is the source kind of derived data (a taxonomy source kind).
const SourceInferred = "inferred"

// Element is one data element held or once held about the person.
//
// An element is listed when an event in the window puts it in a system of
// the business or takes it out: data.collected, an output of data.processed,
// data.transferred, data.corrected, or a data.erased naming it. Elements
// only shared or used as processing inputs appear under Disclosures and
// Activities. Erased elements stay listed.
type Element struct {
	ElementKey
	// FirstCollected and LastCollected are the times of the first and last
	// data.collected (or data.processed output) naming it; zero if none.
	FirstCollected time.Time
	LastCollected  time.Time
	Sources        []Source // of collections and derivations
	Purposes       []string // of collections and derivations
	// Systems that held it: where collected, derived, corrected, and both
	// ends of transfers. Erasure does not remove a system.
	Systems []string
	// Status is decided by the latest (time, then event id) status event:
	// collected and processed outputs (held), data.corrected (corrected),
	// data.erased by element, category or all (erased). StatusAt and
	// StatusEvent name it; both are zero if no status event is in the window
	// (the element is then held: it was transferred).
	Status      Status
	StatusAt    time.Time
	StatusEvent uuid.UUID
	// Value is the value carried by the latest collection, derivation or
	// correction that carried one, unless an erasure of the element came
	// after it: then there is none, even if the element was collected again
	// since without a value. It is nil when erased, and nil when that
	// event's values were crypto-shredded (Shredded).
	Value    json.RawMessage
	Shredded bool
}

// CategorySummary rolls the elements of one category up.
type CategorySummary struct {
	Category       string
	Elements       []string // element names
	FirstCollected time.Time
	LastCollected  time.Time
	Sources        []Source
	Purposes       []string
	Systems        []string
}

// DisclosureKey groups data.shared events.
type DisclosureKey struct {
	Recipient  string // recipient name
	Kind       string // recipient kind
	Role       string // legal role: service_provider, contractor, third_party, affiliate
	Disclosure string // business_purpose, sale, sharing, …
}

// Disclosure is what one recipient received, in one role and as one
// disclosure type.
type Disclosure struct {
	DisclosureKey
	Categories  []string
	Elements    []ElementKey
	Purposes    []string
	Countries   []string // recipient countries named
	First, Last time.Time
	Count       int // distinct events
}

// ActivityKey groups data.processed events.
type ActivityKey struct {
	Activity string
	System   string
}

// Activity is one processing activity run on the person's data.
type Activity struct {
	ActivityKey
	Purposes           []string
	Inputs             []ElementKey
	Outputs            []ElementKey // derived elements (also listed under Elements)
	AutomatedDecisions []event.AutomatedDecision
	First, Last        time.Time
	Count              int
}

// Consent is one choice over time.
type Consent struct {
	Choice   string
	Current  event.ConsentStatus // status of the latest change in the window
	Since    time.Time           // time of that change
	Timeline []ConsentChange     // by time, event id
}

// ConsentChange is one consent.changed event.
type ConsentChange struct {
	Event     uuid.UUID
	Time      time.Time
	Status    event.ConsentStatus
	Mechanism string
	System    string
}

// Erasure is one data.erased event. Exactly one of Elements, Categories and
// All says what it erased.
type Erasure struct {
	Event      uuid.UUID
	Time       time.Time
	Elements   []ElementKey
	Categories []string
	All        bool
	Reason     string
	System     string
	RequestID  string
}

// Correction is one data.corrected event; the new values are in Elements.
type Correction struct {
	Event    uuid.UUID
	Time     time.Time
	Elements []ElementKey
	System   string
}

// stamp is an event's place in time order.
type stamp struct {
	time time.Time
	id   uuid.UUID
}

func stampOf(e *event.Event) stamp { return stamp{e.Time, e.ID} }

func (s stamp) after(o stamp) bool { return compareEvents(s.time, s.id, o.time, o.id) > 0 }

// set is a set of comparable values, rendered sorted.
type set[T cmp.Ordered] map[T]struct{}

func (s set[T]) add(vs ...T) {
	for _, v := range vs {
		s[v] = struct{}{}
	}
}

func (s set[T]) addNonEmpty(vs ...T) {
	var zero T
	for _, v := range vs {
		if v != zero {
			s[v] = struct{}{}
		}
	}
}

func (s set[T]) sorted() []T {
	if len(s) == 0 {
		return nil
	}
	out := make([]T, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// keySet is a set of struct keys, rendered sorted by a comparison.
type keySet[T comparable] map[T]struct{}

func (s keySet[T]) add(v T) { s[v] = struct{}{} }

func (s keySet[T]) sorted(c func(a, b T) int) []T {
	if len(s) == 0 {
		return nil
	}
	out := make([]T, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	slices.SortFunc(out, c)
	return out
}

func compareElementKeys(a, b ElementKey) int {
	return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Name, b.Name))
}

func compareSources(a, b Source) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
}

func keysOf(els []event.Element) keySet[ElementKey] {
	s := keySet[ElementKey]{}
	for _, el := range els {
		s.add(ElementKey{el.Name, el.Category})
	}
	return s
}

// elementAcc accumulates one element. Every update is a union, a min/max or
// "latest stamp wins", so the order of updates does not matter.
type elementAcc struct {
	first, last time.Time
	sources     keySet[Source]
	purposes    set[string]
	systems     set[string]
	status      Status
	statusAt    stamp
	hasStatus   bool
	value       json.RawMessage
	shredded    bool
	valueAt     stamp
	hasValue    bool
}

func (a *elementAcc) collected(t time.Time, src Source, purposes []string, system string) {
	if a.first.IsZero() || t.Before(a.first) {
		a.first = t
	}
	if t.After(a.last) {
		a.last = t
	}
	a.sources.add(src)
	a.purposes.add(purposes...)
	a.systems.addNonEmpty(system)
}

func (a *elementAcc) setStatus(s Status, at stamp) {
	if !a.hasStatus || at.after(a.statusAt) {
		a.status, a.statusAt, a.hasStatus = s, at, true
	}
}

// offerValue considers el's value from rec, a status event of kind held or
// corrected. A shredded event's value is unknown, which hides older ones.
func (a *elementAcc) offerValue(el event.Element, rec *event.Recorded) {
	if len(el.Value) == 0 && !rec.Shredded {
		return
	}
	at := stampOf(rec.Event)
	if a.hasValue && !at.after(a.valueAt) {
		return
	}
	a.valueAt, a.hasValue = at, true
	a.shredded = rec.Shredded && len(el.Value) == 0
	a.value = nil
	if !a.shredded {
		a.value = append(json.RawMessage(nil), el.Value...)
	}
}

// erased applies an erasure: a status event, and a value event that leaves
// no value, so a value from before it never resurfaces.
func (a *elementAcc) erased(at stamp) {
	a.setStatus(StatusErased, at)
	if !a.hasValue || at.after(a.valueAt) {
		a.value, a.shredded, a.valueAt, a.hasValue = nil, false, at, true
	}
}

// recordBuilder folds one person's events.
type recordBuilder struct {
	events      keySet[uuid.UUID]
	elements    map[ElementKey]*elementAcc
	disclosures map[DisclosureKey]*disclosureAcc
	activities  map[ActivityKey]*activityAcc
	consents    map[string][]ConsentChange
	erasures    []Erasure
	corrections []Correction
}

type disclosureAcc struct {
	categories set[string]
	elements   keySet[ElementKey]
	purposes   set[string]
	countries  set[string]
	first      time.Time
	last       time.Time
	events     keySet[uuid.UUID]
}

type activityAcc struct {
	purposes  set[string]
	inputs    keySet[ElementKey]
	outputs   keySet[ElementKey]
	decisions map[event.AutomatedDecision]struct{}
	first     time.Time
	last      time.Time
	events    keySet[uuid.UUID]
}

func newRecordBuilder() *recordBuilder {
	return &recordBuilder{
		events:      keySet[uuid.UUID]{},
		elements:    map[ElementKey]*elementAcc{},
		disclosures: map[DisclosureKey]*disclosureAcc{},
		activities:  map[ActivityKey]*activityAcc{},
		consents:    map[string][]ConsentChange{},
	}
}

func (b *recordBuilder) element(k ElementKey) *elementAcc {
	a := b.elements[k]
	if a == nil {
		a = &elementAcc{sources: keySet[Source]{}, purposes: set[string]{}, systems: set[string]{}}
		b.elements[k] = a
	}
	return a
}

// add folds one event. Adding an event twice (same id) is a no-op.
func (b *recordBuilder) add(rec *event.Recorded) {
	e := rec.Event
	if _, dup := b.events[e.ID]; dup {
		return
	}
	b.events.add(e.ID)
	at := stampOf(e)
	switch d := e.Data.(type) {
	case *event.Collected:
		for _, el := range d.Elements {
			a := b.element(ElementKey{el.Name, el.Category})
			a.collected(e.Time, Source{d.Origin.Kind, d.Origin.Name}, d.Purposes, d.System)
			a.setStatus(StatusHeld, at)
			a.offerValue(el, rec)
		}
	case *event.Processed:
		k := ActivityKey{d.Activity, d.System}
		act := b.activities[k]
		if act == nil {
			act = &activityAcc{purposes: set[string]{}, inputs: keySet[ElementKey]{}, outputs: keySet[ElementKey]{},
				decisions: map[event.AutomatedDecision]struct{}{}, events: keySet[uuid.UUID]{}}
			b.activities[k] = act
		}
		act.purposes.add(d.Purposes...)
		for k := range keysOf(d.Inputs) {
			act.inputs.add(k)
		}
		for k := range keysOf(d.Outputs) {
			act.outputs.add(k)
		}
		if d.AutomatedDecision != nil {
			act.decisions[*d.AutomatedDecision] = struct{}{}
		}
		act.first, act.last = minTime(act.first, e.Time), maxTime(act.last, e.Time)
		act.events.add(e.ID)
		for _, el := range d.Outputs {
			a := b.element(ElementKey{el.Name, el.Category})
			a.collected(e.Time, Source{SourceInferred, d.Activity}, d.Purposes, d.System)
			a.setStatus(StatusHeld, at)
			a.offerValue(el, rec)
		}
	case *event.Transferred:
		for _, el := range d.Elements {
			b.element(ElementKey{el.Name, el.Category}).systems.addNonEmpty(d.FromSystem, d.ToSystem)
		}
	case *event.Corrected:
		for _, el := range d.Elements {
			a := b.element(ElementKey{el.Name, el.Category})
			a.systems.addNonEmpty(d.System)
			a.setStatus(StatusCorrected, at)
			a.offerValue(el, rec)
		}
		b.corrections = append(b.corrections, Correction{Event: e.ID, Time: e.Time,
			Elements: keysOf(d.Elements).sorted(compareElementKeys), System: d.System})
	case *event.Erased:
		for _, el := range d.Elements {
			b.element(ElementKey{el.Name, el.Category})
		}
		b.erasures = append(b.erasures, Erasure{Event: e.ID, Time: e.Time,
			Elements: keysOf(d.Elements).sorted(compareElementKeys), Categories: sortedSet(d.Categories),
			All: d.All, Reason: d.Reason, System: d.System, RequestID: d.RequestID})
	case *event.Shared:
		k := DisclosureKey{d.Recipient.Name, d.Recipient.Kind, d.Recipient.Role, d.Disclosure}
		dis := b.disclosures[k]
		if dis == nil {
			dis = &disclosureAcc{categories: set[string]{}, elements: keySet[ElementKey]{}, purposes: set[string]{},
				countries: set[string]{}, events: keySet[uuid.UUID]{}}
			b.disclosures[k] = dis
		}
		for _, el := range d.Elements {
			dis.categories.add(el.Category)
			dis.elements.add(ElementKey{el.Name, el.Category})
		}
		dis.purposes.add(d.Purposes...)
		dis.countries.addNonEmpty(d.Recipient.Country)
		dis.first, dis.last = minTime(dis.first, e.Time), maxTime(dis.last, e.Time)
		dis.events.add(e.ID)
	case *event.ConsentChanged:
		b.consents[d.Choice] = append(b.consents[d.Choice], ConsentChange{Event: e.ID, Time: e.Time,
			Status: d.Status, Mechanism: d.Mechanism, System: d.System})
	}
}

// sortedSet returns vs sorted, without duplicates (nil if empty).
func sortedSet[T cmp.Ordered](vs []T) []T {
	s := set[T]{}
	s.add(vs...)
	return s.sorted()
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// record renders the fold. Erasures by category and all apply here, to every
// element of the record, as status events.
func (b *recordBuilder) record() Record {
	var r Record
	r.Events = len(b.events)
	for _, er := range b.erasures {
		at := stamp{er.Time, er.Event}
		for _, k := range er.Elements {
			b.elements[k].erased(at)
		}
		for k, a := range b.elements {
			if er.All || slices.Contains(er.Categories, k.Category) {
				a.erased(at)
			}
		}
	}
	cats := map[string]*CategorySummary{}
	catSources := map[string]keySet[Source]{}
	catPurposes, catSystems := map[string]set[string]{}, map[string]set[string]{}
	for k, a := range b.elements {
		el := Element{ElementKey: k, FirstCollected: a.first, LastCollected: a.last,
			Sources: a.sources.sorted(compareSources), Purposes: a.purposes.sorted(), Systems: a.systems.sorted(),
			Status: StatusHeld}
		if a.hasStatus {
			el.Status, el.StatusAt, el.StatusEvent = a.status, a.statusAt.time, a.statusAt.id
		}
		if a.hasValue {
			el.Value, el.Shredded = a.value, a.shredded
		}
		r.Elements = append(r.Elements, el)

		c := cats[k.Category]
		if c == nil {
			c = &CategorySummary{Category: k.Category}
			cats[k.Category] = c
			catSources[k.Category] = keySet[Source]{}
			catPurposes[k.Category], catSystems[k.Category] = set[string]{}, set[string]{}
		}
		c.Elements = append(c.Elements, k.Name)
		if !a.first.IsZero() {
			c.FirstCollected, c.LastCollected = minTime(c.FirstCollected, a.first), maxTime(c.LastCollected, a.last)
		}
		for s := range a.sources {
			catSources[k.Category].add(s)
		}
		catPurposes[k.Category].add(el.Purposes...)
		catSystems[k.Category].add(el.Systems...)
	}
	slices.SortFunc(r.Elements, func(a, b Element) int { return compareElementKeys(a.ElementKey, b.ElementKey) })
	for name, c := range cats {
		slices.Sort(c.Elements)
		c.Sources = catSources[name].sorted(compareSources)
		c.Purposes, c.Systems = catPurposes[name].sorted(), catSystems[name].sorted()
		r.Categories = append(r.Categories, *c)
	}
	slices.SortFunc(r.Categories, func(a, b CategorySummary) int { return cmp.Compare(a.Category, b.Category) })

	for k, d := range b.disclosures {
		r.Disclosures = append(r.Disclosures, Disclosure{DisclosureKey: k, Categories: d.categories.sorted(),
			Elements: d.elements.sorted(compareElementKeys), Purposes: d.purposes.sorted(), Countries: d.countries.sorted(),
			First: d.first, Last: d.last, Count: len(d.events)})
	}
	slices.SortFunc(r.Disclosures, func(a, b Disclosure) int {
		return cmp.Or(cmp.Compare(a.Recipient, b.Recipient), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Role, b.Role), cmp.Compare(a.Disclosure, b.Disclosure))
	})

	for k, a := range b.activities {
		act := Activity{ActivityKey: k, Purposes: a.purposes.sorted(), Inputs: a.inputs.sorted(compareElementKeys),
			Outputs: a.outputs.sorted(compareElementKeys), First: a.first, Last: a.last, Count: len(a.events)}
		for d := range a.decisions {
			act.AutomatedDecisions = append(act.AutomatedDecisions, d)
		}
		slices.SortFunc(act.AutomatedDecisions, func(a, b event.AutomatedDecision) int {
			if a.Significant != b.Significant {
				if a.Significant {
					return 1
				}
				return -1
			}
			return cmp.Compare(a.Logic, b.Logic)
		})
		r.Activities = append(r.Activities, act)
	}
	slices.SortFunc(r.Activities, func(a, b Activity) int {
		return cmp.Or(cmp.Compare(a.Activity, b.Activity), cmp.Compare(a.System, b.System))
	})

	for choice, tl := range b.consents {
		slices.SortFunc(tl, func(a, b ConsentChange) int { return compareEvents(a.Time, a.Event, b.Time, b.Event) })
		last := tl[len(tl)-1]
		r.Consents = append(r.Consents, Consent{Choice: choice, Current: last.Status, Since: last.Time, Timeline: tl})
	}
	slices.SortFunc(r.Consents, func(a, b Consent) int { return cmp.Compare(a.Choice, b.Choice) })

	r.Erasures = b.erasures
	slices.SortFunc(r.Erasures, func(a, b Erasure) int { return compareEvents(a.Time, a.Event, b.Time, b.Event) })
	r.Corrections = b.corrections
	slices.SortFunc(r.Corrections, func(a, b Correction) int { return compareEvents(a.Time, a.Event, b.Time, b.Event) })
	return r
}
