package migrate

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/schema"
)

// Cluster DDL cannot be executed here (no ClickHouse cluster, and the only
// server Debian ships is 18.16), so it is checked in two steps: ClickHouse's
// own parser (chDB, 26.x) reads every statement the migrator would send to
// a cluster and re-renders it (formatQuerySingleLine: parse, then format,
// nothing executed), and the checks below read the parser's rendering, not
// the template text: every statement runs ON CLUSTER, every table is a
// Replicated*MergeTree with the configured replica path and name,
// materialized views write TO replicated tables, and Distributed tables
// shard by subject.

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
	}
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
	out := []string{fmt.Sprintf(createLedger, cfg.onCluster(), cfg.engine("ReplacingMergeTree"))}
	for _, m := range ms {
		out = append(out, m.Statements...)
	}
	return out
}

// formatSQL has ClickHouse parse stmt (a server-side parameter, so nothing
// is spliced into SQL) and return it re-rendered on one line.
func formatSQL(ctx context.Context, conn clickhouse.Conn, stmt string) (string, error) {
	var rows []struct {
		F string `ch:"f"`
	}
	if err := conn.Select(ctx, &rows, "SELECT formatQuerySingleLine({q:String}) AS f", clickhouse.Params{"q": stmt}); err != nil {
		return "", err
	}
	if len(rows) != 1 {
		return "", fmt.Errorf("formatQuerySingleLine returned %d rows", len(rows))
	}
	return rows[0].F, nil
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
			var tables, views int
			for _, o := range objs {
				switch o.kind {
				case "TABLE":
					tables++
				case "MATERIALIZED VIEW":
					views++
				}
			}
			// The ledger, events, event_ids, event_identifiers, subject_keys
			// and rejected_events at least; and the two id views.
			if tables < 6 || views < 2 {
				t.Errorf("checked %d tables and %d materialized views; the schema has at least 6 and 2", tables, views)
			}
			t.Logf("%d statements parsed; %d tables and %d materialized views ON CLUSTER %s, all replicated", len(formatted), tables, views, mode.cfg.Cluster)
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
	cfg := clusterModes()[0].cfg
	var formatted []string
	for _, stmt := range clusterStatements(t, cfg) {
		f, err := formatSQL(ctx, conn, stmt)
		if err != nil {
			t.Fatalf("ClickHouse cannot parse:\n%s\n%v", stmt, err)
		}
		formatted = append(formatted, f)
	}
	objs, _ := checkClusterDDL(formatted, cfg)
	distributedOver := map[string]ddlObject{}
	var withSubject []string
	for _, o := range objs {
		switch {
		case o.engine == "Distributed" && len(o.args) >= 3:
			distributedOver[o.args[2]] = o
		case o.kind == "TABLE" && o.replicated && o.hasColumn("subject_key"):
			withSubject = append(withSubject, o.name)
		}
	}
	if len(distributedOver) == 0 {
		// Reported to the lead: the migrations render no Distributed tables
		// yet (issue 8, part 2). Once any exists this test enforces the rule
		// for every table.
		t.Skipf("no Distributed tables in the cluster rendering yet (issue 8 part 2); local tables with subject_key that need one: %s",
			strings.Join(withSubject, ", "))
	}
	for _, name := range withSubject {
		d, ok := distributedOver[name]
		if !ok {
			t.Errorf("local table %s holds subject_key but no Distributed table shards it", name)
			continue
		}
		if len(d.args) < 4 || !strings.Contains(d.args[3], "subject_key") {
			t.Errorf("Distributed table %s over %s does not shard by subject_key: %q", d.name, name, d.args)
		}
	}
}

// ddlObject is one CREATE statement as the parser rendered it.
type ddlObject struct {
	kind       string // TABLE, MATERIALIZED VIEW, …
	name       string
	cluster    string
	engine     string   // engine name, "" if none
	args       []string // engine arguments, top-level split
	to         string   // a materialized view's target table
	replicated bool
	text       string
}

func (o ddlObject) hasColumn(name string) bool {
	return regexp.MustCompile(`[(,] ?` + "`?" + regexp.QuoteMeta(name) + "`?" + ` `).MatchString(o.text)
}

var (
	createHead  = regexp.MustCompile(`^CREATE (TABLE|MATERIALIZED VIEW|VIEW|DICTIONARY|DATABASE) (?:IF NOT EXISTS )?(\S+)(?: ON CLUSTER (\S+))?`)
	changeHead  = regexp.MustCompile(`^(ALTER|DROP|RENAME|TRUNCATE|EXCHANGE|ATTACH|DETACH) `)
	onCluster   = regexp.MustCompile(` ON CLUSTER (\S+)`)
	viewTarget  = regexp.MustCompile(` TO (\S+)`)
	engineStart = regexp.MustCompile(` ENGINE = (\w+)`)
)

// checkClusterDDL reads formatted statements (formatQuerySingleLine
// output) in order and returns the objects they create and every way they
// fall short of cfg's cluster mode.
func checkClusterDDL(formatted []string, cfg Config) ([]ddlObject, []string) {
	cfg.setDefaults()
	var objs []ddlObject
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	replicated := map[string]bool{}
	for _, f := range formatted {
		if m := changeHead.FindStringSubmatch(f); m != nil {
			if c := onCluster.FindStringSubmatch(f); c == nil || c[1] != cfg.Cluster {
				bad("%s without ON CLUSTER %s: %s", m[1], cfg.Cluster, f)
			}
			continue
		}
		m := createHead.FindStringSubmatch(f)
		if m == nil {
			continue // a read (SELECT) needs no cluster clause
		}
		o := ddlObject{kind: m[1], name: strings.Trim(m[2], "`"), cluster: m[3], text: f}
		switch o.cluster {
		case cfg.Cluster:
		case "":
			bad("%s %s is created without ON CLUSTER %s: %s", o.kind, o.name, cfg.Cluster, f)
		default:
			bad("%s %s is created ON CLUSTER %s, want %s", o.kind, o.name, o.cluster, cfg.Cluster)
		}
		o.engine, o.args = engineOf(f)
		switch {
		case o.kind == "MATERIALIZED VIEW":
			target := viewTarget.FindStringSubmatch(strings.SplitN(f, " AS SELECT ", 2)[0])
			if target == nil {
				bad("materialized view %s is created without TO <replicated table>: its inner table would be created by the view, outside the migrations' engine rules", o.name)
				break
			}
			o.to = strings.Trim(target[1], "`")
			if !replicated[o.to] {
				bad("materialized view %s writes TO %s, which is not a replicated table created earlier", o.name, o.to)
			}
		case o.kind == "TABLE" && o.engine == "Distributed":
			switch {
			case len(o.args) != 4:
				bad("Distributed table %s has %d arguments (want cluster, database, table, sharding key): %q", o.name, len(o.args), o.args)
			case o.args[0] != cfg.Cluster:
				bad("Distributed table %s spans cluster %s, want %s", o.name, o.args[0], cfg.Cluster)
			case !replicated[o.args[2]]:
				bad("Distributed table %s reads %s, which is not a replicated table created earlier", o.name, o.args[2])
			case !strings.Contains(o.args[3], "subject_key"):
				bad("Distributed table %s shards by %s, want a hash of subject_key", o.name, o.args[3])
			}
		case o.kind == "TABLE":
			wantPath, wantName := "'"+cfg.ReplicaPath+"'", "'"+cfg.ReplicaName+"'"
			switch {
			case !strings.HasPrefix(o.engine, "Replicated") || !strings.HasSuffix(o.engine, "MergeTree"):
				bad("table %s has engine %q, not Replicated*MergeTree", o.name, o.engine)
			case len(o.args) < 2 || o.args[0] != wantPath || o.args[1] != wantName:
				bad("table %s: engine %s(%s) lacks the replica path %s and name %s", o.name, o.engine, strings.Join(o.args, ", "), wantPath, wantName)
			default:
				o.replicated = true
				replicated[o.name] = true
			}
		}
		objs = append(objs, o)
	}
	return objs, problems
}

// engineOf returns the ENGINE clause's name and top-level arguments.
func engineOf(f string) (string, []string) {
	loc := engineStart.FindStringSubmatchIndex(f)
	if loc == nil {
		return "", nil
	}
	name := f[loc[2]:loc[3]]
	rest := f[loc[1]:]
	if !strings.HasPrefix(rest, "(") {
		return name, nil
	}
	var args []string
	depth, quoted, start := 0, false, 1
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case quoted:
			if c == '\\' {
				i++
			} else if c == '\'' {
				quoted = false
			}
		case c == '\'':
			quoted = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				if a := strings.TrimSpace(rest[start:i]); a != "" {
					args = append(args, a)
				}
				return name, args
			}
		case c == ',' && depth == 1:
			args = append(args, strings.TrimSpace(rest[start:i]))
			start = i + 1
		}
	}
	return name, args
}
