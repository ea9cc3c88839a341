package native

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// Live tests run against the server at CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR
// (for example 127.0.0.1:9000, started with scripts/clickhouse-server.sh).
// Without it they skip, except under CI=true where they fail: CI must not
// pass by skipping. CUSTODY_TEST_CLICKHOUSE_NATIVE_VERSION (e.g. "18.16")
// optionally pins the server's major.minor.
const (
	envAddr    = "CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR"
	envVersion = "CUSTODY_TEST_CLICKHOUSE_NATIVE_VERSION"
)

func liveAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv(envAddr)
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run the native ClickHouse tests (scripts/clickhouse-server.sh start DIR)", envAddr)
		}
		t.Skipf("%s is not set; start a server with scripts/clickhouse-server.sh start DIR and set it to run live tests", envAddr)
	}
	return addr
}

func liveConn(t *testing.T, mutate ...func(*Config)) *Conn {
	t.Helper()
	cfg := Config{Addrs: []string{liveAddr(t)}}
	for _, m := range mutate {
		m(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tempTable creates a uniquely named table and drops it after the test.
func tempTable(t *testing.T, c *Conn, columns string) string {
	t.Helper()
	name := fmt.Sprintf("custody_native_test_%d", time.Now().UnixNano())
	ctx := context.Background()
	if err := c.Exec(ctx, "CREATE TABLE "+name+" ("+columns+") ENGINE = MergeTree() ORDER BY id", nil); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Exec(context.Background(), "DROP TABLE IF EXISTS "+name, nil); err != nil && !errors.Is(err, clickhouse.ErrClosed) {
			t.Errorf("drop table: %v", err)
		}
	})
	return name
}

const allTypes = `id UInt64, name String, code FixedString(4), tags Array(String),
	note Nullable(String), at DateTime, uid UUID, score Float64, flag UInt8`

type typedRow struct {
	ID    uint64    `ch:"id"`
	Name  string    `ch:"name"`
	Code  string    `ch:"code"`
	Tags  []string  `ch:"tags"`
	Note  *string   `ch:"note"`
	At    time.Time `ch:"at"`
	UID   uuid.UUID `ch:"uid"`
	Score float64   `ch:"score"`
	Flag  uint8     `ch:"flag"`
}

func ptr[T any](v T) *T { return &v }

func typedRows() []typedRow {
	return []typedRow{
		{
			ID: 1, Name: "plain", Code: "ABCD", Tags: []string{"a", "b"}, Note: ptr("note"),
			At:  time.Date(2024, 2, 29, 12, 34, 56, 0, time.UTC),
			UID: uuid.MustParse("0190c4a2-7d2e-7c3a-9f1b-2b6e4c8d9a01"), Score: 3.25, Flag: 1,
		},
		{
			ID: 2, Name: "quote ' \" back \\ tab \t nl \n nul \x00 ünï", Code: "x'\\\n", Tags: []string{}, Note: nil,
			At:  time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC),
			UID: uuid.Nil, Score: -0.5, Flag: 255,
		},
		{
			ID: 3, Name: "", Code: "\x00\x00\x00\x00", Tags: []string{"", "it's", "a,b"}, Note: ptr(""),
			At:  time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC),
			UID: uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff"), Score: 1e300, Flag: 0,
		},
	}
}

func TestLiveCapabilities(t *testing.T) {
	c := liveConn(t)
	caps := c.Capabilities()
	t.Logf("server %s: %+v", caps.Version, caps)
	if caps.Transport != clickhouse.TransportNative {
		t.Errorf("Transport = %q", caps.Transport)
	}
	if caps.Version.Major == 0 {
		t.Fatalf("Version = %+v", caps.Version)
	}
	if want := os.Getenv(envVersion); want != "" {
		if got := fmt.Sprintf("%d.%d", caps.Version.Major, caps.Version.Minor); got != want {
			t.Errorf("server version %s, want %s", caps.Version, want)
		}
	}
	if caps != clickhouse.CapabilitiesFor(clickhouse.TransportNative, caps.Version) {
		t.Errorf("Capabilities = %+v, not CapabilitiesFor(version)", caps)
	}
	if caps.Version.Major == 18 && caps.Version.Minor == 16 {
		if caps.ServerSideParameters || caps.DateTime64 || caps.Map || caps.LowCardinality || caps.TTL {
			t.Errorf("18.16 capabilities = %+v, want all false", caps)
		}
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestLiveParams(t *testing.T) {
	c := liveConn(t)
	ctx := context.Background()
	type one struct {
		X uint8 `ch:"x"`
	}
	var got []one
	err := c.Select(ctx, &got, "SELECT {v:UInt8} AS x", clickhouse.Params{"v": 7})
	errExec := c.Exec(ctx, "SELECT {v:UInt8}", clickhouse.Params{"v": 7})
	if !c.Capabilities().ServerSideParameters {
		if !errors.Is(err, clickhouse.ErrUnsupported) || !errors.Is(errExec, clickhouse.ErrUnsupported) {
			t.Fatalf("params on %s: Select = %v, Exec = %v; want ErrUnsupported", c.Capabilities().Version, err, errExec)
		}
		return
	}
	if err != nil || errExec != nil {
		t.Fatalf("Select = %v, Exec = %v", err, errExec)
	}
	if len(got) != 1 || got[0].X != 7 {
		t.Fatalf("got %+v", got)
	}
	// A hostile string is data, not SQL.
	type s struct {
		S string `ch:"s"`
	}
	var gs []s
	hostile := "x' OR 1=1 -- \\ \t\n"
	if err := c.Select(ctx, &gs, "SELECT {v:String} AS s", clickhouse.Params{"v": hostile}); err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].S != hostile {
		t.Fatalf("got %q", gs)
	}
}

func TestLiveRoundTrip(t *testing.T) {
	c := liveConn(t)
	ctx := context.Background()
	table := tempTable(t, c, allTypes)
	want := typedRows()
	if err := c.Insert(ctx, table, want); err != nil {
		t.Fatalf("Insert: %v", err)
	}

	sentinel := typedRow{ID: 99}
	got := []typedRow{sentinel}
	if err := c.Select(ctx, &got, "SELECT id, name, code, tags, note, at, uid, score, flag FROM "+table+" ORDER BY id", nil); err != nil {
		t.Fatalf("Select: %v", err)
	}
	if len(got) != len(want)+1 || got[0].ID != 99 {
		t.Fatalf("Select did not append after the existing element: %d rows, first id %d", len(got), got[0].ID)
	}
	for i, w := range want {
		g := got[i+1]
		if !rowsEqual(g, w) {
			t.Errorf("row %d:\n got %#v\nwant %#v", i, g, w)
		}
		if g.At.Location() != time.UTC {
			t.Errorf("row %d: DateTime read back in location %v, want UTC", i, g.At.Location())
		}
	}

	// The server agrees on what was stored: UUID byte order, Unix time,
	// FixedString bytes and NULLs.
	type check struct {
		ID   uint64 `ch:"id"`
		UID  string `ch:"u"`
		Unix uint32 `ch:"ts"`
		Hex  string `ch:"h"`
		Null uint8  `ch:"n"`
	}
	var checks []check
	if err := c.Select(ctx, &checks, "SELECT id, toString(uid) AS u, toUInt32(at) AS ts, hex(code) AS h, isNull(note) AS n FROM "+table+" ORDER BY id", nil); err != nil {
		t.Fatalf("Select checks: %v", err)
	}
	for i, w := range want {
		k := checks[i]
		if k.UID != w.UID.String() {
			t.Errorf("row %d: server UUID %s, want %s", i, k.UID, w.UID)
		}
		if int64(k.Unix) != w.At.Unix() {
			t.Errorf("row %d: server unix time %d, want %d", i, k.Unix, w.At.Unix())
		}
		if k.Hex != fmt.Sprintf("%X", w.Code) {
			t.Errorf("row %d: server FixedString %s, want %X", i, k.Hex, w.Code)
		}
		if (k.Null == 1) != (w.Note == nil) {
			t.Errorf("row %d: server isNull %d, want nil=%v", i, k.Null, w.Note == nil)
		}
	}

	// Pointer rows in and out.
	var ptrs []*typedRow
	if err := c.Insert(ctx, table, []*typedRow{{ID: 10, Code: "ptrs", At: time.Unix(0, 0).UTC()}}); err != nil {
		t.Fatalf("Insert pointers: %v", err)
	}
	if err := c.Select(ctx, &ptrs, "SELECT id, name, code, tags, note, at, uid, score, flag FROM "+table+" WHERE id = 10", nil); err != nil {
		t.Fatalf("Select pointers: %v", err)
	}
	if len(ptrs) != 1 || ptrs[0].ID != 10 || ptrs[0].Code != "ptrs" || ptrs[0].Tags == nil && len(ptrs[0].Tags) != 0 {
		t.Fatalf("pointer rows: %+v", ptrs)
	}
}

func rowsEqual(a, b typedRow) bool {
	if a.ID != b.ID || a.Name != b.Name || a.Code != b.Code || a.UID != b.UID ||
		a.Score != b.Score || a.Flag != b.Flag || !a.At.Equal(b.At) || len(a.Tags) != len(b.Tags) {
		return false
	}
	for i := range a.Tags {
		if a.Tags[i] != b.Tags[i] {
			return false
		}
	}
	if (a.Note == nil) != (b.Note == nil) || a.Note != nil && *a.Note != *b.Note {
		return false
	}
	return true
}

// TestLiveTypeMapping records which Go types clickhouse-go accepts for each
// column on this server beyond the port's table.
func TestLiveTypeMapping(t *testing.T) {
	c := liveConn(t)
	ctx := context.Background()
	table := tempTable(t, c, "id UInt64, fs FixedString(4), s String, d Date, flag UInt8, u64 UInt64 DEFAULT 42, dt DateTime DEFAULT toDateTime(0)")

	// []byte for FixedString and String, bool for UInt8, time.Time for Date;
	// unnamed columns take their defaults.
	type bytesRow struct {
		ID   uint64    `ch:"id"`
		FS   []byte    `ch:"fs"`
		S    []byte    `ch:"s"`
		D    time.Time `ch:"d"`
		Flag bool      `ch:"flag"`
	}
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := c.Insert(ctx, table, []bytesRow{{ID: 1, FS: []byte("ab"), S: []byte("bytes\x00"), D: day, Flag: true}}); err != nil {
		t.Fatalf("Insert []byte/bool/Date: %v", err)
	}
	type readRow struct {
		ID   uint64    `ch:"id"`
		FS   string    `ch:"fs"`
		S    []byte    `ch:"s"`
		D    time.Time `ch:"d"`
		Flag bool      `ch:"flag"`
		U64  uint64    `ch:"u64"`
	}
	var got []readRow
	if err := c.Select(ctx, &got, "SELECT id, fs, s, d, flag, u64 FROM "+table, nil); err != nil {
		t.Fatalf("Select: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d rows", len(got))
	}
	g := got[0]
	if g.FS != "ab\x00\x00" {
		t.Errorf("FixedString(4) short value reads back %q, want zero padded", g.FS)
	}
	if string(g.S) != "bytes\x00" || g.D != day || !g.Flag || g.U64 != 42 {
		t.Errorf("got %+v", g)
	}

	// A value longer than the FixedString is rejected, and nothing of the
	// batch is written.
	type fsRow struct {
		ID uint64 `ch:"id"`
		FS string `ch:"fs"`
	}
	err := c.Insert(ctx, table, []fsRow{{ID: 2, FS: "ok"}, {ID: 3, FS: "toolong"}})
	if err == nil {
		t.Errorf("Insert of 7 bytes into FixedString(4) succeeded")
	} else {
		t.Logf("FixedString overflow: %v", err)
	}
	// A Go type that does not fit its column is ErrBadRows.
	type wrongRow struct {
		ID uint64 `ch:"id"`
		S  int64  `ch:"s"`
	}
	if err := c.Insert(ctx, table, []wrongRow{{ID: 4, S: 1}}); !errors.Is(err, clickhouse.ErrBadRows) {
		t.Errorf("Insert int64 into String = %v, want ErrBadRows", err)
	}
	type wrongRead struct {
		ID uint64 `ch:"id"`
		S  int64  `ch:"s"`
	}
	var wr []wrongRead
	if err := c.Select(ctx, &wr, "SELECT id, s FROM "+table, nil); !errors.Is(err, clickhouse.ErrBadRows) {
		t.Errorf("Select String into int64 = %v, want ErrBadRows", err)
	}
	var n []struct {
		N uint64 `ch:"n"`
	}
	if err := c.Select(ctx, &n, "SELECT count() AS n FROM "+table, nil); err != nil || len(n) != 1 || n[0].N != 1 {
		t.Errorf("after failed inserts: count = %+v, %v; want 1 row", n, err)
	}

	// DateTime from a non-UTC time.Time stores the same instant.
	type dtRow struct {
		ID uint64    `ch:"id"`
		DT time.Time `ch:"dt"`
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err == nil {
		at := time.Date(2024, 7, 1, 12, 0, 0, 0, berlin)
		if err := c.Insert(ctx, table, []dtRow{{ID: 5, DT: at}}); err != nil {
			t.Fatalf("Insert DateTime: %v", err)
		}
		var back []struct {
			TS uint32 `ch:"ts"`
		}
		if err := c.Select(ctx, &back, "SELECT toUInt32(dt) AS ts FROM "+table+" WHERE id = 5", nil); err != nil || len(back) != 1 || int64(back[0].TS) != at.Unix() {
			t.Errorf("DateTime from %v: server has %+v (%v), want %d", at, back, err, at.Unix())
		}
	}
}

func TestLiveMissingField(t *testing.T) {
	c := liveConn(t)
	ctx := context.Background()
	type onlyA struct {
		A uint8 `ch:"a"`
	}
	var got []onlyA
	err := c.Select(ctx, &got, "SELECT 1 AS a, 2 AS b", nil)
	if !errors.Is(err, clickhouse.ErrBadRows) || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("Select with unmapped column = %v, want ErrBadRows naming b", err)
	}
	// Also when the result is empty.
	err = c.Select(ctx, &got, "SELECT 1 AS a, 2 AS b WHERE 0", nil)
	if !errors.Is(err, clickhouse.ErrBadRows) {
		t.Fatalf("Select (empty) with unmapped column = %v, want ErrBadRows", err)
	}
	// Fields without a column are fine: they keep their zero value.
	type extra struct {
		A uint8  `ch:"a"`
		Z string `ch:"z"`
	}
	var ex []extra
	if err := c.Select(ctx, &ex, "SELECT 1 AS a", nil); err != nil || len(ex) != 1 || ex[0].A != 1 {
		t.Fatalf("Select with extra field = %+v, %v", ex, err)
	}
}

func TestLiveErrors(t *testing.T) {
	c := liveConn(t)
	ctx := context.Background()
	err := c.Exec(ctx, "SELECT * FROM custody_no_such_table_xyz", nil)
	if err == nil || errors.Is(err, clickhouse.ErrUnavailable) || !strings.Contains(err.Error(), "custody_no_such_table_xyz") {
		t.Fatalf("Exec on missing table = %v", err)
	}
	type r struct {
		ID uint64 `ch:"id"`
	}
	if err := c.Insert(ctx, "custody_no_such_table_xyz", []r{{1}}); err == nil {
		t.Fatal("Insert into missing table succeeded")
	}
	// The pool is still usable after errors.
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLiveOptions(t *testing.T) {
	for _, comp := range []string{"lz4", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			c := liveConn(t, func(cfg *Config) {
				cfg.Compression = comp
				cfg.Settings = map[string]any{"max_threads": 2}
			})
			table := tempTable(t, c, allTypes)
			want := typedRows()
			ctx := context.Background()
			if err := c.Insert(ctx, table, want); err != nil {
				t.Fatal(err)
			}
			var got []typedRow
			if err := c.Select(ctx, &got, "SELECT * FROM "+table+" ORDER BY id", nil); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || !rowsEqual(got[1], want[1]) {
				t.Fatalf("got %+v", got)
			}
			var s []struct {
				V string `ch:"value"`
			}
			if err := c.Select(ctx, &s, "SELECT value FROM system.settings WHERE name = 'max_threads'", nil); err != nil || len(s) != 1 || s[0].V != "2" {
				t.Fatalf("max_threads = %+v, %v", s, err)
			}
		})
	}
	if !liveConn(t).Capabilities().Version.AtLeast(19, 13) {
		_, err := New(context.Background(), Config{Addrs: []string{liveAddr(t)}, Settings: map[string]any{"max_threads": "2"}})
		if err == nil || !strings.Contains(err.Error(), `Config.Settings["max_threads"]`) {
			t.Fatalf("string setting on an old server = %v, want Config.Settings error", err)
		}
	}
	_, err := New(context.Background(), Config{Addrs: []string{liveAddr(t)}, Database: "custody_no_such_db_xyz"})
	var exc *ch.Exception
	if err == nil || errors.Is(err, clickhouse.ErrUnavailable) || !errors.As(err, &exc) {
		t.Fatalf("New with a missing database = %v, want a server exception, not ErrUnavailable", err)
	}
	t.Logf("missing database: %v", err)
}

func TestLiveClose(t *testing.T) {
	c := liveConn(t)
	ctx := context.Background()

	// Close waits for running calls.
	var wg sync.WaitGroup
	started := make(chan struct{})
	var slowErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		var out []struct {
			S uint8 `ch:"s"`
		}
		close(started)
		slowErr = c.Select(ctx, &out, "SELECT sleep(1) AS s", nil)
	}()
	<-started
	time.Sleep(100 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if slowErr != nil {
		t.Errorf("call running during Close = %v, want it to finish", slowErr)
	}

	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want nil (idempotent)", err)
	}
	if err := c.Ping(ctx); !errors.Is(err, clickhouse.ErrClosed) {
		t.Errorf("Ping after Close = %v", err)
	}
	if err := c.Exec(ctx, "SELECT 1", nil); !errors.Is(err, clickhouse.ErrClosed) {
		t.Errorf("Exec after Close = %v", err)
	}
	var out []struct {
		X uint8 `ch:"x"`
	}
	if err := c.Select(ctx, &out, "SELECT 1 AS x", nil); !errors.Is(err, clickhouse.ErrClosed) {
		t.Errorf("Select after Close = %v", err)
	}
	if err := c.Insert(ctx, "t", []struct {
		X uint8 `ch:"x"`
	}{{1}}); !errors.Is(err, clickhouse.ErrClosed) {
		t.Errorf("Insert after Close = %v", err)
	}
}

func TestLiveConcurrent(t *testing.T) {
	c := liveConn(t, func(cfg *Config) { cfg.MaxOpenConns = 4 })
	table := tempTable(t, c, "id UInt64, name String")
	type r struct {
		ID   uint64 `ch:"id"`
		Name string `ch:"name"`
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Insert(context.Background(), table, []r{{uint64(i), fmt.Sprint(i)}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []r
	if err := c.Select(context.Background(), &got, "SELECT id, name FROM "+table+" ORDER BY id", nil); err != nil || len(got) != 16 {
		t.Fatalf("got %d rows, %v", len(got), err)
	}
}
