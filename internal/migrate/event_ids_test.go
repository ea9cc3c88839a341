package migrate

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/schema"
)

const eventIDsMigration = "009_event_ids_by_tenant.sql"

// idRows counts the rows of table for event id in tenant.
func idRows(t *testing.T, conn clickhouse.Conn, table string, id uuid.UUID, tenant string) uint64 {
	t.Helper()
	var n []struct {
		N uint64 `ch:"n"`
	}
	err := conn.Select(context.Background(), &n, "SELECT count() AS n FROM "+table+" WHERE event_id = {id:UUID} AND tenant = {t:String}",
		clickhouse.Params{"id": id, "t": tenant})
	if err != nil || len(n) != 1 {
		t.Fatalf("count %s rows: %v %v", table, n, err)
	}
	return n[0].N
}

func insertTenantEvent(t *testing.T, conn clickhouse.Conn, id uuid.UUID, tenant string) {
	t.Helper()
	err := conn.Exec(context.Background(), `INSERT INTO events (tenant, subject_key, occurred_at, event_id, type)
SELECT {t:String}, 'h-a', now64(3), {id:UUID}, 'data.collected'`, clickhouse.Params{"id": id, "t": tenant})
	if err != nil {
		t.Fatal(err)
	}
}

// An installation from before 009 upgrades: the ids it stored are copied
// into event_ids_v2 with their tenants (the same id in two tenants stays
// two rows), new events are indexed there and no longer in event_ids, and
// running 009's statements again is harmless.
func TestUp_009MovesTheIDIndexToTenantAndIDWithoutLosingStoredIDs(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	before := embeddedCopy(t)
	delete(before, eventIDsMigration)
	if _, err := newMigrator(t, conn, before).Up(ctx); err != nil {
		t.Fatalf("up to 008: %v", err)
	}
	shared := uuid.New()
	insertTenantEvent(t, conn, shared, "acme")
	insertTenantEvent(t, conn, shared, "globex")
	if idRows(t, conn, "event_ids", shared, "acme") != 1 {
		t.Fatal("before 009 event_ids does not index the event")
	}

	m := newMigrator(t, conn, schema.ClickHouse())
	ran, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("up with 009: %v", err)
	}
	if got := versions(ran); !reflect.DeepEqual(got, []int{9}) {
		t.Fatalf("applied %v, want [9]", got)
	}
	for _, tenant := range []string{"acme", "globex"} {
		if idRows(t, conn, "event_ids_v2", shared, tenant) == 0 {
			t.Errorf("the id stored for %s before 009 is not in event_ids_v2", tenant)
		}
	}
	fresh := uuid.New()
	insertTenantEvent(t, conn, fresh, "acme")
	if idRows(t, conn, "event_ids_v2", fresh, "acme") != 1 {
		t.Error("an event stored after 009 is not in event_ids_v2")
	}
	if idRows(t, conn, "event_ids", fresh, "acme") != 0 {
		t.Error("the old view still writes event_ids")
	}
	for _, stmt := range ran[0].Statements {
		if err := conn.Exec(ctx, stmt, nil); err != nil {
			t.Fatalf("009 run again: %v", err)
		}
	}
	var distinct []struct {
		N uint64 `ch:"n"`
	}
	if err := conn.Select(ctx, &distinct, "SELECT count(DISTINCT (event_id, tenant)) AS n FROM event_ids_v2", nil); err != nil || distinct[0].N != 3 {
		t.Fatalf("event_ids_v2 holds %v distinct ids (%v), want 3", distinct, err)
	}
}
