// Package ddlcheck checks cluster DDL the way a test can when no ClickHouse
// cluster can be run: ClickHouse's own parser (chDB) reads each statement
// and re-renders it on one line (formatQuerySingleLine: parse, then format,
// nothing executed), and Check reads the parser's rendering, not the
// template text, for the rules every cluster statement must follow: ON
// CLUSTER everywhere, Replicated*MergeTree engines with the configured
// replica path and name, materialized views writing TO replicated tables,
// Distributed tables over replicated tables on the same cluster, sharded so
// that rows which collapse together land on one shard.
//
// It is test support for packages that render DDL (migrate,
// projectionstore); it is not used by the product.
package ddlcheck

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// Format has ClickHouse parse stmt (a server-side parameter, so nothing is
// spliced into SQL) and returns it re-rendered on one line.
func Format(ctx context.Context, conn clickhouse.Conn, stmt string) (string, error) {
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

// Cluster is the mode the DDL must follow.
type Cluster struct {
	Name        string
	ReplicaPath string
	ReplicaName string
}

// Object is one CREATE statement as the parser rendered it.
type Object struct {
	Kind       string // TABLE, MATERIALIZED VIEW, …
	Name       string
	Cluster    string
	Engine     string   // engine name, "" if none
	Args       []string // engine arguments, top-level split
	To         string   // a materialized view's target table
	Replicated bool
	OrderBy    []string // a table's sorting key columns
	Text       string
}

// HasColumn reports whether the statement declares column name.
func (o Object) HasColumn(name string) bool {
	return regexp.MustCompile(`[(,] ?` + "`?" + regexp.QuoteMeta(name) + "`?" + ` `).MatchString(o.Text)
}

var (
	createHead  = regexp.MustCompile(`^CREATE (TABLE|MATERIALIZED VIEW|VIEW|DICTIONARY|DATABASE) (?:IF NOT EXISTS )?(\S+)(?: ON CLUSTER (\S+))?`)
	changeHead  = regexp.MustCompile(`^(ALTER|DROP|RENAME|TRUNCATE|EXCHANGE|ATTACH|DETACH) `)
	onCluster   = regexp.MustCompile(` ON CLUSTER (\S+)`)
	viewTarget  = regexp.MustCompile(` TO (\S+)`)
	engineStart = regexp.MustCompile(` ENGINE = (\w+)`)
	orderBy     = regexp.MustCompile(` ORDER BY (\([^)]*\)|[^ ]+)`)
	identifier  = regexp.MustCompile("`?([A-Za-z_][A-Za-z0-9_]*)`?(\\s*\\()?")
	createAs    = regexp.MustCompile(`^CREATE TABLE (?:IF NOT EXISTS )?\S+(?: ON CLUSTER \S+)? AS (\S+) ENGINE`)
)

// Check reads formatted statements (Format output) in order and returns the
// objects they create and every way they fall short of cluster c.
func Check(formatted []string, c Cluster) ([]Object, []string) {
	var objs []Object
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	replicated := map[string]Object{}
	for _, f := range formatted {
		if m := changeHead.FindStringSubmatch(f); m != nil {
			if cl := onCluster.FindStringSubmatch(f); cl == nil || cl[1] != c.Name {
				bad("%s without ON CLUSTER %s: %s", m[1], c.Name, f)
			}
			continue
		}
		m := createHead.FindStringSubmatch(f)
		if m == nil {
			continue // a read (SELECT) or an INSERT needs no cluster clause
		}
		o := Object{Kind: m[1], Name: strings.Trim(m[2], "`"), Cluster: m[3], Text: f}
		switch o.Cluster {
		case c.Name:
		case "":
			bad("%s %s is created without ON CLUSTER %s: %s", o.Kind, o.Name, c.Name, f)
		default:
			bad("%s %s is created ON CLUSTER %s, want %s", o.Kind, o.Name, o.Cluster, c.Name)
		}
		o.Engine, o.Args = engineOf(f)
		switch {
		case o.Kind == "MATERIALIZED VIEW":
			target := viewTarget.FindStringSubmatch(strings.SplitN(f, " AS SELECT ", 2)[0])
			if target == nil {
				bad("materialized view %s is created without TO <replicated table>: its inner table would be created by the view, outside the migrations' engine rules", o.Name)
				break
			}
			o.To = strings.Trim(target[1], "`")
			if _, ok := replicated[o.To]; !ok {
				bad("materialized view %s writes TO %s, which is not a replicated table created earlier", o.Name, o.To)
			}
		case o.Kind == "TABLE" && o.Engine == "Distributed":
			checkDistributed(o, c, replicated, bad)
		case o.Kind == "TABLE":
			wantPath, wantName := "'"+c.ReplicaPath+"'", "'"+c.ReplicaName+"'"
			switch {
			case !strings.HasPrefix(o.Engine, "Replicated") || !strings.HasSuffix(o.Engine, "MergeTree"):
				bad("table %s has engine %q, not Replicated*MergeTree", o.Name, o.Engine)
			case len(o.Args) < 2 || o.Args[0] != wantPath || o.Args[1] != wantName:
				bad("table %s: engine %s(%s) lacks the replica path %s and name %s", o.Name, o.Engine, strings.Join(o.Args, ", "), wantPath, wantName)
			default:
				o.Replicated = true
				if k := orderBy.FindStringSubmatch(f); k != nil {
					for _, col := range strings.Split(strings.Trim(k[1], "()"), ",") {
						o.OrderBy = append(o.OrderBy, strings.Trim(strings.TrimSpace(col), "`"))
					}
				}
				replicated[o.Name] = o
			}
		}
		objs = append(objs, o)
	}
	return objs, problems
}

// checkDistributed: a Distributed table spans c, reads a replicated table
// created earlier (and, when created AS a table, that same table), and
// shards so that rows which collapse together meet on one shard: by
// subject_key when the local table holds it (one person, one shard), else
// by columns of the local table's sorting key only.
func checkDistributed(o Object, c Cluster, replicated map[string]Object, bad func(string, ...any)) {
	if len(o.Args) != 4 {
		bad("Distributed table %s has %d arguments (want cluster, database, table, sharding key): %q", o.Name, len(o.Args), o.Args)
		return
	}
	if o.Args[0] != c.Name {
		bad("Distributed table %s spans cluster %s, want %s", o.Name, o.Args[0], c.Name)
		return
	}
	if o.Args[1] != "currentDatabase()" {
		bad("Distributed table %s reads database %s, want currentDatabase()", o.Name, o.Args[1])
	}
	local, ok := replicated[o.Args[2]]
	if !ok {
		bad("Distributed table %s reads %s, which is not a replicated table created earlier", o.Name, o.Args[2])
		return
	}
	if as := createAs.FindStringSubmatch(o.Text); as != nil && strings.Trim(as[1], "`") != local.Name {
		bad("Distributed table %s takes the structure of %s but reads %s", o.Name, as[1], local.Name)
	}
	key := o.Args[3]
	if local.HasColumn("subject_key") {
		if !strings.Contains(key, "subject_key") {
			bad("Distributed table %s shards by %s, want a hash of subject_key", o.Name, key)
		}
		return
	}
	for _, m := range identifier.FindAllStringSubmatch(key, -1) {
		if m[2] != "" { // a function name
			continue
		}
		if !slices.Contains(local.OrderBy, m[1]) {
			bad("Distributed table %s shards by %s: column %s is not in %s's sorting key %v, so rows it collapses could land on different shards", o.Name, key, m[1], local.Name, local.OrderBy)
		}
	}
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
		switch ch := rest[i]; {
		case quoted:
			if ch == '\\' {
				i++
			} else if ch == '\'' {
				quoted = false
			}
		case ch == '\'':
			quoted = true
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth == 0 {
				if a := strings.TrimSpace(rest[start:i]); a != "" {
					args = append(args, a)
				}
				return name, args
			}
		case ch == ',' && depth == 1:
			args = append(args, strings.TrimSpace(rest[start:i]))
			start = i + 1
		}
	}
	return name, args
}
