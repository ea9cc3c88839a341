package demo

import (
	"slices"
	"strings"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/taxonomy"
)

func (c *checker) collection(path string, col *Collection, violation bool) {
	c.when(path, &col.When, violation, false)
	switch {
	case col.Source != "" && len(col.Sources) > 0:
		c.fail(path, "give either source or sources, not both")
	case col.Source != "":
		c.ref(path+".source", "sources", c.sources, col.Source, true)
	case len(col.Sources) > 0:
		kinds := map[string]bool{}
		for i, s := range col.Sources {
			c.ref(at(path+".sources", i), "sources", c.sources, s, true)
			if src, ok := c.p.source(s); ok {
				kinds[src.Kind] = true
			}
		}
		if len(kinds) > 1 {
			c.fail(path+".sources", "sources of one collection must share a kind, got %s", strings.Join(sortedKeys(kinds), ", "))
		}
	default:
		c.fail(path+".source", "is required (a key of sources)")
	}
	c.ref(path+".system", "systems", c.systems, col.System, true)
	c.terms(path+".purposes", taxonomy.Purposes, col.Purposes, true)
	c.term(path+".legal_basis", taxonomy.LegalBases, col.LegalBasis, false)
	c.elements(path+".elements", col.Elements, true)
}

func (c *checker) disclosure(path string, d *Disclosure, violation bool) {
	c.when(path, &d.When, violation, false)
	c.ref(path+".recipient", "recipients", c.recipients, d.Recipient, true)
	c.term(path+".disclosure", taxonomy.DisclosureTypes, d.Disclosure, true)
	if r, ok := c.p.recipient(d.Recipient); ok && (d.Disclosure == "sale" || d.Disclosure == "sharing") && r.Role != "third_party" {
		c.fail(path+".disclosure", "a %s goes to a third party (Cal. Civ. Code 1798.140(ad), (ah)), but recipient %q has role %q", d.Disclosure, d.Recipient, r.Role)
	}
	c.terms(path+".purposes", taxonomy.Purposes, d.Purposes, true)
	c.ref(path+".system", "systems", c.systems, d.System, true)
	c.elements(path+".elements", d.Elements, true)
}

func (c *checker) activity(path string, a *Activity, violation bool) {
	c.when(path, &a.When, violation, false)
	c.required(path+".activity", a.Activity)
	c.ref(path+".system", "systems", c.systems, a.System, true)
	c.terms(path+".purposes", taxonomy.Purposes, a.Purposes, true)
	c.elements(path+".inputs", a.Inputs, true)
	c.elements(path+".outputs", a.Outputs, false)
	if a.AutomatedDecision != nil {
		c.required(path+".automated_decision.logic", a.AutomatedDecision.Logic)
	}
}

func (c *checker) transfer(path string, t *Transfer) {
	c.when(path, &t.When, false, false)
	c.ref(path+".from", "systems", c.systems, t.From, true)
	c.ref(path+".to", "systems", c.systems, t.To, true)
	if t.From != "" && t.From == t.To {
		c.fail(path+".to", "is the same system as from")
	}
	c.country(path+".to_country", t.ToCountry, false)
	c.term(path+".mechanism", taxonomy.TransferMechanisms, t.Mechanism, t.ToCountry != "")
	c.elements(path+".elements", t.Elements, true)
}

func (c *checker) consent(path string, cn *Consent, violation bool) {
	c.on(path+".on", cn.On, false)
	c.ref(path+".segment", "segments", c.segments, cn.Segment, false)
	if cn.Chance <= 0 || cn.Chance > 1 {
		c.fail(path+".chance", "%v must be a share of people above 0 and at most 1", cn.Chance)
	}
	c.terms(path+".choices", taxonomy.ConsentChoices, cn.Choices, true)
	if !slices.Contains(event.ConsentStatuses(), event.ConsentStatus(cn.Status)) {
		c.fail(path+".status", "%q must be one of opted_out, opted_in, granted, withdrawn", cn.Status)
	}
	c.term(path+".mechanism", taxonomy.ConsentMechanisms, cn.Mechanism, true)
	if cn.System != "" {
		c.ref(path+".system", "systems", c.systems, cn.System, false)
	}
	if cn.Ignored && !violation {
		c.fail(path+".ignored", "an ignored choice is a violation: move it under violations.consents")
	}
	if violation && !cn.Ignored {
		c.fail(path+".ignored", "a consent under violations must be ignored: true (recorded but not honoured)")
	}
	c.violates(path, cn.Violates, violation)
}

func (c *checker) correction(path string, cr *Correction) {
	if cr.ID == "" {
		c.fail(path+".id", "is required")
	}
	c.ref(path+".system", "systems", c.systems, cr.System, true)
	c.required(path+".element.name", cr.Element.Name)
	c.term(path+".element.category", taxonomy.Categories, cr.Element.Category, true)
	if len(cr.Element.Values) == 0 && !hasGeneratedValue(cr.Element.Category) {
		c.fail(path+".element.values", "a correction carries the new value: give values, the generator has none for %s", cr.Element.Category)
	}
	held := false
	for _, col := range c.p.Collections {
		if col.System == cr.System && slices.ContainsFunc(col.Elements, sameElement(cr.Element)) {
			held = true
		}
	}
	if !held && cr.System != "" && cr.Element.Name != "" {
		c.fail(path+".element", "%s (%s) is never collected into %s: there is nothing to correct", cr.Element.Name, cr.Element.Category, cr.System)
	}
}

func sameElement(e Element) func(Element) bool {
	return func(o Element) bool { return o.Name == e.Name && o.Category == e.Category }
}

func (c *checker) erasure(path string, e *Erasure) {
	c.when(path, &e.When, false, true)
	c.term(path+".reason", taxonomy.ErasureReasons, e.Reason, true)
	c.ref(path+".system", "systems", c.systems, e.System, true)
	given := 0
	if e.All {
		given++
	}
	if len(e.Categories) > 0 {
		given++
	}
	if len(e.Elements) > 0 {
		given++
	}
	if given != 1 {
		c.fail(path, "give exactly one of all: true, categories or elements")
	}
	c.terms(path+".categories", taxonomy.Categories, e.Categories, false)
	c.elements(path+".elements", e.Elements, false)
}

func (c *checker) retention(path string, r *RetentionRule) {
	if r.ID == "" {
		c.fail(path+".id", "is required")
	}
	c.required(path+".description", r.Description)
	c.terms(path+".categories", taxonomy.Categories, r.Categories, true)
	c.ref(path+".system", "systems", c.systems, r.System, true)
	if r.Period.N <= 0 {
		c.fail(path+".period", "is required: 30d, 12w, 6mo or 7y")
	}
	switch r.After {
	case AfterCollection, AfterAccountClosed:
		if r.Choice != "" {
			c.fail(path+".choice", "belongs only to rules with after: opt_out")
		}
	case AfterOptOut:
		c.term(path+".choice", taxonomy.ConsentChoices, r.Choice, true)
		optOut := slices.ContainsFunc(c.p.Consents, func(cn Consent) bool {
			return slices.Contains(cn.Choices, r.Choice) && (cn.Status == string(event.OptedOut) || cn.Status == string(event.Withdrawn))
		})
		if r.Choice != "" && !optOut {
			c.fail(path+".choice", "no consent opts out of %q, so the rule would never apply", r.Choice)
		}
	default:
		c.fail(path+".after", "%q must be %s, %s or %s", r.After, AfterCollection, AfterOptOut, AfterAccountClosed)
	}
}
