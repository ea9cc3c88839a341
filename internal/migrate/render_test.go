package migrate

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/schema"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestLoad_IgnoresFilesNotNamedNNNName(t *testing.T) {
	files := fstest.MapFS{
		"001_first.sql":      file("SELECT 1;\n"),
		"010_tenth.sql":      file("SELECT 10;\n"),
		"002_second.sql":     file("SELECT 2;\n"),
		"README.md":          file("not SQL;\n"),
		"1_short.sql":        file("bad;\n"),
		"0001_long.sql":      file("bad;\n"),
		"003_Upper.sql":      file("bad;\n"),
		"004_dash-name.sql":  file("bad;\n"),
		"005_x.sql.bak":      file("bad;\n"),
		"006_x.txt":          file("bad;\n"),
		"abc_x.sql":          file("bad;\n"),
		"007_.sql":           file("bad;\n"),
		"008_dir.sql/x.sql":  file("bad;\n"),
		"sub/009_nested.sql": file("bad;\n"),
	}
	ms, err := Load(files, Config{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%d %s %q", m.Version, m.Name, m.Statements))
	}
	want := []string{`1 first ["SELECT 1"]`, `2 second ["SELECT 2"]`, `10 tenth ["SELECT 10"]`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %q, want %q", got, want)
	}
}

func TestLoad_Errors(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string // substrings of the error
	}{
		{"duplicate version", fstest.MapFS{"001_a.sql": file("SELECT 1;"), "001_b.sql": file("SELECT 2;")},
			[]string{"001_a.sql", "001_b.sql", "version 1"}},
		{"template parse error names the file", fstest.MapFS{"001_a.sql": file("SELECT 1;"), "002_broken.sql": file("CREATE TABLE t{{.OnCluster}\n")},
			[]string{"002_broken.sql"}},
		{"unknown template field names the file", fstest.MapFS{"003_field.sql": file("CREATE TABLE t{{.Nope}};\n")},
			[]string{"003_field.sql", "Nope"}},
		{"unknown template function names the file", fstest.MapFS{"004_func.sql": file("ENGINE = {{engin \"MergeTree\"}};\n")},
			[]string{"004_func.sql", "engin"}},
		{"no migrations", fstest.MapFS{"README.md": file("x")}, []string{"no migrations"}},
		{"empty directory", fstest.MapFS{}, []string{"no migrations"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.files, Config{})
			if err == nil {
				t.Fatalf("load succeeded: %+v", ms)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoad_SplitsStatementsOnSemicolonAtLineEnd(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"one statement", "SELECT 1;\n", []string{"SELECT 1"}},
		{"last statement without semicolon", "SELECT 1;\nSELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"multi-line statement", "CREATE TABLE t\n(\n    x String\n)\nENGINE = Memory;\n",
			[]string{"CREATE TABLE t\n(\n    x String\n)\nENGINE = Memory"}},
		{"semicolon inside a line does not split", "SELECT 'a;b', ';' AS c;\n", []string{"SELECT 'a;b', ';' AS c"}},
		{"trailing spaces, tabs and CR after the semicolon", "SELECT 1; \t\r\nSELECT 2;\r\n", []string{"SELECT 1", "SELECT 2"}},
		{"comment-only chunks are dropped", "-- header\n-- more;\nSELECT 1;\n-- trailing comment\n", []string{"SELECT 1"}},
		{"comment leading a statement stays with it", "-- what t is\nCREATE TABLE t (x String) ENGINE = Memory;\n",
			[]string{"-- what t is\nCREATE TABLE t (x String) ENGINE = Memory"}},
		{"empty statements are dropped", ";\n\n;\nSELECT 1;\n;\n", []string{"SELECT 1"}},
		{"only comments", "-- nothing here\n   -- at all\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(fstest.MapFS{"001_x.sql": file(tt.text)}, Config{})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if got := ms[0].Statements; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("statements %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoad_ChecksumIsOfTheFileNotTheRendering(t *testing.T) {
	single, err := Load(schema.ClickHouse(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := Load(schema.ClickHouse(), Config{Cluster: "custody", Replicated: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range single {
		if single[i].Checksum != cluster[i].Checksum || len(single[i].Checksum) != 64 {
			t.Errorf("%s: checksums %q (single) and %q (cluster) differ", single[i].Name, single[i].Checksum, cluster[i].Checksum)
		}
	}
	edited, err := Load(fstest.MapFS{"001_events.sql": file("SELECT 1;\n")}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if edited[0].Checksum == single[0].Checksum {
		t.Error("different text has the same checksum")
	}
}

var (
	engineLine    = regexp.MustCompile(`(?m)^ENGINE = (.*)$`)
	replicatedArg = regexp.MustCompile(`^Replicated(\w+)MergeTree\('/clickhouse/tables/\{shard\}/\{database\}/\{table\}', '\{replica\}'(, \w+)?\)$`)
)

func TestLoad_ClusterModeRendersOnClusterAndReplicatedEngines(t *testing.T) {
	ms, err := Load(schema.ClickHouse(), Config{Cluster: "custody", Replicated: true})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	engines := 0
	for _, m := range ms {
		for _, stmt := range m.Statements {
			if !strings.Contains(stmt, "CREATE ") {
				continue
			}
			if strings.Count(stmt, " ON CLUSTER custody") != 1 {
				t.Errorf("%s: statement lacks one ON CLUSTER custody:\n%s", m.Name, stmt)
			}
			for _, e := range engineLine.FindAllStringSubmatch(stmt, -1) {
				engines++
				if !replicatedArg.MatchString(e[1]) {
					t.Errorf("%s: engine %q is not a Replicated*MergeTree with the default replica path and name", m.Name, e[1])
				}
			}
		}
	}
	if engines < 4 {
		t.Errorf("found %d engines, want one per table (at least 4)", engines)
	}
	// The version column survives as the last engine argument.
	want := "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', destroyed)"
	var keys []string
	for _, m := range ms {
		if m.Name == "subject_keys" {
			keys = m.Statements
		}
	}
	if !strings.Contains(strings.Join(keys, "\n"), want) {
		t.Errorf("subject_keys does not render %q", want)
	}
}

func TestLoad_RendersEachMode(t *testing.T) {
	const text = "CREATE TABLE IF NOT EXISTS t{{.OnCluster}} (v UInt8) ENGINE = {{engine \"ReplacingMergeTree\" \"v\"}} ORDER BY v;\n" +
		"CREATE TABLE IF NOT EXISTS u{{.OnCluster}} (v UInt8) ENGINE = {{engine \"MergeTree\"}} ORDER BY v;\n"
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"single node", Config{}, []string{
			"CREATE TABLE IF NOT EXISTS t (v UInt8) ENGINE = ReplacingMergeTree(v) ORDER BY v",
			"CREATE TABLE IF NOT EXISTS u (v UInt8) ENGINE = MergeTree ORDER BY v",
		}},
		{"cluster without replication", Config{Cluster: "c1"}, []string{
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c1 (v UInt8) ENGINE = ReplacingMergeTree(v) ORDER BY v",
			"CREATE TABLE IF NOT EXISTS u ON CLUSTER c1 (v UInt8) ENGINE = MergeTree ORDER BY v",
		}},
		{"replicated cluster", Config{Cluster: "c1", Replicated: true}, []string{
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c1 (v UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v) ORDER BY v",
			"CREATE TABLE IF NOT EXISTS u ON CLUSTER c1 (v UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY v",
		}},
		{"custom replica path and name", Config{Cluster: "c1", Replicated: true, ReplicaPath: "/ch/{uuid}", ReplicaName: "r-{replica}"}, []string{
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c1 (v UInt8) ENGINE = ReplicatedReplacingMergeTree('/ch/{uuid}', 'r-{replica}', v) ORDER BY v",
			"CREATE TABLE IF NOT EXISTS u ON CLUSTER c1 (v UInt8) ENGINE = ReplicatedMergeTree('/ch/{uuid}', 'r-{replica}') ORDER BY v",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(fstest.MapFS{"001_t.sql": file(text)}, tt.cfg)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if got := ms[0].Statements; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rendered\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestValidate_RejectsUnsafeClusterNamesAndReplicaArguments(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" for valid
	}{
		{"empty", Config{}, ""},
		{"plain name", Config{Cluster: "custody"}, ""},
		{"underscore and digits", Config{Cluster: "_prod_cluster_2"}, ""},
		{"default macros", Config{Cluster: "c", Replicated: true, ReplicaPath: "/clickhouse/tables/{shard}/{database}/{table}", ReplicaName: "{replica}"}, ""},
		{"leading digit", Config{Cluster: "1cluster"}, "cluster"},
		{"dash", Config{Cluster: "my-cluster"}, "cluster"},
		{"dot", Config{Cluster: "db.cluster"}, "cluster"},
		{"space", Config{Cluster: "a b"}, "cluster"},
		{"injection", Config{Cluster: "c (x String) ENGINE = Memory; DROP TABLE events; --"}, "cluster"},
		{"backquoted", Config{Cluster: "`c`"}, "cluster"},
		{"quoted", Config{Cluster: "'c'"}, "cluster"},
		{"newline", Config{Cluster: "c\n"}, "cluster"},
		{"non-ASCII", Config{Cluster: "clüster"}, "cluster"},
		{"quote in replica path", Config{ReplicaPath: "/t/{table}', 'x"}, "replica_path"},
		{"backslash in replica path", Config{ReplicaPath: `/t/\{table}`}, "replica_path"},
		{"quote in replica name", Config{ReplicaName: "{replica}'"}, "replica_name"},
		{"backslash in replica name", Config{ReplicaName: `r\`}, "replica_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantErr)
			}
			// Load and New refuse it too, before rendering anything.
			if _, err := Load(schema.ClickHouse(), tt.cfg); err == nil {
				t.Error("Load accepted the invalid config")
			}
			if _, err := New(nil, schema.ClickHouse(), tt.cfg, nil); err == nil {
				t.Error("New accepted the invalid config")
			}
		})
	}
}

// Every statement the migrator can send, in every mode, is valid ClickHouse
// syntax: the real parser reads it (formatQuery parses without executing),
// so a DDL syntax error in a mode no test executes cannot ship.
func TestRender_EveryStatementParsesOnTheRealEngine(t *testing.T) {
	conn := chtest.Embedded(t)
	modes := []struct {
		name string
		cfg  Config
	}{
		{"single node", Config{}},
		{"cluster", Config{Cluster: "custody"}},
		{"replicated cluster", Config{Cluster: "custody", Replicated: true}},
		{"replicated custom path", Config{Cluster: "custody", Replicated: true, ReplicaPath: "/custody/{shard}/{table}", ReplicaName: "{replica}-x"}},
		{"sharded", Config{Cluster: "custody", Replicated: true, Sharded: true}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ms, err := Load(schema.ClickHouse(), mode.cfg)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			cfg := mode.cfg
			cfg.setDefaults()
			stmts, err := cfg.ledgerDDL()
			if err != nil {
				t.Fatal(err)
			}
			sel, err := cfg.Tables().SQL(selectApplied)
			if err != nil {
				t.Fatal(err)
			}
			stmts = append(stmts, sel)
			for _, m := range ms {
				stmts = append(stmts, m.Statements...)
			}
			for _, stmt := range stmts {
				var rows []struct {
					F string `ch:"f"`
				}
				err := conn.Select(context.Background(), &rows, "SELECT formatQuery({q:String}) AS f", clickhouse.Params{"q": stmt})
				if err != nil {
					t.Errorf("ClickHouse cannot parse:\n%s\n%v", stmt, err)
					continue
				}
				if len(rows) != 1 {
					t.Fatalf("formatQuery returned %d rows", len(rows))
				}
				if mode.cfg.Cluster != "" && strings.HasPrefix(stmt, "CREATE") && !strings.Contains(rows[0].F, "ON CLUSTER custody") {
					t.Errorf("parsed statement lost its ON CLUSTER clause:\n%s", rows[0].F)
				}
			}
		})
	}
}

// The parse check itself must catch a syntax error.
func TestRender_ParseCheckRejectsBrokenDDL(t *testing.T) {
	conn := chtest.Embedded(t)
	var rows []struct {
		F string `ch:"f"`
	}
	err := conn.Select(context.Background(), &rows, "SELECT formatQuery({q:String}) AS f",
		clickhouse.Params{"q": "CREATE TABLE t ON CLUSTER (x String) ENGINE = MergeTree ORDER BY x"})
	if err == nil {
		t.Fatalf("formatQuery accepted broken DDL: %q", rows)
	}
}
