package projectionstore

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/internal/migrate/ddlcheck"
	"github.com/custodyhq/custody/schema"
)

// recorder is a Conn that records every statement and answers as a log
// with one partition and a head would, so that Ensure runs a whole rebuild
// (partition fold, swap, catch-up) without a cluster to run it on.
type recorder struct {
	mu    sync.Mutex
	stmts []string
}

func (r *recorder) add(q string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = append(r.stmts, q)
}

func (r *recorder) Exec(_ context.Context, q string, _ clickhouse.Params) error { r.add(q); return nil }
func (r *recorder) Insert(context.Context, string, any) error                   { return nil }
func (r *recorder) Ping(context.Context) error                                  { return nil }
func (r *recorder) Capabilities() clickhouse.Capabilities                       { return clickhouse.Capabilities{} }
func (r *recorder) Close() error                                                { return nil }

func (r *recorder) Select(_ context.Context, dest any, q string, _ clickhouse.Params) error {
	r.add(q)
	sv := reflect.ValueOf(dest).Elem()
	el := reflect.New(sv.Type().Elem()).Elem()
	switch {
	case strings.Contains(q, "AS p,"): // partitions
		el.FieldByName("P").SetUint(202601)
		el.FieldByName("N").SetUint(10)
	case strings.Contains(q, "max(recorded_at) AS at"): // log head
		el.FieldByName("N").SetUint(10)
		el.FieldByName("At").Set(reflect.ValueOf(time.Now()))
	default:
		return nil
	}
	sv.Set(reflect.Append(sv, el))
	return nil
}

// Every statement Ensure (with a full rebuild) sends in sharded mode is
// parsed by ClickHouse (chDB) and follows the cluster rules: after the
// migrations, projection tables are replicated, each has a Distributed
// table sharded like the rows the views write, views write TO local tables
// and read the local log, and rebuild reads and writes through
// Distributed tables.
func TestShardedDDL_EveryStatementParsesAndIsClustered(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	cfg := migrate.Config{Cluster: "custody", Replicated: true, Sharded: true}
	ms, err := migrate.Load(schema.ClickHouse(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	migrationInserts := 0 // a migration may copy rows (009 through Distributed tables)
	for _, m := range ms {
		stmts = append(stmts, m.Statements...)
		for _, st := range m.Statements {
			if strings.HasPrefix(strings.TrimSpace(st), "INSERT INTO ") {
				migrationInserts++
			}
		}
	}
	rec := &recorder{}
	s, err := New(rec, Config{DDL: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ensure(ctx, nil); err != nil {
		t.Fatalf("ensure: %v", err)
	}
	if _, err := s.Status(ctx); err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, q := range []string{s.sql.neighbours, s.sql.neighboursMany, s.sql.links, s.sql.facts} {
		rec.add(q)
	}
	stmts = append(stmts, rec.stmts...)

	var formatted []string
	for _, stmt := range stmts {
		f, err := ddlcheck.Format(ctx, conn, stmt)
		if err != nil {
			t.Errorf("ClickHouse cannot parse:\n%s\n%v", stmt, err)
			continue
		}
		formatted = append(formatted, f)
	}
	objs, problems := ddlcheck.Check(formatted, ddlcheck.Cluster{Name: "custody",
		ReplicaPath: "/clickhouse/tables/{shard}/{database}/{table}", ReplicaName: "{replica}"})
	for _, p := range problems {
		t.Error(p)
	}
	distributed := map[string]string{}
	for _, o := range objs {
		if o.Engine == "Distributed" {
			distributed[o.Args[2]] = o.Args[3]
		}
		if o.Kind == "MATERIALIZED VIEW" && strings.Contains(o.Text, "_all") {
			t.Errorf("view %s reads or writes a Distributed table: %s", o.Name, o.Text)
		}
	}
	for _, d := range definitions() {
		for _, table := range []string{tableOf(d), tableOf(d) + "_next"} {
			if distributed[table] != d.ShardingKey {
				t.Errorf("%s: Distributed sharding key %q, want %q", table, distributed[table], d.ShardingKey)
			}
		}
	}
	var inserts, exchanges int
	for _, f := range formatted {
		switch {
		case strings.HasPrefix(f, "INSERT INTO "):
			inserts++
			if !strings.Contains(f, "_all SETTINGS distributed_foreground_insert = 1") || strings.Contains(f, "FROM events ") {
				t.Errorf("rebuild insert not through Distributed tables, synchronously: %s", f)
			}
		case strings.HasPrefix(f, "EXCHANGE TABLES "):
			exchanges++
			if strings.Contains(f, "_all") {
				t.Errorf("exchange of Distributed tables: %s", f)
			}
		case strings.HasPrefix(f, "SELECT ") && !strings.Contains(f, "system.tables"):
			if !strings.Contains(f, "_all") {
				t.Errorf("read of a local table: %s", f)
			}
		}
	}
	if want := 2*len(definitions()) + migrationInserts; inserts != want || exchanges != len(definitions()) {
		t.Errorf("%d inserts and %d exchanges, want %d and %d (a fold and a catch-up, and a swap, per projection)", inserts, exchanges, want, len(definitions()))
	}
	t.Logf("%d statements parsed and checked", len(formatted))
}
