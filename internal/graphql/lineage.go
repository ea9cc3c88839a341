package graphql

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/lineage"
)

// Bounds of the lineage arguments; 0 is unlimited.
const maxLineageLimit = 10_000

// Lineage answers a lineage question about a person's data. The read is
// recorded in their access log before it is answered.
func (q queryResolver) Lineage(ctx context.Context, identifier string, tenant, category, name *string, direction *lineage.Direction,
	depth, perHop *int, asOf *time.Time, purpose string) (*model.Lineage, error) {
	id, err := q.parseIdentifier("identifier", identifier, tenantOf(tenant))
	if err != nil {
		return nil, err
	}
	if purpose, err = needPurpose(purpose); err != nil {
		return nil, err
	}
	cat, nm := strings.TrimSpace(deref(category)), strings.TrimSpace(deref(name))
	if (cat == "") != (nm == "") {
		return nil, badInput("category", "give both category and name to start from an element, or neither to start from the person")
	}
	req := inventory.LineageRequest{Category: cat, Name: nm, Direction: lineage.DirDownstream,
		Query: lineage.Query{Depth: deref(depth), PerHop: deref(perHop), AsOf: deref(asOf)}}
	if direction != nil {
		req.Direction = *direction
	}
	for _, lim := range []struct {
		arg string
		v   int
	}{{"depth", req.Depth}, {"perHop", req.PerHop}} {
		if lim.v < 0 || lim.v > maxLineageLimit {
			return nil, badInput(lim.arg, "must be 0 (unlimited) ..%d, got %d", maxLineageLimit, lim.v)
		}
	}
	t := tenantOf(tenant)
	sub, person, err := q.deps.Inventory.Lineage(ctx, t, id, req)
	var missing bool
	switch {
	case err == nil:
	case errors.Is(err, inventory.ErrNotFound):
	case errors.Is(err, lineage.ErrNotFound) && person.ID != "":
		// The person exists, the element (or the person as of asOf) does not.
		missing = true
	default:
		return nil, err
	}
	if err := q.recordRead(ctx, t, id, opLineage, purpose, person.ID != ""); err != nil {
		return nil, err
	}
	switch {
	case person.ID == "":
		return nil, nil
	case missing && cat != "":
		return nil, notFound("the person has no element %q of category %q%s", nm, cat, asOfNote(req.AsOf))
	case missing:
		return nil, notFound("the person has no data%s", asOfNote(req.AsOf))
	}
	return model.NewLineage(sub, person.ID), nil
}

func asOfNote(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " as of " + t.UTC().Format(time.RFC3339)
}
