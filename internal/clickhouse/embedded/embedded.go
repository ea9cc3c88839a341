package embedded

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chdb"
	"github.com/custodyhq/custody/internal/clickhouse/rowbinary"
)

// Config configures the embedded engine.
type Config struct {
	// DataDir is where ClickHouse keeps its files. Required.
	DataDir string
	// LibraryPath is libchdb.so; default chdb.DefaultLibraryPath().
	LibraryPath string
	// Connections is how many statements may run at once (default 4).
	Connections int
	// EngineArgs are extra engine arguments, e.g. "--max_threads=2".
	EngineArgs []string
}

func (c *Config) setDefaults() {
	if c.LibraryPath == "" {
		c.LibraryPath = chdb.DefaultLibraryPath()
	}
	if c.Connections == 0 {
		c.Connections = 4
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("embedded clickhouse: data_dir is required")
	case c.Connections < 1 || c.Connections > 64:
		return fmt.Errorf("embedded clickhouse: connections must be 1..64, got %d", c.Connections)
	}
	return nil
}

// Conn is a pool of chDB connections to one data directory.
type Conn struct {
	pool  chan *chdb.Conn
	all   []*chdb.Conn
	caps  clickhouse.Capabilities
	codec rowbinary.Codec

	mu      sync.RWMutex
	closed  bool
	running sync.WaitGroup
	columns map[string][]rowbinary.Column // table → column types, for inserts
}

var _ clickhouse.Conn = (*Conn)(nil)

// Open starts the engine on cfg.DataDir. It fails with clickhouse.ErrLocked
// if another process serves that directory, and with
// clickhouse.ErrUnavailable if libchdb.so cannot be loaded.
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Conn{pool: make(chan *chdb.Conn, cfg.Connections), columns: map[string][]rowbinary.Column{}}
	for i := 0; i < cfg.Connections; i++ {
		cc, err := chdb.Connect(chdb.Config{LibraryPath: cfg.LibraryPath, DataDir: cfg.DataDir, Args: cfg.EngineArgs})
		if err != nil {
			c.closeAll()
			return nil, mapError(err)
		}
		c.all = append(c.all, cc)
		c.pool <- cc
	}
	var row []struct {
		Version string `ch:"v"`
	}
	if err := c.Select(ctx, &row, "SELECT version() AS v", nil); err != nil {
		c.closeAll()
		return nil, fmt.Errorf("embedded clickhouse: read version: %w", err)
	}
	v, err := clickhouse.ParseVersion(row[0].Version)
	if err != nil {
		c.closeAll()
		return nil, err
	}
	c.caps = clickhouse.CapabilitiesFor(clickhouse.TransportEmbedded, v)
	return c, nil
}

func mapError(err error) error {
	switch {
	case errors.Is(err, chdb.ErrDirLocked):
		return fmt.Errorf("%w: %w", clickhouse.ErrLocked, err)
	case errors.Is(err, chdb.ErrLibraryMissing), errors.Is(err, chdb.ErrOtherDirOpen):
		return fmt.Errorf("%w: %w", clickhouse.ErrUnavailable, err)
	case errors.Is(err, chdb.ErrClosed):
		return clickhouse.ErrClosed
	}
	return err
}

// acquire takes a connection from the pool, honouring ctx while it waits.
// A statement, once started, runs to completion: chDB cannot cancel it.
func (c *Conn) acquire(ctx context.Context) (*chdb.Conn, func(), error) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, nil, clickhouse.ErrClosed
	}
	c.running.Add(1)
	c.mu.RUnlock()
	select {
	case cc := <-c.pool:
		return cc, func() { c.pool <- cc; c.running.Done() }, nil
	case <-ctx.Done():
		c.running.Done()
		return nil, nil, ctx.Err()
	}
}

func (c *Conn) run(ctx context.Context, query, format string, params clickhouse.Params) ([]byte, error) {
	enc, err := params.Encode()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cc, release, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	out, err := cc.Query(query, format, enc.Names, enc.Values)
	if err != nil {
		return nil, mapError(err)
	}
	return out.Data, nil
}

// Exec implements clickhouse.Conn. DDL also drops the cached column types.
func (c *Conn) Exec(ctx context.Context, query string, params clickhouse.Params) error {
	if _, err := c.run(ctx, query, "TabSeparated", params); err != nil {
		return err
	}
	c.mu.Lock()
	clear(c.columns)
	c.mu.Unlock()
	return nil
}

// Select implements clickhouse.Conn.
func (c *Conn) Select(ctx context.Context, dest any, query string, params clickhouse.Params) error {
	// chDB takes settings only in the SQL text. Those of WithSelectSettings
	// go in a SETTINGS clause of their own after the query (and after its
	// own SETTINGS clause, if any: ClickHouse applies both, the query's
	// value winning for a setting both name), on a line of its own so that
	// a trailing -- comment cannot swallow it. Clause renders validated
	// names and plain values, never caller input.
	settings, err := clickhouse.SelectSettingsFrom(ctx).Clause()
	if err != nil {
		return fmt.Errorf("select: %w", err)
	}
	if settings != "" {
		query = strings.TrimRight(query, " \t\r\n;") + "\n" + strings.TrimPrefix(settings, " ")
	}
	data, err := c.run(ctx, query, "RowBinaryWithNamesAndTypes", params)
	if err != nil {
		return err
	}
	if err := c.codec.Decode(data, dest); err != nil {
		return fmt.Errorf("%w: %w", clickhouse.ErrBadRows, err)
	}
	return nil
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// Insert implements clickhouse.Conn.
func (c *Conn) Insert(ctx context.Context, table string, rows any) error {
	rv := reflect.ValueOf(rows)
	if rv.Kind() != reflect.Slice {
		return fmt.Errorf("%w: insert into %s: rows must be a slice, got %T", clickhouse.ErrBadRows, table, rows)
	}
	if rv.Len() == 0 {
		return nil
	}
	if !identifier.MatchString(table) {
		return fmt.Errorf("%w: insert: %q is not a table name", clickhouse.ErrBadRows, table)
	}
	names, err := rowbinary.Fields(rv.Type().Elem())
	if err != nil {
		return fmt.Errorf("%w: insert into %s: %w", clickhouse.ErrBadRows, table, err)
	}
	// chDB takes settings only in the SQL text; Settings.Clause renders
	// validated names and plain values, never caller input.
	settings, err := clickhouse.InsertSettingsFrom(ctx).Clause()
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	columns, err := c.columnsOf(ctx, table, names)
	if err != nil {
		return err
	}
	data, err := c.codec.EncodeRows(columns, rows)
	if err != nil {
		return fmt.Errorf("%w: insert into %s: %w", clickhouse.ErrBadRows, table, err)
	}
	cc, release, err := c.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "`" + n + "`"
	}
	query := "INSERT INTO " + table + " (" + strings.Join(quoted, ", ") + ")" + settings
	if _, err := cc.Insert(query, "RowBinary", data); err != nil {
		return fmt.Errorf("insert into %s: %w", table, mapError(err))
	}
	return nil
}

// columnsOf returns the types of names in table, from a cache filled by
// asking the engine (types come from the table, never from Go).
func (c *Conn) columnsOf(ctx context.Context, table string, names []string) ([]rowbinary.Column, error) {
	c.mu.RLock()
	all, ok := c.columns[table]
	c.mu.RUnlock()
	if !ok {
		db, name := "", table
		if i := strings.IndexByte(table, '.'); i >= 0 {
			db, name = table[:i], table[i+1:]
		}
		var rows []struct {
			Name string `ch:"name"`
			Type string `ch:"type"`
		}
		// Part of the Insert, which ignores the settings of SELECTs.
		sctx := clickhouse.WithSelectSettings(ctx, nil)
		err := c.Select(sctx, &rows, queryColumns, clickhouse.Params{"db": db, "table": name})
		if err != nil {
			return nil, fmt.Errorf("insert into %s: read column types: %w", table, err)
		}
		if len(rows) == 0 {
			return nil, fmt.Errorf("insert into %s: no such table", table)
		}
		for _, r := range rows {
			t, err := rowbinary.ParseType(r.Type)
			if err != nil {
				return nil, fmt.Errorf("insert into %s: column %s: %w", table, r.Name, err)
			}
			all = append(all, rowbinary.Column{Name: r.Name, Type: t})
		}
		c.mu.Lock()
		c.columns[table] = all
		c.mu.Unlock()
	}
	byName := make(map[string]rowbinary.Column, len(all))
	for _, col := range all {
		byName[col.Name] = col
	}
	out := make([]rowbinary.Column, len(names))
	for i, n := range names {
		col, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("%w: insert into %s: no column %q", clickhouse.ErrBadRows, table, n)
		}
		out[i] = col
	}
	return out, nil
}

// queryColumns reads a table's column types; an empty db means the current
// database.
const queryColumns = `SELECT name, type FROM system.columns
WHERE database = if({db:String} = '', currentDatabase(), {db:String}) AND table = {table:String}
ORDER BY position`

// Ping implements clickhouse.Conn.
func (c *Conn) Ping(ctx context.Context) error {
	_, err := c.run(ctx, "SELECT 1", "TabSeparated", nil)
	return err
}

// Capabilities implements clickhouse.Conn.
func (c *Conn) Capabilities() clickhouse.Capabilities { return c.caps }

// Close waits for running statements and closes every connection; the
// engine stops when the process's last connection closes.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.running.Wait()
	c.closeAll()
	return nil
}

func (c *Conn) closeAll() {
	for _, cc := range c.all {
		_ = cc.Close()
	}
	c.all = nil
}
