package graphql

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/inventory"
)

// Operations recorded in the access log.
const (
	opSubject     = "graphql.subject"
	opLineage     = "graphql.lineage"
	opRightToKnow = "graphql.rightToKnow"
)

// Page sizes of the event timeline. A page also stops before its events'
// data pass maxEventsPageBytes (it holds at least one event), so an answer
// stays bounded whatever the events carry: 500 events of 256 KiB would be
// 125 MiB. The client pages on with hasNextPage and endCursor as usual.
const (
	defaultEventsPage  = 50
	maxEventsPage      = 500
	maxEventsPageBytes = 4 << 20
)

// Subject reads a person's record, never-disclose values masked (the
// loader masks it). The read is recorded in their access log (found or
// not) before it is answered.
func (q queryResolver) Subject(ctx context.Context, identifier string, tenant *string, from, to *time.Time, purpose string) (*model.Subject, error) {
	id, err := q.parseIdentifier("identifier", identifier, tenantOf(tenant))
	if err != nil {
		return nil, err
	}
	if purpose, err = needPurpose(purpose); err != nil {
		return nil, err
	}
	w, err := window(from, to)
	if err != nil {
		return nil, err
	}
	t := tenantOf(tenant)
	sub, err := q.loadersFrom(ctx).subjects.Load(ctx, subjectKey{tenant: t, id: id, from: unixOrZero(w.From), to: unixOrZero(w.To)})
	found := err == nil
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return nil, err
	}
	if err := q.recordRead(ctx, t, id, opSubject, purpose, found); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	return sub, nil
}

type subjectResolver struct{ *resolver }

func (subjectResolver) Events(_ context.Context, obj *model.Subject, first *int, after *string) (*model.EventConnection, error) {
	n := defaultEventsPage
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxEventsPage {
		return nil, badInput("first", "must be 0..%d, got %d", maxEventsPage, n)
	}
	start := 0
	if after != nil && *after != "" {
		id, err := decodeEventCursor(*after)
		if err != nil {
			return nil, err
		}
		i := indexOfEvent(obj, id)
		if i < 0 {
			return nil, badInput("after", "the cursor is not an event of this record (window or person changed?)")
		}
		start = i + 1
	}
	end := min(start+n, len(obj.Timeline))
	conn := &model.EventConnection{TotalCount: len(obj.Timeline), Edges: make([]model.EventEdge, 0, end-start),
		PageInfo: &model.PageInfo{HasPreviousPage: start > 0}}
	bytes := 0
	for i := start; i < end; i++ {
		ev := &obj.Timeline[i]
		data, err := ev.Data()
		if err != nil {
			return nil, err
		}
		if bytes += len(data); bytes > maxEventsPageBytes && len(conn.Edges) > 0 {
			end = i
			break
		}
		conn.Edges = append(conn.Edges, model.EventEdge{Cursor: encodeEventCursor(ev.ID()), Node: ev})
	}
	conn.PageInfo.HasNextPage = end < len(obj.Timeline)
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}

func indexOfEvent(s *model.Subject, id uuid.UUID) int {
	for i, ev := range s.Timeline {
		if ev.ID() == id {
			return i
		}
	}
	return -1
}

// Cursors are opaque to clients; an event's cursor names the event, so a
// page boundary stays put when events arrive between pages.
const eventCursorPrefix = "event:"

func encodeEventCursor(id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(eventCursorPrefix + id.String()))
}

func decodeEventCursor(c string) (uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(b), eventCursorPrefix) {
		if id, err := uuid.Parse(strings.TrimPrefix(string(b), eventCursorPrefix)); err == nil {
			return id, nil
		}
	}
	return uuid.Nil, badInput("after", "not a cursor of this list (use pageInfo.endCursor)")
}
