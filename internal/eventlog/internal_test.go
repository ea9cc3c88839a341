package eventlog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/schema"
)

// identifierRows counts event_identifiers rows of event id, unmerged.
func identifierRows(t *testing.T, conn clickhouse.Conn, id uuid.UUID) uint64 {
	t.Helper()
	var n []struct {
		N uint64 `ch:"n"`
	}
	if err := conn.Select(context.Background(), &n, "SELECT count() AS n FROM event_identifiers WHERE event_id = {id:UUID}",
		clickhouse.Params{"id": id}); err != nil || len(n) != 1 {
		t.Fatalf("count identifier rows: %v %v", n, err)
	}
	return n[0].N
}

// janeAndHerRead appends an ordinary event about Jane and an internal one
// (a recorded read of her), both carrying her two identifiers.
func janeAndHerRead(t *testing.T, l *Log) (ids []identity.Identifier, ordinary, internal *event.Event) {
	t.Helper()
	ids = []identity.Identifier{{Kind: identity.Email, Value: "jane@example.com"}, {Kind: identity.CustomerID, Value: "C-1"}}
	ordinary = generate("acme", 1, 1, 21)[0]
	ordinary.Subject.Identifiers = ids
	internal = accessRecorded("acme", ordinary.Time.Add(time.Hour), ids...)
	if out, err := l.Append(context.Background(), []*event.Event{ordinary, internal}); err != nil || out[0] != Stored || out[1] != Stored {
		t.Fatalf("append: %v %v", out, err)
	}
	return ids, ordinary, internal
}

// After the migrations, the identifier index holds Custody's internal
// events only: an ordinary event writes no row, an internal one a row per
// identifier.
func TestAppend_OnlyInternalEventsAreIndexedByIdentifier(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			conn := tr.Open(t)
			l := newLog(t, conn)
			_, ordinary, internal := janeAndHerRead(t, l)
			if n := identifierRows(t, conn, ordinary.ID); n != 0 {
				t.Errorf("ordinary %s event has %d event_identifiers rows, want none", ordinary.Type, n)
			}
			if n := identifierRows(t, conn, internal.ID); n != 2 {
				t.Errorf("internal %s event has %d event_identifiers rows, want one per identifier (2)", internal.Type, n)
			}
		})
	}
}

func TestInternalByHashes_RefusesTypesThatAreNotInternal(t *testing.T) {
	l := newLog(t, chtest.Embedded(t))
	ctx := context.Background()
	hashes := personHashes(t, l, identity.Identifier{Kind: identity.Email, Value: "jane@example.com"})
	cases := [][]event.Type{{event.TypeAccessRecorded, event.TypeCollected}, {"request"}, {"requests.opened"}}
	for _, ty := range event.ExternalTypes() {
		cases = append(cases, []event.Type{ty})
	}
	for _, types := range cases {
		recs, err := l.InternalByHashes(ctx, "acme", hashes, types...)
		if !errors.Is(err, ErrNotInternal) {
			t.Errorf("InternalByHashes(%v) = %d records, %v; want ErrNotInternal", types, len(recs), err)
			continue
		}
		if bad := types[len(types)-1]; !strings.Contains(err.Error(), string(bad)) {
			t.Errorf("error %q does not name the type %s", err, bad)
		}
	}
	for _, ty := range event.InternalTypes() {
		if _, err := l.InternalByHashes(ctx, "acme", hashes, ty); err != nil {
			t.Errorf("InternalByHashes(%s): %v", ty, err)
		}
	}
}

// Before migration 006 the view indexed every event. The rows it wrote for
// ordinary events stay in event_identifiers, and reads by identifier must
// not return those events.
func TestInternalByIdentifiers_IgnoresRowsOfOrdinaryEventsIndexedBefore006(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			conn := tr.Open(t)
			l := newLog(t, conn)
			ctx := context.Background()
			ids, ordinary, internal := janeAndHerRead(t, l)
			// What the view of 001 wrote for every event.
			const oldView = `INSERT INTO event_identifiers
SELECT tenant, identifier_hash, identifier_kind, occurred_at, event_id, subject_key
FROM events
ARRAY JOIN identifier_hashes AS identifier_hash, identifier_kinds AS identifier_kind
WHERE event_id = {id:UUID}`
			if err := conn.Exec(ctx, oldView, clickhouse.Params{"id": ordinary.ID}); err != nil {
				t.Fatal(err)
			}
			if n := identifierRows(t, conn, ordinary.ID); n != 2 {
				t.Fatalf("old-style rows of the ordinary event: %d, want 2", n)
			}
			hashes := personHashes(t, l, ids...)
			reads := map[string]func() ([]event.Recorded, error){
				"InternalByIdentifiers": func() ([]event.Recorded, error) { return l.InternalByIdentifiers(ctx, "acme", ids...) },
				"InternalByHashes":      func() ([]event.Recorded, error) { return l.InternalByHashes(ctx, "acme", hashes) },
				"InternalByHashes with a type": func() ([]event.Recorded, error) {
					return l.InternalByHashes(ctx, "acme", hashes, event.TypeAccessRecorded)
				},
			}
			for name, read := range reads {
				recs, err := read()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(recs) != 1 || recs[0].Event.ID != internal.ID {
					var got []string
					for _, r := range recs {
						got = append(got, string(r.Event.Type))
					}
					t.Errorf("%s returned %v, want only the internal event", name, got)
				}
			}
			// The person's read still has the ordinary event.
			person, err := l.ByPerson(ctx, "acme", hashes)
			if err != nil || len(person) != 2 {
				t.Fatalf("ByPerson: %d events, %v; want both", len(person), err)
			}
		})
	}
}

// internalType is event.Type.Internal in SQL, and migration 006 filters the
// identifier view with the same condition.
func TestInternalType_IsTypeInternalInSQL(t *testing.T) {
	conn := chtest.Embedded(t)
	types := append(event.ExternalTypes(), event.InternalTypes()...)
	types = append(types, "request.", "access.", "request", "access", "requests.opened", "accessed.x",
		"data.request.opened", "Request.opened", "ACCESS.recorded", " request.opened", "")
	for _, ty := range types {
		var rows []struct {
			Internal uint8 `ch:"internal"`
		}
		q := "SELECT toUInt8(" + internalType + ") AS internal FROM (SELECT {t:String} AS type)"
		if err := conn.Select(context.Background(), &rows, q, clickhouse.Params{"t": string(ty)}); err != nil || len(rows) != 1 {
			t.Fatalf("%q: %v %v", ty, rows, err)
		}
		if got := rows[0].Internal == 1; got != ty.Internal() {
			t.Errorf("type %q: SQL says internal=%v, Type.Internal says %v", ty, got, ty.Internal())
		}
	}

	ms, err := migrate.Load(schema.ClickHouse(), migrate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == "internal_event_identifiers" {
			if len(m.Statements) != 1 || !strings.HasSuffix(m.Statements[0], "\nWHERE "+internalType) {
				t.Fatalf("006 does not end WHERE %s: %q", internalType, m.Statements)
			}
			return
		}
	}
	t.Fatal("migration internal_event_identifiers not found")
}
