package inventory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/projections"
)

// people resolves every identifier of tenant to its person's
// representative hash (any member; only equality matters), from the links.
type people struct{ parent map[string]string }

func (p *people) find(h string) string {
	root := h
	for {
		next, ok := p.parent[root]
		if !ok || next == root {
			break
		}
		root = next
	}
	for h != root { // path compression
		next := p.parent[h]
		p.parent[h] = root
		h = next
	}
	return root
}

func (p *people) union(a, b string) {
	ra, rb := p.find(a), p.find(b)
	if ra != rb {
		p.parent[ra] = rb
	}
}

// factsAndPeople reads tenant's fact groups in w and resolves its people.
func (s *Service) factsAndPeople(ctx context.Context, tenant string, w projections.Window) ([]FactGroup, *people, error) {
	tenant = tenantOr(tenant)
	groups, err := s.facts.Facts(ctx, tenant, w)
	if err != nil {
		return nil, nil, fmt.Errorf("read data map facts: %w", err)
	}
	ppl, err := s.people(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	return groups, ppl, nil
}

func (s *Service) people(ctx context.Context, tenant string) (*people, error) {
	links, err := s.ids.Links(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("read identity links: %w", err)
	}
	p := &people{parent: make(map[string]string, len(links))}
	for _, l := range links {
		p.union(l[0], l[1])
	}
	return p, nil
}

func tenantOr(tenant string) string {
	if tenant == "" {
		return event.DefaultTenant
	}
	return tenant
}

// DataMap returns tenant's data map over w, as projections.DataMap defines
// it: people counted as resolved from every event, inside w or not.
func (s *Service) DataMap(ctx context.Context, tenant string, w projections.Window) ([]projections.DataMapRow, error) {
	groups, ppl, err := s.factsAndPeople(ctx, tenant, w)
	if err != nil {
		return nil, err
	}
	persons := map[projections.DataMapRow]map[string]struct{}{}
	for _, g := range groups {
		row := projections.DataMapRow{Flow: g.Flow, Category: g.Category, SourceKind: g.SourceKind, Purpose: g.Purpose,
			RecipientKind: g.RecipientKind, RecipientRole: g.RecipientRole, Disclosure: g.Disclosure}
		set := persons[row]
		if set == nil {
			set = map[string]struct{}{}
			persons[row] = set
		}
		for _, subj := range g.Subjects {
			set[ppl.find(subj)] = struct{}{}
		}
	}
	if len(persons) == 0 {
		return nil, nil
	}
	out := make([]projections.DataMapRow, 0, len(persons))
	for row, set := range persons {
		row.People = len(set)
		out = append(out, row)
	}
	slices.SortFunc(out, projections.CompareDataMapRows)
	return out, nil
}

// Recipient is what one recipient received from the business over a
// window, and about how many people.
type Recipient struct {
	Name, Kind  string
	Roles       []string // legal roles it received data in
	Disclosures []string // disclosure types (business_purpose, sale, sharing, …)
	Categories  []string
	Purposes    []string
	People      int
	First, Last time.Time
}

// Recipients returns every recipient of tenant's disclosures over w, by
// name then kind.
func (s *Service) Recipients(ctx context.Context, tenant string, w projections.Window) ([]Recipient, error) {
	groups, ppl, err := s.factsAndPeople(ctx, tenant, w)
	if err != nil {
		return nil, err
	}
	type key struct{ name, kind string }
	type acc struct {
		r                                        Recipient
		roles, disclosures, categories, purposes map[string]struct{}
		people                                   map[string]struct{}
	}
	accs := map[key]*acc{}
	for _, g := range groups {
		if g.Flow != projections.FlowDisclosed {
			continue
		}
		k := key{g.RecipientName, g.RecipientKind}
		a := accs[k]
		if a == nil {
			a = &acc{r: Recipient{Name: k.name, Kind: k.kind, First: g.First, Last: g.Last},
				roles: map[string]struct{}{}, disclosures: map[string]struct{}{}, categories: map[string]struct{}{},
				purposes: map[string]struct{}{}, people: map[string]struct{}{}}
			accs[k] = a
		}
		addNonEmpty(a.roles, g.RecipientRole)
		addNonEmpty(a.disclosures, g.Disclosure)
		addNonEmpty(a.categories, g.Category)
		addNonEmpty(a.purposes, g.Purpose)
		for _, subj := range g.Subjects {
			a.people[ppl.find(subj)] = struct{}{}
		}
		if g.First.Before(a.r.First) {
			a.r.First = g.First
		}
		if g.Last.After(a.r.Last) {
			a.r.Last = g.Last
		}
	}
	out := make([]Recipient, 0, len(accs))
	for _, a := range accs {
		r := a.r
		r.Roles, r.Disclosures, r.Categories, r.Purposes = sorted(a.roles), sorted(a.disclosures), sorted(a.categories), sorted(a.purposes)
		r.People = len(a.people)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Recipient) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind)) })
	return out, nil
}

func addNonEmpty(s map[string]struct{}, v string) {
	if v != "" {
		s[v] = struct{}{}
	}
}

// sorted returns the set's members in order, nil when empty.
func sorted(s map[string]struct{}) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(s))
}
