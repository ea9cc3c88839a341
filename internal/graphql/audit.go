package graphql

import (
	"context"

	"github.com/custodyhq/custody/internal/audit"
)

// AccessLog lists the reads of a person's data, newest first. Reading the
// access log is not itself recorded: it shows who read the person's data,
// not the data.
func (q queryResolver) AccessLog(ctx context.Context, identifier string, tenant *string) ([]audit.Entry, error) {
	id, err := q.parseIdentifier("identifier", identifier, tenantOf(tenant))
	if err != nil {
		return nil, err
	}
	entries, err := q.deps.Audit.For(ctx, tenantOf(tenant), id)
	if err != nil {
		return nil, err
	}
	return nonNil(entries), nil
}
