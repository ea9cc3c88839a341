// Package native implements clickhouse.Conn over ClickHouse's native TCP
// protocol with github.com/ClickHouse/clickhouse-go/v2 and its connection
// pool. It serves a single server or the nodes of a cluster, from ClickHouse
// 18.16 (Debian bookworm's package) to current releases; what the server
// lacks is declared in Capabilities, never emulated.
package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/custodyhq/custody/internal/clickhouse"
)

var _ clickhouse.Conn = (*Conn)(nil)

// settingsAsStringsRevision is the first native protocol revision that sends
// settings as strings; older servers (18.16 speaks 54412) take only
// integers, and clickhouse-go encodes only int and bool for them.
const settingsAsStringsRevision = 54429

// Conn is a pooled native-protocol connection. It is safe for concurrent use.
type Conn struct {
	conn  driver.Conn
	caps  clickhouse.Capabilities
	addrs string

	// mu is read-held by every call and write-held by Close, so Close waits
	// for running calls and later calls see closed.
	mu     sync.RWMutex
	closed bool
}

// New validates cfg, opens the pool, pings the server and reads its version
// to derive Capabilities. A server that cannot be reached yields an error
// wrapping clickhouse.ErrUnavailable.
func New(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	tlsCfg, err := cfg.TLS.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts := &ch.Options{
		Protocol: ch.Native,
		Addr:     append([]string(nil), cfg.Addrs...),
		Auth: ch.Auth{
			Database: cfg.Database,
			Username: cfg.Username,
			Password: cfg.Password,
		},
		TLS:             tlsCfg,
		DialTimeout:     cfg.DialTimeout,
		ReadTimeout:     cfg.ReadTimeout,
		MaxOpenConns:    cfg.MaxOpenConns,
		MaxIdleConns:    cfg.MaxIdleConns,
		ConnMaxLifetime: cfg.ConnMaxLifetime,
		ClientInfo: ch.ClientInfo{Products: []struct{ Name, Version string }{
			{Name: "custody", Version: "dev"},
		}},
	}
	switch cfg.Compression {
	case "lz4":
		opts.Compression = &ch.Compression{Method: ch.CompressionLZ4}
	case "zstd":
		opts.Compression = &ch.Compression{Method: ch.CompressionZSTD}
	}
	if len(cfg.Settings) > 0 {
		opts.Settings = make(ch.Settings, len(cfg.Settings))
		for k, v := range cfg.Settings {
			opts.Settings[k] = v
		}
	}
	addrs := strings.Join(cfg.Addrs, ", ")

	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("native: open %s: %w", addrs, err)
	}
	fail := func(err error) (*Conn, error) {
		_ = conn.Close()
		return nil, err
	}
	if err := conn.Ping(ctx); err != nil {
		return fail(pingErr(addrs, err))
	}
	sv, err := conn.ServerVersion()
	if err != nil {
		return fail(fmt.Errorf("native: server handshake %s: %w: %w", addrs, clickhouse.ErrUnavailable, err))
	}
	if sv.Revision < settingsAsStringsRevision {
		for k, v := range cfg.Settings {
			switch v.(type) {
			case int, bool:
			default:
				return fail(fmt.Errorf("native: Config.Settings[%q]: %T value; server protocol revision %d takes only int or bool settings", k, v, sv.Revision))
			}
		}
	}
	var row []struct {
		V string `ch:"version()"`
	}
	if err := conn.Select(ctx, &row, "SELECT version()"); err != nil || len(row) != 1 {
		if err == nil {
			err = fmt.Errorf("got %d rows", len(row))
		}
		return fail(fmt.Errorf("native: read server version at %s: %w", addrs, err))
	}
	v, err := clickhouse.ParseVersion(row[0].V)
	if err != nil {
		return fail(fmt.Errorf("native: %s: %w", addrs, err))
	}
	return &Conn{
		conn:  conn,
		caps:  clickhouse.CapabilitiesFor(clickhouse.TransportNative, v),
		addrs: addrs,
	}, nil
}

// enter holds the read lock for one call; the caller must call mu.RUnlock
// when it returns nil.
func (c *Conn) enter() error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return clickhouse.ErrClosed
	}
	return nil
}

// queryContext binds params server-side, or refuses when the server cannot.
func (c *Conn) queryContext(ctx context.Context, params clickhouse.Params) (context.Context, error) {
	if len(params) == 0 {
		return ctx, nil
	}
	if !c.caps.ServerSideParameters {
		return nil, fmt.Errorf("native: query parameters on ClickHouse %s: %w (server-side {name:Type} parameters need 19.11+)", c.caps.Version, clickhouse.ErrUnsupported)
	}
	enc, err := params.Encode()
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	return ch.Context(ctx, ch.WithParameters(ch.Parameters(enc.Map()))), nil
}

// Exec runs a statement that returns no rows.
func (c *Conn) Exec(ctx context.Context, query string, params clickhouse.Params) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.mu.RUnlock()
	qctx, err := c.queryContext(ctx, params)
	if err != nil {
		return err
	}
	if err := c.conn.Exec(qctx, query); err != nil {
		return c.wrap("exec", err)
	}
	return nil
}

// Select runs query and appends every row to dest, a pointer to a slice of
// ch-tagged structs or of pointers to them. Rows are appended only when the
// whole result was read. Every result column must have a matching ch tag,
// even when the result is empty.
func (c *Conn) Select(ctx context.Context, dest any, query string, params clickhouse.Params) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.mu.RUnlock()

	dv := reflect.ValueOf(dest)
	if dv.Kind() != reflect.Pointer || dv.IsNil() {
		return fmt.Errorf("%w: Select dest must be a non-nil pointer to a slice, not %T", clickhouse.ErrBadRows, dest)
	}
	sv := dv.Elem()
	elem, ptr, err := sliceOfStructs(sv, "Select dest")
	if err != nil {
		return err
	}
	fields, err := fieldsOf(elem)
	if err != nil {
		return err
	}
	qctx, err := c.queryContext(ctx, params)
	if err != nil {
		return err
	}
	if settings := clickhouse.SelectSettingsFrom(ctx); len(settings) > 0 {
		if err := settings.Validate(); err != nil {
			return fmt.Errorf("native: select: %w", err)
		}
		// Sent as the query's settings in the protocol, not in SQL text; a
		// SETTINGS clause in the query is applied after them, so the
		// query's own value wins. A copy: the caller's map is shared by
		// every read it admits.
		qctx = ch.Context(qctx, ch.WithSettings(ch.Settings(maps.Clone(settings))))
	}

	// Date and DateTime without an explicit time zone come back in UTC,
	// whatever the server's time zone.
	rows, err := c.conn.Query(ch.Context(qctx, ch.WithUserLocation(time.UTC)), query)
	if err != nil {
		return c.wrap("select", err)
	}
	defer rows.Close()
	// clickhouse-go checks columns against fields only when it scans a row;
	// check here so an empty result is held to the same rule.
	for _, col := range rows.Columns() {
		if !fields.byName[col] {
			return fmt.Errorf("native: select: %w: result column %q has no ch:%q field in %s", clickhouse.ErrBadRows, col, col, elem)
		}
	}
	out := reflect.MakeSlice(sv.Type(), 0, 0)
	for rows.Next() {
		p := reflect.New(elem)
		if err := rows.ScanStruct(p.Interface()); err != nil {
			return fmt.Errorf("native: select: %w: %w", clickhouse.ErrBadRows, err)
		}
		if ptr {
			out = reflect.Append(out, p)
		} else {
			out = reflect.Append(out, p.Elem())
		}
	}
	if err := rows.Err(); err != nil {
		return c.wrap("select", err)
	}
	if err := rows.Close(); err != nil {
		return c.wrap("select", err)
	}
	sv.Set(reflect.AppendSlice(sv, out))
	return nil
}

// Insert writes rows, a slice of ch-tagged structs or pointers to them, into
// table in one INSERT naming exactly the tagged columns.
func (c *Conn) Insert(ctx context.Context, table string, rows any) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.mu.RUnlock()

	if !tableRe.MatchString(table) {
		return fmt.Errorf("%w: table name %q is not a plain identifier or db.table", clickhouse.ErrBadRows, table)
	}
	rv := reflect.ValueOf(rows)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Slice {
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return fmt.Errorf("%w: Insert rows is nil", clickhouse.ErrBadRows)
	}
	elem, ptr, err := sliceOfStructs(rv, "Insert rows")
	if err != nil {
		return err
	}
	fields, err := fieldsOf(elem)
	if err != nil {
		return err
	}
	for _, col := range fields.columns {
		if !columnRe.MatchString(col) {
			return fmt.Errorf("%w: %s: ch tag %q is not a column name Insert can write", clickhouse.ErrBadRows, elem, col)
		}
	}
	if rv.Len() == 0 {
		return nil
	}
	if ptr {
		for i := 0; i < rv.Len(); i++ {
			if rv.Index(i).IsNil() {
				return fmt.Errorf("%w: Insert rows[%d] is nil", clickhouse.ErrBadRows, i)
			}
		}
	}

	bctx := ctx
	if settings := clickhouse.InsertSettingsFrom(ctx); len(settings) > 0 {
		if err := settings.Validate(); err != nil {
			return fmt.Errorf("native: insert into %s: %w", table, err)
		}
		// Sent as the query's settings in the protocol, not in SQL text.
		bctx = ch.Context(ctx, ch.WithSettings(ch.Settings(settings)))
	}
	batch, err := c.conn.PrepareBatch(bctx, "INSERT INTO "+table+" ("+columnList(fields.columns)+")")
	if err != nil {
		return c.wrap("insert into "+table, err)
	}
	for i := 0; i < rv.Len(); i++ {
		row := rv.Index(i)
		if !ptr {
			row = row.Addr()
		}
		if err := batch.AppendStruct(row.Interface()); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("native: insert into %s: row %d: %w: %w", table, i, clickhouse.ErrBadRows, err)
		}
	}
	if err := batch.Send(); err != nil {
		_ = batch.Abort()
		return c.wrap("insert into "+table, err)
	}
	return nil
}

// Ping checks the server answers.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.mu.RUnlock()
	if err := c.conn.Ping(ctx); err != nil {
		return pingErr(c.addrs, err)
	}
	return nil
}

// Capabilities reports the transport and what the server supports.
func (c *Conn) Capabilities() clickhouse.Capabilities { return c.caps }

// Close waits for running calls, then closes the pool. A second Close is a
// no-op; every other method after Close returns an error wrapping
// clickhouse.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil // idempotent, as the port promises
	}
	c.closed = true
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("native: close: %w", err)
	}
	return nil
}

// pingErr: a server that answers with an exception (bad credentials,
// unknown database) was reached and refused; anything else means it could
// not be reached and wraps ErrUnavailable.
func pingErr(addrs string, err error) error {
	var exc *ch.Exception
	if errors.As(err, &exc) {
		return fmt.Errorf("native: ClickHouse at %s refused the session: %w", addrs, err)
	}
	return fmt.Errorf("native: cannot reach ClickHouse at %s: %w: %w", addrs, clickhouse.ErrUnavailable, err)
}

// wrap names the operation and marks connection-level failures (refused,
// reset, EOF, pool exhaustion) with ErrUnavailable. Server exceptions
// (*clickhouse-go Exception) and context errors pass through as they are.
func (c *Conn) wrap(op string, err error) error {
	var exc *ch.Exception
	switch {
	case errors.As(err, &exc), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("native: %s: %w", op, err)
	case isConnErr(err):
		return fmt.Errorf("native: %s on %s: %w: %w", op, c.addrs, clickhouse.ErrUnavailable, err)
	}
	return fmt.Errorf("native: %s: %w", op, err)
}

func isConnErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, ch.ErrAcquireConnTimeout) || errors.Is(err, ch.ErrConnectionClosed)
}
