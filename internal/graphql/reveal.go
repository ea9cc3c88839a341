package graphql

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projections"
)

// opReveal is the access-log operation of a reveal.
const opReveal = "graphql.revealValue"

// RevealValue shows one element value of a person in clear, to an admin
// (the @hasRole directive and the guard refuse anyone else) who states
// why. It is the only way past the masking of never-disclose values
// (mask.go), and, like every read of personal data, it is recorded in the
// person's access log before it is answered — with the purpose and what
// was revealed, never the value — found or not.
func (m mutationResolver) RevealValue(ctx context.Context, identifier string, tenant *string, category, name string,
	eventID *uuid.UUID, purpose string) (*model.RevealedValue, error) {
	id, err := m.parseIdentifier("identifier", identifier, tenantOf(tenant))
	if err != nil {
		return nil, err
	}
	if purpose, err = needPurpose(purpose); err != nil {
		return nil, err
	}
	category, name = strings.TrimSpace(category), strings.TrimSpace(name)
	switch {
	case category == "":
		return nil, badInput("category", "name the element's category, e.g. financial.card_number")
	case name == "":
		return nil, badInput("name", "name the element, e.g. card_number")
	}
	event := ""
	if eventID != nil {
		if *eventID == uuid.Nil {
			return nil, badInput("event", "not an event id")
		}
		event = eventID.String()
	}
	t := tenantOf(tenant)
	// The whole history, in clear: not through the request's loader, which
	// holds masked records.
	sub, err := m.deps.Inventory.Subject(ctx, t, id, projections.Window{})
	found := err == nil
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return nil, err
	}
	err = m.record(ctx, audit.Access{Tenant: t, Identifier: id, Operation: opReveal, Purpose: purpose, Found: found,
		Revealed: describeReveal(category, name, event)})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("no one has this identifier")
	}
	out := &model.RevealedValue{Tenant: t, PersonID: sub.ID, Category: category, Name: name, EventID: eventID}
	if eventID == nil {
		for _, el := range sub.Record.Elements {
			if el.Category == category && el.Name == name {
				out.Value, out.Shredded = el.Value, el.Shredded
				return out, nil
			}
		}
		return nil, notFound("the person has no element %q of category %q", name, category)
	}
	for _, rec := range sub.Events {
		if rec.Event.ID != *eventID {
			continue
		}
		v, ok := elementValue(rec.Event.Data, category, name)
		if !ok {
			return nil, notFound("event %s carries no element %q of category %q", event, name, category)
		}
		out.Value, out.Shredded = v, rec.Shredded && len(v) == 0
		return out, nil
	}
	return nil, notFound("the person has no event %s", event)
}
