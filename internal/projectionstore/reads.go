package projectionstore

import (
	"context"
	"fmt"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projections"
)

var (
	_ inventory.IdentityGraph = (*Store)(nil)
	_ inventory.Facts         = (*Store)(nil)
)

// The widest window DateTime64(3) holds stands for an unbounded one.
var (
	windowStart = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	windowEnd   = time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC)
)

// Neighbours implements inventory.IdentityGraph.
func (s *Store) Neighbours(ctx context.Context, tenant string, hashes []string) ([]identity.Ref, error) {
	q := s.sql.neighbours
	if len(hashes) > maxLiteralSet {
		q = s.sql.neighboursMany
	}
	var rows []struct {
		To        string `ch:"to_hash"`
		Kind      string `ch:"to_kind"`
		Namespace string `ch:"to_namespace"`
	}
	if err := s.conn.Select(ctx, &rows, q, clickhouse.Params{"tenant": tenant, "hashes": hashes}); err != nil {
		return nil, fmt.Errorf("read identity edges: %w", err)
	}
	out := make([]identity.Ref, len(rows))
	for i, r := range rows {
		out[i] = identity.Ref{Kind: identity.Kind(r.Kind), Namespace: r.Namespace, Hash: r.To}
	}
	return out, nil
}

// Links implements inventory.IdentityGraph.
func (s *Store) Links(ctx context.Context, tenant string) ([][2]string, error) {
	q := s.sql.links
	var rows []struct {
		From string `ch:"from_hash"`
		To   string `ch:"to_hash"`
	}
	if err := s.conn.Select(ctx, &rows, q, clickhouse.Params{"tenant": tenant}); err != nil {
		return nil, fmt.Errorf("read identity links: %w", err)
	}
	out := make([][2]string, len(rows))
	for i, r := range rows {
		out[i] = [2]string{r.From, r.To}
	}
	return out, nil
}

// Facts implements inventory.Facts.
func (s *Store) Facts(ctx context.Context, tenant string, w projections.Window) ([]inventory.FactGroup, error) {
	q := s.sql.facts
	from, to := w.From, w.To
	if from.IsZero() || from.Before(windowStart) {
		from = windowStart
	}
	if to.IsZero() || to.After(windowEnd) {
		to = windowEnd
	}
	var rows []struct {
		Flow          string    `ch:"flow"`
		Category      string    `ch:"category"`
		SourceKind    string    `ch:"source_kind"`
		Purpose       string    `ch:"purpose"`
		RecipientName string    `ch:"recipient_name"`
		RecipientKind string    `ch:"recipient_kind"`
		RecipientRole string    `ch:"recipient_role"`
		Disclosure    string    `ch:"disclosure"`
		Subjects      []string  `ch:"subjects"`
		Events        uint64    `ch:"events"`
		First         time.Time `ch:"first"`
		Last          time.Time `ch:"last"`
	}
	if err := s.conn.Select(ctx, &rows, q, clickhouse.Params{"tenant": tenant, "from": from, "to": to}); err != nil {
		return nil, fmt.Errorf("read data map facts: %w", err)
	}
	out := make([]inventory.FactGroup, len(rows))
	for i, r := range rows {
		out[i] = inventory.FactGroup{Flow: projections.Flow(r.Flow), Category: r.Category, SourceKind: r.SourceKind,
			Purpose: r.Purpose, RecipientName: r.RecipientName, RecipientKind: r.RecipientKind, RecipientRole: r.RecipientRole,
			Disclosure: r.Disclosure, Subjects: r.Subjects, Events: r.Events, First: r.First, Last: r.Last}
	}
	return out, nil
}
