package graphql

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/rejected"
)

// Bounds of the poison queue's API.
const (
	defaultRejectedPage = 50
	maxRejectedPage     = 1000
	maxReplayIDs        = 1000
)

// RejectedEvents lists rejections newest first, a page at a time. The
// tenant argument narrows to one tenant; without it every tenant's are
// listed (a rejection whose tenant was unreadable is under "default").
func (q queryResolver) RejectedEvents(ctx context.Context, tenant *string, status *rejected.Status, since, until *time.Time,
	first *int, after *string) (*model.RejectionConnection, error) {
	n := defaultRejectedPage
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxRejectedPage {
		return nil, badInput("first", "must be 0..%d, got %d", maxRejectedPage, n)
	}
	if s, u := deref(since), deref(until); !s.IsZero() && !u.IsZero() && !s.Before(u) {
		return nil, badInput("until", "must be after since")
	}
	f := rejected.Filter{Tenant: strings.TrimSpace(deref(tenant)), Status: deref(status), Since: deref(since), Until: deref(until), Limit: n + 1}
	if after != nil && *after != "" {
		c, err := decodeRejectionCursor(*after)
		if err != nil {
			return nil, err
		}
		f.After = c
	}
	conn := &model.RejectionConnection{Edges: []model.RejectionEdge{}, PageInfo: &model.PageInfo{HasPreviousPage: !f.After.IsZero()}}
	if n == 0 {
		return conn, nil
	}
	list, err := q.deps.Rejected.List(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(list) > n {
		conn.PageInfo.HasNextPage = true
		list = list[:n]
	}
	for i := range list {
		conn.Edges = append(conn.Edges, model.RejectionEdge{Cursor: encodeRejectionCursor(list[i].Cursor()), Node: &list[i]})
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}

const rejectionCursorPrefix = "rejection:"

func encodeRejectionCursor(c rejected.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(rejectionCursorPrefix + c.At.UTC().Format(time.RFC3339Nano) + "|" + c.ID.String()))
}

func decodeRejectionCursor(s string) (rejected.Cursor, error) {
	bad := badInput("after", "not a cursor of this list (use pageInfo.endCursor)")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), rejectionCursorPrefix) {
		return rejected.Cursor{}, bad
	}
	at, id, ok := strings.Cut(strings.TrimPrefix(string(b), rejectionCursorPrefix), "|")
	if !ok {
		return rejected.Cursor{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return rejected.Cursor{}, bad
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return rejected.Cursor{}, bad
	}
	return rejected.Cursor{At: t, ID: u}, nil
}

// ReplayRejected validates rejected events again and appends the valid
// ones. A failure of the log part-way is reported per id (FAILED) with the
// report of what was done, not as an error of the whole mutation: the ids
// replayed before it are in the log.
func (m mutationResolver) ReplayRejected(ctx context.Context, ids []uuid.UUID) (*rejected.ReplayReport, error) {
	switch {
	case len(ids) == 0:
		return nil, badInput("ids", "give at least one rejection id (rejectedEvents lists them)")
	case len(ids) > maxReplayIDs:
		return nil, badInput("ids", "at most %d per call, got %d", maxReplayIDs, len(ids))
	}
	rep, err := m.deps.Rejected.Replay(ctx, ids)
	if err != nil {
		if len(rep.Results) == 0 {
			return nil, err
		}
		m.log.ErrorContext(ctx, "graphql: replay stopped part-way", "err", err, "replayed", rep.Replayed, "failed", rep.Failed)
	}
	return &rep, nil
}

type replayResultResolver struct{ *resolver }

// Error says why one rejection was not replayed, in words safe to show:
// the cause itself (a storage error) goes to the log.
func (r replayResultResolver) Error(ctx context.Context, obj *rejected.ReplayResult) (*string, error) {
	var msg string
	switch {
	case obj.Outcome == rejected.OutcomeNotFound:
		msg = "no rejection has this id"
	case obj.Outcome != rejected.OutcomeFailed:
		return nil, nil
	case errors.Is(obj.Err, keyring.ErrKeyDestroyed):
		msg = "its payload can no longer be decrypted: the tenant's rejected payloads were crypto-shredded"
	case obj.Err == nil:
		msg = "it could not be replayed"
	default:
		ref := newRef()
		r.log.ErrorContext(ctx, "graphql: replay of a rejection failed", "ref", ref, "rejection", obj.ID, "err", obj.Err)
		msg = "it could not be replayed (internal error, ref " + ref + ")"
	}
	return &msg, nil
}
