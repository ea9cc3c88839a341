package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// Config selects how migrations are rendered.
type Config struct {
	// Cluster, when set, adds ON CLUSTER <Cluster> to every statement.
	Cluster string
	// Replicated selects Replicated*MergeTree engines.
	Replicated bool
	// ReplicaPath and ReplicaName are the Replicated engines' arguments;
	// defaults use the server's {shard}, {database}, {table} and {replica}
	// macros.
	ReplicaPath string
	ReplicaName string
	// Sharded puts a Distributed table, <table>_all ON CLUSTER Cluster,
	// over every local table, and the application reads and writes through
	// those (see Tables). The local tables keep their names and engines; the
	// materialized views stay on them. It requires Cluster and Replicated.
	Sharded bool
}

func (c *Config) setDefaults() {
	if c.ReplicaPath == "" {
		c.ReplicaPath = "/clickhouse/tables/{shard}/{database}/{table}"
	}
	if c.ReplicaName == "" {
		c.ReplicaName = "{replica}"
	}
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Cluster != "" && !plainName.MatchString(c.Cluster) {
		return fmt.Errorf("migrate: cluster %q must be a plain name ([A-Za-z_][A-Za-z0-9_]*)", c.Cluster)
	}
	for field, v := range map[string]string{"replica_path": c.ReplicaPath, "replica_name": c.ReplicaName} {
		if strings.ContainsAny(v, `'\`) {
			return fmt.Errorf("migrate: %s must not contain quotes or backslashes", field)
		}
	}
	// Sharding needs ON CLUSTER (every host gets the Distributed tables) and
	// Replicated engines (a shard's replicas share its rows, and insert
	// deduplication tokens live in Keeper).
	if c.Sharded && (c.Cluster == "" || !c.Replicated) {
		return errors.New("migrate: sharded needs a cluster name and replicated: true")
	}
	return nil
}

// Migration is one rendered schema file.
type Migration struct {
	Version    int
	Name       string
	Checksum   string // sha256 of the file as written, before rendering
	Statements []string
}

var fileName = regexp.MustCompile(`^(\d{3})_([a-z0-9_]+)\.sql$`)

// Load reads and renders every NNN_name.sql in files, in version order.
func Load(files fs.FS, cfg Config) ([]Migration, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		version, _ := strconv.Atoi(m[1])
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), version)
		}
		seen[version] = e.Name()
		text, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		stmts, err := render(e.Name(), string(text), cfg)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(text)
		out = append(out, Migration{Version: version, Name: m[2], Checksum: hex.EncodeToString(sum[:]), Statements: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	if len(out) == 0 {
		return nil, errors.New("no migrations found (want NNN_name.sql files)")
	}
	return out, nil
}

// onCluster is the ON CLUSTER clause, or nothing on a single node.
func (c Config) onCluster() string {
	if c.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + c.Cluster
}

// engine renders a MergeTree-family engine, Replicated in cluster mode. The
// replica path keeps the server's {table} macro, so one template serves
// every table.
func (c Config) engine(name string, args ...string) string {
	if c.Replicated {
		args = append([]string{"'" + c.ReplicaPath + "'", "'" + c.ReplicaName + "'"}, args...)
		name = "Replicated" + name
	}
	if len(args) == 0 {
		return name
	}
	return name + "(" + strings.Join(args, ", ") + ")"
}

func render(name, text string, cfg Config) ([]string, error) {
	stmts, err := cfg.Render(name, text, nil)
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", name, err)
	}
	return stmts, nil
}

// distributed renders the Distributed engine over the local table in the
// connection's database, spreading rows over Cluster's shards by shardingKey
// (an expression written in Custody's code, never configuration).
func (c Config) distributed(table, shardingKey string) (string, error) {
	if !c.Sharded {
		return "", fmt.Errorf("Distributed engine for %s outside sharded mode", table)
	}
	if !plainName.MatchString(table) {
		return "", fmt.Errorf("Distributed engine: %q is not a table name", table)
	}
	if shardingKey == "" {
		return "", fmt.Errorf("Distributed engine for %s: sharding key is required", table)
	}
	return "Distributed(" + c.Cluster + ", currentDatabase(), " + table + ", " + shardingKey + ")", nil
}

// Render renders DDL written like a migration — {{.OnCluster}},
// {{engine "…"}}, {{if .Sharded}}, {{distributed "table" "key"}}, and
// {{table "…"}} and {{alter "…"}} as in Tables.SQL — into
// statements, so that DDL created at run time (projection tables) follows
// the same single-node, cluster or sharded settings as the migrations. vars
// adds template fields beside OnCluster and Sharded; they must be names
// chosen by the code, never user input.
func (c Config) Render(name, text string, vars map[string]string) ([]string, error) {
	c.setDefaults()
	engine := func(name string, args ...string) string { return c.engine(name, args...) }
	funcs := c.Tables().funcs()
	funcs["engine"] = engine
	funcs["distributed"] = c.distributed
	tmpl, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"OnCluster": c.onCluster(), "Sharded": c.Sharded}
	for k, v := range vars {
		data[k] = v
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return splitStatements(b.String()), nil
}

// splitStatements splits on ';' ending a line and drops comment-only and
// empty statements. Migrations must not put ';' at a line end inside a
// string literal.
func splitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimRight(line, " \t\r")
		if strings.HasSuffix(trimmed, ";") {
			cur.WriteString(strings.TrimSuffix(trimmed, ";"))
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return out
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}
