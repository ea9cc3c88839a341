package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
)

// RightToKnow builds the report of the person an identifier belongs to.
// The read is recorded in their access log before it is answered.
func (q queryResolver) RightToKnow(ctx context.Context, identifier string, tenant *string, from, to *time.Time,
	jurisdiction *requests.Jurisdiction, purpose string) (*report.Report, error) {
	id, err := q.parseIdentifier("identifier", identifier, tenantOf(tenant))
	if err != nil {
		return nil, err
	}
	if purpose, err = needPurpose(purpose); err != nil {
		return nil, err
	}
	if _, err := window(from, to); err != nil {
		return nil, err
	}
	j := requests.CCPA
	if jurisdiction != nil {
		j = *jurisdiction
	}
	t := tenantOf(tenant)
	rep, err := q.deps.Rights.RightToKnow(ctx, t, id, deref(from), deref(to), j)
	found := err == nil
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return nil, err
	}
	if err := q.recordRead(ctx, t, id, opRightToKnow, purpose, found); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	return &rep, nil
}

type reportResolver struct{ *resolver }

// JSON is the report's portable copy, byte for byte the JSON report file.
func (reportResolver) JSON(_ context.Context, obj *report.Report) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, *obj); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}
