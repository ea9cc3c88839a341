package report

import (
	"cmp"
	"slices"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// pieces lists the specific pieces. The value of a never-disclose item is
// not copied into the report at all, so no renderer can show it.
func (b *builder) pieces(rec projections.Record) []Piece {
	out := []Piece{}
	for _, el := range rec.Elements {
		c, ok := b.category(el.Category)
		if !ok {
			continue
		}
		p := Piece{Category: c.Key, CategoryName: c.Name, Name: el.Name, Status: string(el.Status),
			StatusAt: timePtr(el.StatusAt), FirstCollected: timePtr(el.FirstCollected), LastCollected: timePtr(el.LastCollected),
			Sources: sourceRefs(el.Sources)}
		switch {
		case el.Status == projections.StatusErased:
			p.ValueStatus = ValueErased
			p.Notice = "We deleted this information."
		case c.NeverDisclose:
			p.ValueStatus = ValueWithheld
			p.Notice = "We hold your " + lowerFirst(c.Name) + ". To protect you, the law does not allow us to show it in a report (11 CCR 7024(d))."
		case el.Shredded:
			p.ValueStatus = ValueUnreadable
			p.Notice = "This information was deleted and can no longer be read."
		case len(el.Value) == 0:
			p.ValueStatus = ValueNotRecorded
			p.Notice = "Our records name this information but do not hold its value."
		default:
			p.ValueStatus = ValueShown
			p.Value, p.Notice = shownValue(el.Value)
		}
		out = append(out, p)
	}
	return out
}

// automatedDecisions lists the decisions of every activity, one per
// activity, logic and significance.
func (b *builder) automatedDecisions(rec projections.Record) []AutomatedDecision {
	out := []AutomatedDecision{}
	for _, a := range rec.Activities {
		for _, d := range a.AutomatedDecisions {
			out = append(out, AutomatedDecision{Activity: a.Activity, Significant: d.Significant, Logic: d.Logic,
				Purposes: nonNil(a.Purposes), Inputs: b.catTerms(elementCategories(a.Inputs)), Outputs: b.catTerms(elementCategories(a.Outputs)),
				First: a.First.UTC(), Last: a.Last.UTC()})
		}
	}
	// The same activity may run in two systems: one entry per activity and logic.
	slices.SortFunc(out, func(a, b AutomatedDecision) int {
		return cmp.Or(cmp.Compare(a.Activity, b.Activity), cmp.Compare(a.Logic, b.Logic), boolCmp(a.Significant, b.Significant))
	})
	return slices.CompactFunc(out, func(a, b AutomatedDecision) bool {
		return a.Activity == b.Activity && a.Logic == b.Logic && a.Significant == b.Significant
	})
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// choices are the current state of each opt-out and consent, with how it
// was last expressed.
func (b *builder) choices(rec projections.Record) []Choice {
	out := []Choice{}
	for _, c := range rec.Consents {
		last := c.Timeline[len(c.Timeline)-1]
		out = append(out, Choice{Choice: b.term(taxonomy.ConsentChoices, c.Choice),
			Status: Term{Key: string(c.Current), Name: consentStatusName(c.Current)}, Since: c.Since.UTC(),
			Mechanism: b.short(taxonomy.ConsentMechanisms, last.Mechanism)})
	}
	return out
}

func consentStatusName(s event.ConsentStatus) string {
	switch s {
	case event.OptedOut:
		return "Opted out"
	case event.OptedIn:
		return "Opted in"
	case event.Granted:
		return "Consent given"
	case event.Withdrawn:
		return "Consent withdrawn"
	}
	return string(s)
}

func (b *builder) erasures(rec projections.Record) []Erasure {
	out := []Erasure{}
	for _, e := range rec.Erasures {
		er := Erasure{At: e.Time.UTC(), All: e.All, Categories: []Term{}, Elements: b.elementRefs(e.Elements),
			Reason: b.short(taxonomy.ErasureReasons, e.Reason), RequestID: e.RequestID}
		for _, k := range e.Categories {
			if c, ok := b.category(k); ok {
				er.Categories = append(er.Categories, Term{Key: c.Key, Name: c.Name})
			}
		}
		out = append(out, er)
	}
	return out
}

func (b *builder) corrections(rec projections.Record) []Correction {
	out := []Correction{}
	for _, c := range rec.Corrections {
		out = append(out, Correction{At: c.Time.UTC(), Elements: b.elementRefs(c.Elements)})
	}
	return out
}

func (b *builder) elementRefs(ks []projections.ElementKey) []ElementRef {
	out := make([]ElementRef, 0, len(ks))
	for _, k := range ks {
		ref := ElementRef{Name: k.Name, Category: k.Category, CategoryName: k.Category}
		if c, ok := b.category(k.Category); ok {
			ref.CategoryName = c.Name
		}
		out = append(out, ref)
	}
	return out
}
