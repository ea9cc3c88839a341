package projectionstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/migrate"
)

// ErrUnknownProjection is returned for a projection name that is not defined.
var ErrUnknownProjection = errors.New("unknown projection")

// Config configures a Store.
type Config struct {
	// DDL renders projection tables like the migrations: ON CLUSTER and
	// Replicated engines in cluster mode. Use the migrator's settings.
	DDL migrate.Config
	// CatchUp is how far before a rebuild's start the final catch-up fold
	// reaches back in recorded time: an append whose recorded time was
	// taken before the rebuild began but whose INSERT landed after the view
	// was re-attached is folded again by it. It must exceed the longest
	// time an append can take. Default 10 minutes.
	CatchUp time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.CatchUp == 0 {
		c.CatchUp = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.CatchUp < 0 {
		return fmt.Errorf("projectionstore: catch_up: must not be negative, got %s", c.CatchUp)
	}
	return nil
}

// Store builds, rebuilds and reads the stored projections.
type Store struct {
	conn   clickhouse.Conn
	cfg    Config
	tables migrate.Tables
	sql    renderedSQL
}

// renderedSQL is the package's SQL that names tables only through
// {{table}}, rendered once for the Store's mode.
type renderedSQL struct {
	partitions, logHead, state   string
	sourcePartition, sourceSince string
	// The reads, on the live table of each projection (through its
	// Distributed table in sharded mode): rendered here, not per read, as
	// the identity walk runs one per hop.
	neighbours, neighboursMany, links, facts string
}

// New returns a Store on conn, whose schema the migrations have created.
func New(conn clickhouse.Conn, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{conn: conn, cfg: cfg, tables: cfg.DDL.Tables()}
	for _, q := range []struct {
		dst  *string
		text string
	}{
		{&s.sql.partitions, queryPartitions}, {&s.sql.logHead, queryLogHead}, {&s.sql.state, queryState},
		{&s.sql.sourcePartition, sourcePartition}, {&s.sql.sourceSince, sourceSince},
	} {
		r, err := s.render(q.text, nil)
		if err != nil {
			return nil, fmt.Errorf("projectionstore: %w", err)
		}
		*q.dst = r
	}
	for _, q := range []struct {
		dst  *string
		d    definition
		text string
	}{
		{&s.sql.neighbours, identityEdges, queryNeighbours}, {&s.sql.neighboursMany, identityEdges, queryNeighboursMany},
		{&s.sql.links, identityEdges, queryLinks}, {&s.sql.facts, dataMapFacts, queryFacts},
	} {
		r, err := s.render(q.text, map[string]string{"Table": s.tables.Name(tableOf(q.d))})
		if err != nil {
			return nil, fmt.Errorf("projectionstore: %w", err)
		}
		*q.dst = r
	}
	return s, nil
}

// Names lists the projections, in build order.
func Names() []string {
	var out []string
	for _, d := range definitions() {
		out = append(out, d.Name)
	}
	return out
}

func tableOf(d definition) string { return fmt.Sprintf("%s_v%d", d.Name, d.Version) }

func viewOf(table string) string { return table + "_mv" }

// render renders one statement of this package's SQL.
func (s *Store) render(text string, vars map[string]string) (string, error) {
	stmts, err := s.cfg.DDL.Render("projection", text, vars)
	if err != nil {
		return "", err
	}
	if len(stmts) != 1 {
		return "", fmt.Errorf("projection SQL rendered to %d statements, want 1", len(stmts))
	}
	return stmts[0], nil
}

func (s *Store) exec(ctx context.Context, what, text string, vars map[string]string, params clickhouse.Params) error {
	q, err := s.render(text, vars)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := s.conn.Exec(ctx, q, params); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// fold renders d's fold over source.
func (s *Store) fold(d definition, source string) (string, error) {
	return s.render(d.Fold, map[string]string{"Source": source})
}

// create creates table as d's table and, in sharded mode, its Distributed
// table (both IF NOT EXISTS).
func (s *Store) create(ctx context.Context, d definition, table string) error {
	if err := s.exec(ctx, "create "+table, d.Table, map[string]string{"Table": table}, nil); err != nil {
		return err
	}
	if !s.tables.Sharded() {
		return nil
	}
	return s.exec(ctx, "create "+table+" Distributed", createDistributed,
		map[string]string{"Table": table, "ShardingKey": d.ShardingKey}, nil)
}

// drop drops table and, in sharded mode, its Distributed table.
func (s *Store) drop(ctx context.Context, what, table string) error {
	if s.tables.Sharded() {
		if err := s.exec(ctx, what, dropTable, map[string]string{"Table": s.tables.Name(table)}, nil); err != nil {
			return err
		}
	}
	return s.exec(ctx, what, dropTable, map[string]string{"Table": table}, nil)
}

// attach creates the view that feeds table from every INSERT into the log.
func (s *Store) attach(ctx context.Context, d definition, table string) error {
	fold, err := s.fold(d, sourceLog)
	if err != nil {
		return err
	}
	return s.exec(ctx, "attach "+table, createView, map[string]string{"View": viewOf(table), "Table": table, "Fold": fold}, nil)
}

// Ensure creates every projection's current version — table and view — and
// builds from the log any that has never been built (a new installation, or
// a new version after an upgrade), reporting progress to p (may be nil).
// Views of older versions are dropped, so they stop receiving events; their
// tables are left for the operator to drop. Ensure is idempotent.
func (s *Store) Ensure(ctx context.Context, p Progress) error {
	states, err := s.states(ctx)
	if err != nil {
		return err
	}
	for _, d := range definitions() {
		table := tableOf(d)
		if err := s.create(ctx, d, table); err != nil {
			return err
		}
		if err := s.attach(ctx, d, table); err != nil {
			return err
		}
		for v := 1; v < d.Version; v++ {
			old := tableOf(definition{Name: d.Name, Version: v})
			if err := s.exec(ctx, "drop old view", dropView, map[string]string{"View": viewOf(old)}, nil); err != nil {
				return err
			}
		}
		if st, ok := states[stateKey{d.Name, uint32(d.Version)}]; ok && st.State == stateLive {
			continue
		}
		if _, err := s.rebuild(ctx, d, p); err != nil {
			return err
		}
	}
	return nil
}

// Result is what one rebuild did.
type Result struct {
	Name     string
	Version  int
	Table    string
	Events   uint64 // rows of the log folded (duplicates included)
	Through  time.Time
	Duration time.Duration
}

// Rate is the rebuild's events per second.
func (r Result) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Events) / r.Duration.Seconds()
}

// Progress hears how a rebuild advances: done of total log rows for the
// named projection. It is called from the rebuilding goroutine.
type Progress func(name string, done, total uint64)

// Rebuild rebuilds the named projections (all when names is empty) from the
// log. Readers keep seeing the old table until the new one is complete and
// swapped in; appends during the rebuild are not lost. Rebuilding the same
// projection from two processes at once is not supported.
func (s *Store) Rebuild(ctx context.Context, names []string, p Progress) ([]Result, error) {
	defs := definitions()
	for _, n := range names {
		if !slices.ContainsFunc(defs, func(d definition) bool { return d.Name == n }) {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownProjection, n, strings.Join(Names(), ", "))
		}
	}
	var out []Result
	for _, d := range defs {
		if len(names) > 0 && !slices.Contains(names, d.Name) {
			continue
		}
		r, err := s.rebuild(ctx, d, p)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

type head struct {
	N  uint64    `ch:"n"`
	At time.Time `ch:"at"`
}

func (s *Store) rebuild(ctx context.Context, d definition, p Progress) (Result, error) {
	start := s.cfg.Now()
	live := tableOf(d)
	next := live + "_next"
	res := Result{Name: d.Name, Version: d.Version, Table: live}
	if err := s.putState(ctx, d, stateBuilding, res, start); err != nil {
		return res, err
	}
	var logHead []head
	if err := s.conn.Select(ctx, &logHead, s.sql.logHead, nil); err != nil {
		return res, fmt.Errorf("rebuild %s: read log head: %w", d.Name, err)
	}
	var parts []struct {
		P uint32 `ch:"p"`
		N uint64 `ch:"n"`
	}
	if err := s.conn.Select(ctx, &parts, s.sql.partitions, nil); err != nil {
		return res, fmt.Errorf("rebuild %s: list partitions: %w", d.Name, err)
	}
	var total uint64
	for _, pt := range parts {
		total += pt.N
	}
	if err := s.drop(ctx, "rebuild "+d.Name, next); err != nil {
		return res, err
	}
	if err := s.create(ctx, d, next); err != nil {
		return res, err
	}
	// In sharded mode the fold reads events_all and writes <next>_all: the
	// log's rows travel to this node and the folded rows back to their
	// shards (unless the server runs the INSERT … SELECT on each shard, see
	// parallel_distributed_insert_select). The views are not involved.
	fold, err := s.fold(d, s.sql.sourcePartition)
	if err != nil {
		return res, err
	}
	var done uint64
	if p != nil {
		p(d.Name, 0, total)
	}
	for _, pt := range parts {
		if err := s.exec(ctx, "rebuild "+d.Name, insertFolded, map[string]string{"Table": next, "Fold": fold},
			clickhouse.Params{"p": pt.P}); err != nil {
			return res, err
		}
		done += pt.N
		if p != nil {
			p(d.Name, done, total)
		}
	}
	// Swap: the view is re-attached to the new table, and whatever was
	// recorded since the rebuild began is folded again into it.
	if err := s.exec(ctx, "rebuild "+d.Name, dropView, map[string]string{"View": viewOf(live)}, nil); err != nil {
		return res, err
	}
	if err := s.create(ctx, d, live); err != nil { // the first build has no live table yet
		return res, err
	}
	if err := s.exec(ctx, "rebuild "+d.Name, exchange, map[string]string{"Table": live, "Next": next}, nil); err != nil {
		return res, err
	}
	if err := s.attach(ctx, d, live); err != nil {
		return res, err
	}
	if len(logHead) == 1 && logHead[0].N > 0 {
		catchUp, err := s.fold(d, s.sql.sourceSince)
		if err != nil {
			return res, err
		}
		if err := s.exec(ctx, "rebuild "+d.Name+": catch up", insertFolded, map[string]string{"Table": live, "Fold": catchUp},
			clickhouse.Params{"since": logHead[0].At.Add(-s.cfg.CatchUp)}); err != nil {
			return res, err
		}
		res.Through = logHead[0].At
	}
	if err := s.drop(ctx, "rebuild "+d.Name, next); err != nil {
		return res, err
	}
	res.Events = total
	res.Duration = s.cfg.Now().Sub(start)
	if err := s.putState(ctx, d, stateLive, res, start); err != nil {
		return res, err
	}
	return res, nil
}
