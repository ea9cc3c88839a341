package graphql

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projections"
)

// DataMap returns the tenant's data map over a window.
func (q queryResolver) DataMap(ctx context.Context, tenant *string, from, to *time.Time) ([]projections.DataMapRow, error) {
	w, err := window(from, to)
	if err != nil {
		return nil, err
	}
	rows, err := q.deps.Inventory.DataMap(ctx, tenantOf(tenant), w)
	if err != nil {
		return nil, err
	}
	return nonNil(rows), nil
}

// Recipients returns every recipient of the tenant's disclosures.
func (q queryResolver) Recipients(ctx context.Context, tenant *string, from, to *time.Time) ([]inventory.Recipient, error) {
	w, err := window(from, to)
	if err != nil {
		return nil, err
	}
	rs, err := q.deps.Inventory.Recipients(ctx, tenantOf(tenant), w)
	if err != nil {
		return nil, err
	}
	return nonNil(rs), nil
}

// Recipient returns what one recipient received; nil when nothing went to
// it. A name shared by recipients of several kinds needs the kind.
func (q queryResolver) Recipient(ctx context.Context, name string, kind, tenant *string, from, to *time.Time) (*inventory.Recipient, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, badInput("name", "is required")
	}
	all, err := q.Recipients(ctx, tenant, from, to)
	if err != nil {
		return nil, err
	}
	var matches []inventory.Recipient
	for _, r := range all {
		if r.Name == name && (kind == nil || r.Kind == strings.TrimSpace(*kind)) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 0:
		return nil, nil
	case 1:
		return &matches[0], nil
	}
	kinds := make([]string, len(matches))
	for i, m := range matches {
		kinds[i] = m.Kind
	}
	slices.Sort(kinds)
	return nil, badInput("kind", "%q names recipients of kinds %s; give one", name, strings.Join(kinds, ", "))
}

// nonNil makes an empty list [] rather than null for lists the schema
// declares non-null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
