package demo

import (
	"fmt"
	"slices"
)

// practiceKind says which event a practice produces.
type practiceKind int

const (
	kindCollection practiceKind = iota
	kindActivity
	kindTransfer
	kindDisclosure
	kindErasure
)

// practice is one compiled practice of a profile.
type practice struct {
	kind      practiceKind
	when      *When
	stops     []string // consent choices whose opt-out stops it
	col       *Collection
	act       *Activity
	tr        *Transfer
	dis       *Disclosure
	er        *Erasure
	violation bool
}

// plan is a profile compiled for generation: practices indexed by trigger,
// in the order they run (collections first, so that what is shared or
// derived on the same occasion has been collected).
type plan struct {
	p          *Profile
	pool       pool
	sources    map[string]Source
	recipients map[string]Recipient
	byTrigger  map[string][]practice
	consents   []*Consent // declared, then violations
}

func compile(p *Profile) (*plan, error) {
	pl, ok := poolFor(p.Identity.Names)
	if !ok {
		return nil, fmt.Errorf("profile %s: identity.names %q is not a name pool (run Validate first)", p.Tenant, p.Identity.Names)
	}
	c := &plan{p: p, pool: pl, sources: map[string]Source{}, recipients: map[string]Recipient{}, byTrigger: map[string][]practice{}}
	for _, s := range p.Sources {
		c.sources[s.Key] = s
	}
	for _, r := range p.Recipients {
		c.recipients[r.Key] = r
	}
	var all []practice
	add := func(pr practice) { all = append(all, pr) }
	for v, cols := range [][]Collection{p.Collections, p.Violations.Collections} {
		for i := range cols {
			add(practice{kind: kindCollection, when: &cols[i].When, col: &cols[i], violation: v == 1})
		}
	}
	for v, acts := range [][]Activity{p.Processing, p.Violations.Processing} {
		for i := range acts {
			add(practice{kind: kindActivity, when: &acts[i].When, act: &acts[i], violation: v == 1})
		}
	}
	for i := range p.Transfers {
		add(practice{kind: kindTransfer, when: &p.Transfers[i].When, tr: &p.Transfers[i]})
	}
	for v, dis := range [][]Disclosure{p.Disclosures, p.Violations.Disclosures} {
		for i := range dis {
			d := &dis[i]
			if _, ok := c.recipients[d.Recipient]; !ok {
				return nil, fmt.Errorf("profile %s: disclosure %s: unknown recipient %q (run Validate first)", p.Tenant, d.ID, d.Recipient)
			}
			add(practice{kind: kindDisclosure, when: &d.When, dis: d, violation: v == 1})
		}
	}
	for i := range p.Erasures {
		add(practice{kind: kindErasure, when: &p.Erasures[i].When, er: &p.Erasures[i]})
	}
	for _, pr := range all {
		pr.stops = slices.Clone(pr.when.StopsOn)
		if pr.kind == kindDisclosure {
			pr.stops = append(pr.stops, defaultStops(pr.dis.Disclosure)...)
		}
		if pr.kind == kindCollection {
			for _, key := range pr.col.sourceKeys() {
				if _, ok := c.sources[key]; !ok {
					return nil, fmt.Errorf("profile %s: collection %s: unknown source %q (run Validate first)", p.Tenant, pr.when.ID, key)
				}
			}
		}
		for _, t := range pr.when.On {
			c.byTrigger[t] = append(c.byTrigger[t], pr)
		}
	}
	for i := range p.Consents {
		c.consents = append(c.consents, &p.Consents[i])
	}
	for i := range p.Violations.Consents {
		c.consents = append(c.consents, &p.Violations.Consents[i])
	}
	return c, nil
}

// defaultStops are the opt-outs that stop a disclosure type by law: a sale
// stops on an opt-out of sale, sharing (cross-context behavioural
// advertising) on an opt-out of sharing or of targeted advertising.
func defaultStops(disclosure string) []string {
	switch disclosure {
	case "sale":
		return []string{"sale"}
	case "sharing":
		return []string{"sharing", "targeted_advertising"}
	}
	return nil
}

func (c *Collection) sourceKeys() []string {
	if c.Source != "" {
		return []string{c.Source}
	}
	return c.Sources
}
