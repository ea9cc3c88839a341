package migrate

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/schema"
)

// Migration 006 narrows the event_identifiers view to Custody's internal
// events by changing its query in place.
const (
	identifiersMigration = "internal_event_identifiers"
	internalTypeFilter   = "WHERE startsWith(type, 'request.') OR startsWith(type, 'access.')"
)

// statements returns the rendered statements of the migration called name.
func statements(t *testing.T, ms []Migration, name string) []string {
	t.Helper()
	for _, m := range ms {
		if m.Name == name {
			return m.Statements
		}
	}
	t.Fatalf("no migration %s", name)
	return nil
}

// withoutComments drops a statement's comment lines.
func withoutComments(stmt string) string {
	var out []string
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// In every mode 006 renders one ALTER … MODIFY QUERY of the local view,
// ON CLUSTER on a cluster, whose query is 001's (the same columns, from
// the local events table) with the internal-type filter added.
func TestLoad_006NarrowsTheIdentifierViewInPlaceInEveryMode(t *testing.T) {
	modes := []struct {
		name string
		cfg  Config
	}{
		{"single node", Config{}},
		{"cluster", Config{Cluster: "custody"}},
		{"replicated cluster", Config{Cluster: "custody", Replicated: true}},
		{"sharded", shardedConfig()},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ms, err := Load(schema.ClickHouse(), mode.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var created string
			for _, stmt := range statements(t, ms, "events") {
				stmt = withoutComments(stmt)
				if strings.HasPrefix(stmt, "CREATE MATERIALIZED VIEW IF NOT EXISTS event_identifiers_mv") {
					created = stmt
				}
			}
			_, query, ok := strings.Cut(created, " TO event_identifiers AS\n")
			if !ok {
				t.Fatalf("001 has no event_identifiers_mv query: %q", created)
			}
			alter := statements(t, ms, identifiersMigration)
			if len(alter) != 1 {
				t.Fatalf("006 renders %d statements, want 1: %q", len(alter), alter)
			}
			want := "ALTER TABLE event_identifiers_mv" + mode.cfg.onCluster() + " MODIFY QUERY\n" + query + "\n" + internalTypeFilter
			if got := withoutComments(alter[0]); got != want {
				t.Errorf("006 renders\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// insertEvent writes an events row of type typ with two identifiers, as the
// log would (only the columns the identifier view reads).
func insertEvent(t *testing.T, conn clickhouse.Conn, typ string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	err := conn.Exec(context.Background(), `INSERT INTO events (tenant, subject_key, occurred_at, event_id, type, identifier_kinds, identifier_hashes)
SELECT 'acme', 'h-a', now64(3), {id:UUID}, {type:String}, ['email', 'customer_id'], ['h-a', 'h-b']`,
		clickhouse.Params{"id": id, "type": typ})
	if err != nil {
		t.Fatalf("insert a %s event: %v", typ, err)
	}
	return id
}

// indexed counts the event_identifiers rows of event id.
func indexed(t *testing.T, conn clickhouse.Conn, id uuid.UUID) uint64 {
	t.Helper()
	var n []struct {
		N uint64 `ch:"n"`
	}
	err := conn.Select(context.Background(), &n, "SELECT count() AS n FROM event_identifiers WHERE event_id = {id:UUID}", clickhouse.Params{"id": id})
	if err != nil || len(n) != 1 {
		t.Fatalf("count identifier rows: %v %v", n, err)
	}
	return n[0].N
}

// An installation migrated through 005 upgrades: 006 alone applies, the
// view then indexes only internal events, the rows it wrote before stay,
// and running 006's statement again (a crash before the ledger row) is
// harmless.
func TestUp_006UpgradesADatabaseMigratedTo005(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	before := embeddedCopy(t)
	delete(before, "006_"+identifiersMigration+".sql")
	if _, err := newMigrator(t, conn, before).Up(ctx); err != nil {
		t.Fatalf("up to 005: %v", err)
	}
	oldOrdinary, oldInternal := insertEvent(t, conn, "data.collected"), insertEvent(t, conn, "request.opened")
	if indexed(t, conn, oldOrdinary) != 2 || indexed(t, conn, oldInternal) != 2 {
		t.Fatal("before 006 the view does not index every event")
	}

	m := newMigrator(t, conn, schema.ClickHouse())
	ran, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("up with 006: %v", err)
	}
	if got := versions(ran); !reflect.DeepEqual(got, []int{6}) {
		t.Fatalf("applied %v, want [6]", got)
	}
	for typ, want := range map[string]uint64{"data.collected": 0, "consent.changed": 0, "request.opened": 2, "access.recorded": 2} {
		if got := indexed(t, conn, insertEvent(t, conn, typ)); got != want {
			t.Errorf("after 006 a %s event has %d identifier rows, want %d", typ, got, want)
		}
	}
	if indexed(t, conn, oldOrdinary) != 2 || indexed(t, conn, oldInternal) != 2 {
		t.Error("006 changed rows written before it")
	}

	for _, stmt := range ran[0].Statements {
		if err := conn.Exec(ctx, stmt, nil); err != nil {
			t.Fatalf("006 run again: %v", err)
		}
	}
	if got := indexed(t, conn, insertEvent(t, conn, "data.shared")); got != 0 {
		t.Errorf("after 006 ran twice an ordinary event has %d identifier rows", got)
	}
	if again, err := m.Up(ctx); err != nil || len(again) != 0 {
		t.Errorf("second up: %v %v, want nothing applied", versions(again), err)
	}
	if status, err := m.Status(ctx); err != nil || len(status) != len(m.Migrations()) {
		t.Errorf("ledger %+v %v, want every migration of a single node (001–004, 006 and later)", status, err)
	}
}
