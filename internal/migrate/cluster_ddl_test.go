package migrate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/migrate/ddlcheck"
	"github.com/custodyhq/custody/schema"
)

// Cluster DDL cannot be executed here (no ClickHouse cluster, and the only
// server Debian ships is 18.16), so it is checked in two steps (package
// ddlcheck): ClickHouse's own parser (chDB, 26.x) reads every statement the
// migrator would send to a cluster and re-renders it, and the checks read
// the parser's rendering, not the template text: every statement runs ON
// CLUSTER, every table is a Replicated*MergeTree with the configured replica
// path and name, materialized views write TO replicated tables, and
// Distributed tables shard by subject.

// clusterModes are the cluster configurations the DDL is checked in.
func clusterModes() []struct {
	name string
	cfg  Config
} {
	return []struct {
		name string
		cfg  Config
	}{
		{"default macros", Config{Cluster: "custody", Replicated: true}},
		{"custom replica path and name", Config{Cluster: "prod_eu_1", Replicated: true,
			ReplicaPath: "/custody/{installation}/{shard}/{database}/{table}", ReplicaName: "{replica}-{installation}"}},
		{"sharded", shardedConfig()},
		{"sharded, custom replica path and name", Config{Cluster: "prod_eu_1", Replicated: true, Sharded: true,
			ReplicaPath: "/custody/{installation}/{shard}/{database}/{table}", ReplicaName: "{replica}-{installation}"}},
	}
}

func shardedConfig() Config { return Config{Cluster: "custody", Replicated: true, Sharded: true} }

// checkCluster is the ddlcheck mode of cfg.
func checkCluster(cfg Config) ddlcheck.Cluster {
	cfg.setDefaults()
	return ddlcheck.Cluster{Name: cfg.Cluster, ReplicaPath: cfg.ReplicaPath, ReplicaName: cfg.ReplicaName}
}

func checkClusterDDL(formatted []string, cfg Config) ([]ddlcheck.Object, []string) {
	return ddlcheck.Check(formatted, checkCluster(cfg))
}

func formatSQL(ctx context.Context, conn clickhouse.Conn, stmt string) (string, error) {
	return ddlcheck.Format(ctx, conn, stmt)
}

// clusterStatements is every statement the migrator sends in cluster mode:
// the ledger's DDL, then each migration's statements.
func clusterStatements(t *testing.T, cfg Config) []string {
	t.Helper()
	ms, err := Load(schema.ClickHouse(), cfg)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	cfg.setDefaults()
	out, err := cfg.ledgerDDL()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		out = append(out, m.Statements...)
	}
	return out
}

func TestClusterDDL_EveryStatementParsesAndIsClustered(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	for _, mode := range clusterModes() {
		t.Run(mode.name, func(t *testing.T) {
			stmts := clusterStatements(t, mode.cfg)
			var formatted []string
			for _, stmt := range stmts {
				f, err := formatSQL(ctx, conn, stmt)
				if err != nil {
					t.Errorf("ClickHouse cannot parse:\n%s\n%v", stmt, err)
					continue
				}
				formatted = append(formatted, f)
			}
			objs, problems := checkClusterDDL(formatted, mode.cfg)
			for _, p := range problems {
				t.Error(p)
			}
			var tables, views, distributed int
			for _, o := range objs {
				switch {
				case o.Kind == "TABLE" && o.Engine == "Distributed":
					distributed++
				case o.Kind == "TABLE":
					tables++
				case o.Kind == "MATERIALIZED VIEW":
					views++
				}
			}
			// Sharded mode puts a Distributed table over every table; the
			// other modes create none.
			if want := map[bool]int{true: tables, false: 0}[mode.cfg.Sharded]; distributed != want {
				t.Errorf("%d Distributed tables over %d tables, want %d", distributed, tables, want)
			}
			// The ledger, events, event_ids, event_identifiers, subject_keys
			// and rejected_events at least; and the two id views.
			if tables < 6 || views < 2 {
				t.Errorf("checked %d tables and %d materialized views; the schema has at least 6 and 2", tables, views)
			}
			t.Logf("%d statements parsed; %d tables, %d Distributed tables and %d materialized views ON CLUSTER %s, all replicated",
				len(formatted), tables, distributed, views, mode.cfg.Cluster)
		})
	}
}

// The parse step must reject broken DDL, and the checks must flag DDL that
// would not be clustered, so that the test above can fail.
func TestClusterDDL_ChecksRejectNonClusteredDDL(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	if f, err := formatSQL(ctx, conn, "CREATE TABLE t ON CLUSTER c (x String) ENGINE = ReplicatedMergeTree('/p/{table}', '{replica}' ORDER BY x"); err == nil {
		t.Fatalf("ClickHouse parsed broken DDL as %q", f)
	}
	cfg := Config{Cluster: "custody", Replicated: true}
	good := "CREATE TABLE IF NOT EXISTS t ON CLUSTER custody (subject_key String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY subject_key"
	keyed := "CREATE TABLE IF NOT EXISTS k ON CLUSTER custody (a String, b String, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v) ORDER BY (a, b)"
	tests := []struct {
		name string
		ddl  []string
		want string // "" means no problem
	}{
		{"replicated table on the cluster", []string{good}, ""},
		{"no ON CLUSTER", []string{strings.Replace(good, " ON CLUSTER custody", "", 1)}, "without ON CLUSTER"},
		{"another cluster", []string{strings.Replace(good, "ON CLUSTER custody", "ON CLUSTER other", 1)}, "ON CLUSTER other"},
		{"plain MergeTree", []string{"CREATE TABLE t ON CLUSTER custody (x String) ENGINE = MergeTree ORDER BY x"}, "not Replicated"},
		{"Memory engine", []string{"CREATE TABLE t ON CLUSTER custody (x String) ENGINE = Memory"}, "not Replicated"},
		{"wrong replica path", []string{strings.Replace(good, "/{shard}/{database}/{table}", "/{table}", 1)}, "replica path"},
		{"view without TO", []string{good, "CREATE MATERIALIZED VIEW v ON CLUSTER custody ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY x AS SELECT 1 AS x"},
			"without TO"},
		{"view TO an unreplicated table", []string{"CREATE MATERIALIZED VIEW v ON CLUSTER custody TO elsewhere AS SELECT 1"}, "not a replicated table"},
		{"ALTER without ON CLUSTER", []string{good, "ALTER TABLE t ADD COLUMN y String"}, "without ON CLUSTER"},
		{"Distributed not by subject", []string{good, "CREATE TABLE t_all ON CLUSTER custody AS t ENGINE = Distributed(custody, currentDatabase(), t, rand())"}, "shards by rand()"},
		{"Distributed over a missing table", []string{"CREATE TABLE t_all ON CLUSTER custody (subject_key String) ENGINE = Distributed(custody, currentDatabase(), nope, cityHash64(subject_key))"}, "not a replicated table"},
		{"Distributed on another cluster", []string{good, "CREATE TABLE t_all ON CLUSTER custody AS t ENGINE = Distributed(other, currentDatabase(), t, cityHash64(subject_key))"}, "cluster other"},
		{"Distributed by subject", []string{good, "CREATE TABLE t_all ON CLUSTER custody AS t ENGINE = Distributed(custody, currentDatabase(), t, cityHash64(subject_key))"}, ""},
		{"Distributed in a fixed database", []string{good, "CREATE TABLE t_all ON CLUSTER custody AS t ENGINE = Distributed(custody, custody, t, cityHash64(subject_key))"}, "database custody"},
		{"Distributed AS another table", []string{good, strings.Replace(good, " t ", " u ", 1),
			"CREATE TABLE t_all ON CLUSTER custody AS u ENGINE = Distributed(custody, currentDatabase(), t, cityHash64(subject_key))"}, "structure of u"},
		{"no subject: by a sorting key column", []string{keyed, "CREATE TABLE k_all ON CLUSTER custody AS k ENGINE = Distributed(custody, currentDatabase(), k, cityHash64(least(a, b)))"}, ""},
		{"no subject: by a column outside the sorting key", []string{keyed, "CREATE TABLE k_all ON CLUSTER custody AS k ENGINE = Distributed(custody, currentDatabase(), k, cityHash64(v))"}, "column v is not in k's sorting key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var formatted []string
			for _, s := range tt.ddl {
				f, err := formatSQL(ctx, conn, s)
				if err != nil {
					t.Fatalf("fixture does not parse: %v\n%s", err, s)
				}
				formatted = append(formatted, f)
			}
			_, problems := checkClusterDDL(formatted, cfg)
			if tt.want == "" {
				if len(problems) > 0 {
					t.Fatalf("flagged good DDL: %q", problems)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Fatalf("problems %q do not mention %q", problems, tt.want)
			}
		})
	}
}

// Issue 8 asks for Replicated local tables sharded by subject behind
// Distributed tables for reads and writes. Every local table holding a
// subject_key must have a Distributed table over it sharded by subject_key,
// so one person's rows, and every copy of one event, land on one shard
// (where ReplacingMergeTree can collapse duplicates).
func TestClusterDDL_ShardedBySubject(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	cfg := shardedConfig()
	var formatted []string
	for _, stmt := range clusterStatements(t, cfg) {
		f, err := formatSQL(ctx, conn, stmt)
		if err != nil {
			t.Fatalf("ClickHouse cannot parse:\n%s\n%v", stmt, err)
		}
		formatted = append(formatted, f)
	}
	objs, _ := checkClusterDDL(formatted, cfg)
	distributedOver := map[string]ddlcheck.Object{}
	var withSubject []string
	for _, o := range objs {
		switch {
		case o.Engine == "Distributed" && len(o.Args) >= 3:
			distributedOver[o.Args[2]] = o
		case o.Kind == "TABLE" && o.Replicated && o.HasColumn("subject_key"):
			withSubject = append(withSubject, o.Name)
		}
	}
	if len(withSubject) < 4 {
		t.Fatalf("found %d local tables with subject_key (%s); events, event_ids, event_identifiers and subject_keys at least", len(withSubject), withSubject)
	}
	for _, name := range withSubject {
		d, ok := distributedOver[name]
		if !ok {
			t.Errorf("local table %s holds subject_key but no Distributed table shards it", name)
			continue
		}
		if len(d.Args) < 4 || d.Args[3] != "cityHash64(subject_key)" {
			t.Errorf("Distributed table %s over %s does not shard by cityHash64(subject_key): %q", d.Name, name, d.Args)
		}
		if d.Name != name+DistributedSuffix {
			t.Errorf("Distributed table over %s is named %s, want %s (Tables.Name)", name, d.Name, name+DistributedSuffix)
		}
	}
	// Every other replicated table has its Distributed table too, named as
	// Tables maps it, so the application can read every table through one.
	for _, o := range objs {
		if o.Replicated && distributedOver[o.Name].Name != cfg.Tables().Name(o.Name) {
			t.Errorf("replicated table %s has no Distributed table %s", o.Name, cfg.Tables().Name(o.Name))
		}
	}
}
