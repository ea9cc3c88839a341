package migrate

import (
	"context"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/schema"
)

// productTables are the tables and views the schema must create, with the
// engine each must have on a single node.
var productTables = map[string]string{
	"events":               "ReplacingMergeTree",
	"event_ids":            "ReplacingMergeTree",
	"event_ids_v2":         "ReplacingMergeTree",
	"event_ids_v2_mv":      "MaterializedView",
	"event_identifiers":    "ReplacingMergeTree",
	"event_identifiers_mv": "MaterializedView",
	"subject_keys":         "ReplacingMergeTree",
	"rejected_events":      "ReplacingMergeTree",
	"key_fingerprints":     "ReplacingMergeTree",
	"custody_migrations":   "ReplacingMergeTree",
}

func newMigrator(t *testing.T, conn clickhouse.Conn, files fs.FS) *Migrator {
	t.Helper()
	m, err := New(conn, files, Config{}, nil)
	if err != nil {
		t.Fatalf("new migrator: %v", err)
	}
	return m
}

func versions(ms []Migration) []int {
	var out []int
	for _, m := range ms {
		out = append(out, m.Version)
	}
	return out
}

// tables returns the engine of every table in the current database.
func tables(t *testing.T, conn clickhouse.Conn) map[string]string {
	t.Helper()
	var rows []struct {
		Name   string `ch:"name"`
		Engine string `ch:"engine"`
	}
	if err := conn.Select(context.Background(), &rows,
		"SELECT name, engine FROM system.tables WHERE database = currentDatabase()", nil); err != nil {
		t.Fatalf("list tables: %v", err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Name] = r.Engine
	}
	return out
}

// embeddedCopy returns a writable copy of the embedded migrations.
func embeddedCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(schema.ClickHouse(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schema.ClickHouse(), path)
		if err != nil {
			return err
		}
		out[path] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatalf("copy embedded migrations: %v", err)
	}
	return out
}

func TestUp_FreshEngineAppliesEveryMigrationAndCreatesTheProductTables(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	m := newMigrator(t, conn, schema.ClickHouse())
	before := time.Now().Add(-time.Second)

	ran, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if got, want := versions(ran), versions(m.Migrations()); !reflect.DeepEqual(got, want) || len(got) < 2 {
		t.Fatalf("applied versions %v, want every migration %v", got, want)
	}

	got := tables(t, conn)
	for name, engine := range productTables {
		if got[name] != engine {
			t.Errorf("table %s: engine %q, want %q", name, got[name], engine)
		}
	}

	status, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if len(status) != len(ran) {
		t.Fatalf("status has %d rows, want %d: %+v", len(status), len(ran), status)
	}
	after := time.Now().Add(time.Second)
	for i, a := range status {
		mig := ran[i]
		if int(a.Version) != mig.Version || a.Name != mig.Name || a.Checksum != mig.Checksum {
			t.Errorf("status[%d] = %d %s %s, want %d %s %s", i, a.Version, a.Name, a.Checksum, mig.Version, mig.Name, mig.Checksum)
		}
		if a.At.Before(before) || a.At.After(after) {
			t.Errorf("status[%d] applied_at %s, want between %s and %s", i, a.At, before, after)
		}
	}
}

func TestUp_SecondRunAppliesNothing(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	if _, err := newMigrator(t, conn, schema.ClickHouse()).Up(ctx); err != nil {
		t.Fatalf("first up: %v", err)
	}
	// Both the same migrator and a fresh one (a restart) find nothing to do.
	for _, m := range []*Migrator{newMigrator(t, conn, schema.ClickHouse()), newMigrator(t, conn, schema.ClickHouse())} {
		ran, err := m.Up(ctx)
		if err != nil {
			t.Fatalf("second up: %v", err)
		}
		if len(ran) != 0 {
			t.Errorf("second up applied %v", versions(ran))
		}
		status, err := m.Status(ctx)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		if len(status) != len(m.Migrations()) {
			t.Errorf("ledger has %d rows after a second up, want %d", len(status), len(m.Migrations()))
		}
	}
}

func TestStatus_FreshEngineHasAnEmptyLedger(t *testing.T) {
	conn := chtest.Embedded(t)
	status, err := newMigrator(t, conn, schema.ClickHouse()).Status(context.Background())
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if len(status) != 0 {
		t.Errorf("fresh ledger: %+v", status)
	}
}

func TestUp_EditedAppliedFileFailsWithChecksumMismatchAndAppliesNothing(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	if _, err := newMigrator(t, conn, schema.ClickHouse()).Up(ctx); err != nil {
		t.Fatalf("first up: %v", err)
	}
	edited := embeddedCopy(t)
	f := edited["001_events.sql"]
	f.Data = append(append([]byte{}, f.Data...), "\n-- an innocent-looking edit\n"...)
	edited["900_later.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS later (x String) ENGINE = Memory;\n")}

	m := newMigrator(t, conn, edited)
	ran, err := m.Up(ctx)
	if !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("up after an edit: %v, want ErrChecksumMismatch", err)
	}
	if !strings.Contains(err.Error(), "001_events.sql") {
		t.Errorf("error %q does not name the edited file", err)
	}
	if len(ran) != 0 {
		t.Errorf("applied %v despite the mismatch", versions(ran))
	}
	if _, ok := tables(t, conn)["later"]; ok {
		t.Error("a later migration ran despite the mismatch")
	}
	status, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if want := len(newMigrator(t, conn, schema.ClickHouse()).Migrations()); len(status) != want {
		t.Errorf("ledger has %d rows, want the %d applied before the edit", len(status), want)
	}
}

// A mismatch stops Up before anything runs, even a new migration whose
// version sorts before the edited one.
func TestUp_ChecksumMismatchStopsEarlierUnappliedMigrationsToo(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	files := fstest.MapFS{
		"001_a.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS a (x String) ENGINE = Memory;\n")},
		"003_c.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS c (x String) ENGINE = Memory;\n")},
	}
	if _, err := newMigrator(t, conn, files).Up(ctx); err != nil {
		t.Fatalf("first up: %v", err)
	}
	files["002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS b (x String) ENGINE = Memory;\n")}
	files["003_c.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS c (x String, y String) ENGINE = Memory;\n")}

	ran, err := newMigrator(t, conn, files).Up(ctx)
	if !errors.Is(err, ErrChecksumMismatch) || !strings.Contains(err.Error(), "003_c.sql") {
		t.Fatalf("up: %v, want ErrChecksumMismatch naming 003_c.sql", err)
	}
	if len(ran) != 0 {
		t.Errorf("applied %v before reporting the mismatch", versions(ran))
	}
	if _, ok := tables(t, conn)["b"]; ok {
		t.Error("002_b ran although 003_c was edited")
	}
}

func TestUp_FailedStatementIsNotRecordedAndRunsAgainOnceFixed(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	files := fstest.MapFS{
		"001_a.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS a (x String) ENGINE = Memory;\n")},
		"002_b.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS b (x String) ENGINE = Memory;\nCREATE TABL oops;\n")},
	}
	ran, err := newMigrator(t, conn, files).Up(ctx)
	if err == nil || !strings.Contains(err.Error(), "002_b statement 2") {
		t.Fatalf("up with a broken statement: %v, want an error naming 002_b statement 2", err)
	}
	if got := versions(ran); !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("applied %v, want [1]", got)
	}
	files["002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS b (x String) ENGINE = Memory;\nCREATE TABLE IF NOT EXISTS b2 (x String) ENGINE = Memory;\n")}
	m := newMigrator(t, conn, files)
	ran, err = m.Up(ctx)
	if err != nil {
		t.Fatalf("up after the fix: %v", err)
	}
	if got := versions(ran); !reflect.DeepEqual(got, []int{2}) {
		t.Errorf("applied %v after the fix, want [2]", got)
	}
	status, err := m.Status(ctx)
	if err != nil || len(status) != 2 {
		t.Errorf("ledger %+v, %v; want 2 rows", status, err)
	}
}
