package migrate

import (
	"context"
	"fmt"
	"strings"
	"text/template"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// DistributedSuffix names a local table's Distributed table in sharded
// mode: events_all over events.
const DistributedSuffix = "_all"

// Tables maps the logical table names Custody's SQL is written with to the
// tables it must read and write in one cluster mode. On a single node and on
// an unsharded cluster they are the same; in sharded mode every table is
// read and written through its Distributed table, <table>_all, which reads
// every shard and routes each inserted row to the shard its sharding key
// picks. DDL and materialized views always name the local tables.
//
// The zero Tables is the single-node mapping. A Tables is a value, safe for
// concurrent use.
type Tables struct {
	sharded    bool
	replicated bool
	onCluster  string
}

// Tables returns the mapping for c's mode.
func (c Config) Tables() Tables {
	return Tables{sharded: c.Sharded, replicated: c.Replicated, onCluster: c.onCluster()}
}

// Replicated reports whether tables are Replicated (an insert then takes
// a deduplication token).
func (t Tables) Replicated() bool { return t.replicated }

// Sharded reports whether reads and writes go through Distributed tables.
func (t Tables) Sharded() bool { return t.sharded }

// Name returns the table to read and write for the logical (local) table
// name: name + "_all" in sharded mode, name otherwise.
func (t Tables) Name(logical string) string {
	if t.sharded {
		return logical + DistributedSuffix
	}
	return logical
}

// SQL renders application SQL written with table names as template calls,
// once, when the repository is built:
//
//   - {{table "events"}} is the table to read or insert into (Name);
//   - {{alter "subject_keys"}} is the local table of a mutation (ALTER …
//     DELETE), followed by ON CLUSTER in sharded mode: a Distributed table
//     takes no mutations, and a mutation of a Replicated table reaches only
//     its own shard's replicas, so it must run on every shard.
//
// Everything else, {name:Type} parameters included, is left as written.
// Names must be plain identifiers written in the code.
func (t Tables) SQL(text string) (string, error) {
	tmpl, err := template.New("sql").Option("missingkey=error").Funcs(t.funcs()).Parse(text)
	if err != nil {
		return "", fmt.Errorf("render SQL: %w", err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("render SQL: %w", err)
	}
	return b.String(), nil
}

// funcs are the template functions {{table}} and {{alter}}; Config.Render
// offers them too.
func (t Tables) funcs() template.FuncMap {
	check := func(name string) error {
		if !plainName.MatchString(name) {
			return fmt.Errorf("%q is not a table name", name)
		}
		return nil
	}
	return template.FuncMap{
		"table": func(name string) (string, error) { return t.Name(name), check(name) },
		"alter": func(name string) (string, error) {
			if t.sharded {
				return name + t.onCluster, check(name)
			}
			return name, check(name)
		},
	}
}

// MustSQL is SQL for the SQL constants of a package, rendered when its
// repository is built. It panics on a template error, which is a bug in a
// constant (every constant is rendered by its package's tests), never a
// runtime condition.
func (t Tables) MustSQL(text string) string {
	s, err := t.SQL(text)
	if err != nil {
		panic(err)
	}
	return s
}

// Insert settings. In sharded mode an INSERT into a Distributed table
// returns only once every row is written to its shard
// (distributed_foreground_insert; its older name is insert_distributed_sync),
// so that a returned insert is as durable as on a single node: the default,
// background mode, queues rows on the receiving node's disk and answers
// before any shard has them. With Replicated tables, a deduplication token
// makes a retried insert idempotent even though a retry's rows differ in
// bytes (new recorded_at, new encryption nonces): the shard's table drops a
// block whose token it has already seen, and with
// deduplicate_blocks_in_dependent_materialized_views the views' target
// tables drop the blocks the views derive from it.
const (
	settingForeground          = "distributed_foreground_insert"
	settingDeduplicationToken  = "insert_deduplication_token"
	settingDeduplicateInViews  = "deduplicate_blocks_in_dependent_materialized_views"
	settingInsertDeduplication = "insert_deduplicate"
)

// InsertSettings returns the settings an insert needs in this mode, nil on a
// single node. token, when not empty, is the insert's deduplication token:
// the same rows retried must carry the same token, and different rows a
// different one (Replicated tables only; a single node ignores it).
func (t Tables) InsertSettings(token string) clickhouse.Settings {
	s := clickhouse.Settings{}
	if t.sharded {
		s[settingForeground] = 1
	}
	if t.replicated && token != "" {
		s[settingInsertDeduplication] = 1
		s[settingDeduplicationToken] = token
		s[settingDeduplicateInViews] = 1
	}
	if len(s) == 0 {
		return nil
	}
	return s
}

// InsertContext returns ctx carrying InsertSettings(token) for
// clickhouse.Conn.Insert, or ctx itself when there are none.
func (t Tables) InsertContext(ctx context.Context, token string) context.Context {
	s := t.InsertSettings(token)
	if s == nil {
		return ctx
	}
	return clickhouse.WithInsertSettings(ctx, s)
}

// SQLSet is a repository's SQL constants rendered once for a Tables. The
// zero SQLSet renders for a single node, so a repository built without one
// still works there.
type SQLSet struct {
	tables   Tables
	rendered map[string]string
}

// Render renders texts (a package's SQL constants) once. It panics on a
// template error, like MustSQL.
func (t Tables) Render(texts ...string) SQLSet {
	s := SQLSet{tables: t, rendered: make(map[string]string, len(texts))}
	for _, text := range texts {
		s.rendered[text] = t.MustSQL(text)
	}
	return s
}

// Of returns text rendered; text not given to Render is rendered now, each
// time (correct, only slower).
func (s SQLSet) Of(text string) string {
	if r, ok := s.rendered[text]; ok {
		return r
	}
	return s.tables.MustSQL(text)
}

// Tables returns the mapping the set renders for.
func (s SQLSet) Tables() Tables { return s.tables }
