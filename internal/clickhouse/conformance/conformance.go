package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// Open returns a fresh connection for the suite; the suite closes it.
type Open func(t *testing.T) clickhouse.Conn

// Run runs every case against the transport that open builds.
func Run(t *testing.T, open Open) {
	conn := open(t)
	t.Cleanup(func() { _ = conn.Close() })
	caps := conn.Capabilities()
	t.Logf("transport %s, server %s, capabilities %+v", caps.Transport, caps.Version, caps)
	s := &suite{conn: conn, caps: caps}
	t.Run("Ping", s.ping)
	t.Run("RoundTripsBasicTypes", s.roundTripBasic)
	t.Run("RoundTripsModernTypes", s.roundTripModern)
	t.Run("BindsParametersServerSide", s.bindsParameters)
	t.Run("RefusesParametersWithoutServerSupport", s.refusesParameters)
	t.Run("RejectsRowsThatDoNotMap", s.rejectsBadRows)
	t.Run("InsertOfNoRowsIsNoOp", s.insertNothing)
	t.Run("InsertIntoMissingTableFails", s.insertMissingTable)
	t.Run("ReplacingMergeTreeFinalHidesDuplicates", s.replacingFinal)
	t.Run("InsertSettingsReachTheServer", s.insertSettings)
	t.Run("SelectSettingsReachTheServer", s.selectSettings)
	t.Run("ConcurrentUseIsSafe", s.concurrent)
	t.Run("CloseIsIdempotentAndFinal", func(t *testing.T) { closeIsFinal(t, open(t)) })
}

type suite struct {
	conn clickhouse.Conn
	caps clickhouse.Capabilities
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// table creates a uniquely named table (the native server is shared between
// runs) and drops it when the test ends.
func (s *suite) table(t *testing.T, columns, engine string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "conformance_" + hex.EncodeToString(b)
	if err := s.conn.Exec(ctx(t), fmt.Sprintf("CREATE TABLE %s (%s) ENGINE = %s", name, columns, engine), nil); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() { _ = s.conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+name, nil) })
	return name
}

func (s *suite) ping(t *testing.T) {
	if err := s.conn.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

type basicRow struct {
	U8    uint8     `ch:"u8"`
	U16   uint16    `ch:"u16"`
	U32   uint32    `ch:"u32"`
	U64   uint64    `ch:"u64"`
	I8    int8      `ch:"i8"`
	I64   int64     `ch:"i64"`
	F64   float64   `ch:"f64"`
	S     string    `ch:"s"`
	B     []byte    `ch:"b"`
	Fixed string    `ch:"fixed"`
	Tags  []string  `ch:"tags"`
	Note  *string   `ch:"note"`
	ID    uuid.UUID `ch:"id"`
	At    time.Time `ch:"at"`
	Day   time.Time `ch:"day"`
}

const basicColumns = `u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64, i8 Int8, i64 Int64, f64 Float64,
s String, b String, fixed FixedString(8), tags Array(String), note Nullable(String), id UUID,
at DateTime('UTC'), day Date`

func (s *suite) roundTripBasic(t *testing.T) {
	tbl := s.table(t, basicColumns, "MergeTree() ORDER BY u64")
	note := "a note"
	in := []basicRow{
		{U8: 255, U16: 65535, U32: 1 << 31, U64: 1<<64 - 1, I8: -128, I64: -1 << 63, F64: 3.25,
			S: "héllo\t\"quoted\"\n'single'\\", B: []byte{0, 1, 2, 0xff}, Fixed: "exactly8",
			Tags: []string{"a", "", "c"}, Note: &note, ID: uuid.MustParse("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
			At: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Day: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{U64: 1, Fixed: "short\x00\x00\x00", Tags: []string{}, ID: uuid.Nil,
			At: time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), Day: time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)},
	}
	if err := s.conn.Insert(ctx(t), tbl, in); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var out []basicRow
	if err := s.conn.Select(ctx(t), &out, "SELECT * FROM "+tbl+" ORDER BY u64 DESC", nil); err != nil {
		t.Fatalf("select: %v", err)
	}
	if len(out) != 2 {
		t.Fatalf("got %d rows, want 2", len(out))
	}
	for i := range in {
		want, got := in[i], out[i]
		if want.Tags == nil || len(want.Tags) == 0 {
			want.Tags, got.Tags = nil, nilIfEmpty(got.Tags)
		}
		if want.B == nil {
			want.B, got.B = nil, nilIfEmptyBytes(got.B)
		}
		got.At, got.Day = got.At.UTC(), got.Day.UTC()
		if !reflect.DeepEqual(want, got) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nilIfEmptyBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

type modernRow struct {
	At     time.Time         `ch:"at"`
	Kind   string            `ch:"kind"`
	Counts map[string]uint64 `ch:"counts"`
	OK     bool              `ch:"ok"`
}

func (s *suite) roundTripModern(t *testing.T) {
	if !s.caps.DateTime64 || !s.caps.Map || !s.caps.LowCardinality || !s.caps.Version.AtLeast(21, 12) {
		t.Skipf("server %s lacks DateTime64, Map, LowCardinality or Bool (need 21.12+)", s.caps.Version)
	}
	tbl := s.table(t, "at DateTime64(3, 'UTC'), kind LowCardinality(String), counts Map(String, UInt64), ok Bool", "MergeTree() ORDER BY at")
	in := []modernRow{
		{At: time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC), Kind: "data.collected", Counts: map[string]uint64{"a": 1, "b": 2}, OK: true},
		{At: time.Date(1969, 12, 31, 23, 59, 59, 500e6, time.UTC), Kind: "data.shared", Counts: map[string]uint64{}, OK: false},
	}
	if err := s.conn.Insert(ctx(t), tbl, in); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var out []modernRow
	if err := s.conn.Select(ctx(t), &out, "SELECT * FROM "+tbl+" ORDER BY at DESC", nil); err != nil {
		t.Fatalf("select: %v", err)
	}
	if len(out) != 2 {
		t.Fatalf("got %d rows", len(out))
	}
	for i := range in {
		out[i].At = out[i].At.UTC()
		if len(out[i].Counts) == 0 && len(in[i].Counts) == 0 {
			out[i].Counts = in[i].Counts
		}
		if !reflect.DeepEqual(in[i], out[i]) {
			t.Errorf("row %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
}

type paramRow struct {
	S    string    `ch:"s"`
	Arr  []string  `ch:"arr"`
	N    uint64    `ch:"n"`
	I    int64     `ch:"i"`
	ID   uuid.UUID `ch:"id"`
	At   time.Time `ch:"at"`
	AtMs time.Time `ch:"at_ms"`
	Yes  uint8     `ch:"yes"`
}

func (s *suite) bindsParameters(t *testing.T) {
	if !s.caps.ServerSideParameters || !s.caps.DateTime64 {
		t.Skipf("server %s has no server-side parameters (need 19.11+) or DateTime64", s.caps.Version)
	}
	hostile := "x' OR 1=1; DROP TABLE events; --\t\\n\n\\'\x00end"
	params := clickhouse.Params{
		"s":     hostile,
		"arr":   []string{"plain", hostile, "", `back\slash`, "quote'd"},
		"n":     uint64(1<<64 - 1),
		"i":     int64(-42),
		"id":    uuid.MustParse("0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10"),
		"at":    time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		"at_ms": time.Date(2026, 3, 1, 12, 0, 0, 250e6, time.UTC),
		"yes":   true,
	}
	var out []paramRow
	err := s.conn.Select(ctx(t), &out, `SELECT {s:String} AS s, {arr:Array(String)} AS arr, {n:UInt64} AS n,
		{i:Int64} AS i, {id:UUID} AS id, {at:DateTime('UTC')} AS at, {at_ms:DateTime64(3, 'UTC')} AS at_ms, {yes:UInt8} AS yes`, params)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	want := paramRow{S: hostile, Arr: params["arr"].([]string), N: 1<<64 - 1, I: -42, ID: params["id"].(uuid.UUID),
		At: params["at"].(time.Time), AtMs: params["at_ms"].(time.Time), Yes: 1}
	if len(out) != 1 {
		t.Fatalf("got %d rows", len(out))
	}
	out[0].At, out[0].AtMs = out[0].At.UTC(), out[0].AtMs.UTC()
	if !reflect.DeepEqual(out[0], want) {
		t.Fatalf("parameters did not round-trip:\n got %#v\nwant %#v", out[0], want)
	}
	// Parameters also filter and write.
	tbl := s.table(t, "k String, v UInt64", "MergeTree() ORDER BY k")
	if err := s.conn.Exec(ctx(t), "INSERT INTO "+tbl+" SELECT {k:String}, {v:UInt64}", clickhouse.Params{"k": hostile, "v": 7}); err != nil {
		t.Fatalf("exec with params: %v", err)
	}
	var got []struct {
		V uint64 `ch:"v"`
	}
	if err := s.conn.Select(ctx(t), &got, "SELECT v FROM "+tbl+" WHERE k = {k:String}", clickhouse.Params{"k": hostile}); err != nil || len(got) != 1 || got[0].V != 7 {
		t.Fatalf("filter by parameter: rows %v, err %v", got, err)
	}
}

func (s *suite) refusesParameters(t *testing.T) {
	if s.caps.ServerSideParameters {
		t.Skip("server binds parameters; nothing to refuse")
	}
	var out []struct {
		S string `ch:"s"`
	}
	err := s.conn.Select(ctx(t), &out, "SELECT {s:String} AS s", clickhouse.Params{"s": "x"})
	if !errors.Is(err, clickhouse.ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported (never client-side formatting)", err)
	}
}

func (s *suite) rejectsBadRows(t *testing.T) {
	var notSlice struct{ X int }
	if err := s.conn.Select(ctx(t), &notSlice, "SELECT 1 AS x", nil); err == nil {
		t.Error("select into a non-slice succeeded")
	}
	var missingField []struct {
		A uint8 `ch:"a"`
	}
	if err := s.conn.Select(ctx(t), &missingField, "SELECT toUInt8(1) AS a, toUInt8(2) AS b", nil); err == nil {
		t.Error("a result column without a field was silently dropped")
	}
	var wrongType []struct {
		A uuid.UUID `ch:"a"`
	}
	if err := s.conn.Select(ctx(t), &wrongType, "SELECT toUInt8(1) AS a", nil); err == nil {
		t.Error("UInt8 decoded into uuid.UUID")
	}
	tbl := s.table(t, "a UInt8", "MergeTree() ORDER BY a")
	if err := s.conn.Insert(ctx(t), tbl, []struct {
		Z uint8 `ch:"z"`
	}{{1}}); err == nil {
		t.Error("insert of a column the table lacks succeeded")
	}
	if err := s.conn.Insert(ctx(t), tbl+"; DROP TABLE x", []struct {
		A uint8 `ch:"a"`
	}{{1}}); err == nil {
		t.Error("insert accepted a table name that is not an identifier")
	}
}

func (s *suite) insertNothing(t *testing.T) {
	tbl := s.table(t, "a UInt8", "MergeTree() ORDER BY a")
	if err := s.conn.Insert(ctx(t), tbl, []struct {
		A uint8 `ch:"a"`
	}{}); err != nil {
		t.Fatalf("empty insert: %v", err)
	}
}

func (s *suite) insertMissingTable(t *testing.T) {
	err := s.conn.Insert(ctx(t), "conformance_does_not_exist", []struct {
		A uint8 `ch:"a"`
	}{{1}})
	if err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
}

type kv struct {
	K string `ch:"k"`
	V uint64 `ch:"v"`
}

func (s *suite) replacingFinal(t *testing.T) {
	tbl := s.table(t, "k String, v UInt64", "ReplacingMergeTree() ORDER BY k")
	for i := 0; i < 3; i++ { // three inserts, three parts, same keys
		if err := s.conn.Insert(ctx(t), tbl, []kv{{"a", 1}, {"b", 2}}); err != nil {
			t.Fatal(err)
		}
	}
	var out []kv
	if err := s.conn.Select(ctx(t), &out, "SELECT k, v FROM "+tbl+" FINAL ORDER BY k", nil); err != nil {
		t.Fatal(err)
	}
	if want := []kv{{"a", 1}, {"b", 2}}; !reflect.DeepEqual(out, want) {
		t.Fatalf("FINAL returned %v, want %v", out, want)
	}
}

// insertSettings proves settings from WithInsertSettings reach the server
// with the INSERT, by their visible effect: a MergeTree with a
// deduplication window drops a second insert carrying the same
// insert_deduplication_token although its rows differ, and keeps one with
// another token. Invalid settings are refused before anything is sent.
func (s *suite) insertSettings(t *testing.T) {
	if !s.caps.Version.AtLeast(22, 2) {
		t.Skipf("insert_deduplication_token needs ClickHouse 22.2+, server is %s", s.caps.Version)
	}
	tbl := s.table(t, "k String, v UInt64", "MergeTree() ORDER BY k SETTINGS non_replicated_deduplication_window = 100")
	insert := func(token string, rows []kv) {
		t.Helper()
		c := clickhouse.WithInsertSettings(ctx(t), clickhouse.Settings{"insert_deduplication_token": token})
		if err := s.conn.Insert(c, tbl, rows); err != nil {
			t.Fatalf("insert with token %s: %v", token, err)
		}
	}
	insert("batch-1", []kv{{"a", 1}})
	insert("batch-1", []kv{{"a", 2}}) // a retry whose bytes differ
	insert("batch-2", []kv{{"b", 3}})
	if err := s.conn.Insert(ctx(t), tbl, []kv{{"c", 4}}); err != nil { // no settings: plain insert
		t.Fatal(err)
	}
	var out []kv
	if err := s.conn.Select(ctx(t), &out, "SELECT k, v FROM "+tbl+" ORDER BY k", nil); err != nil {
		t.Fatal(err)
	}
	if want := []kv{{"a", 1}, {"b", 3}, {"c", 4}}; !reflect.DeepEqual(out, want) {
		t.Fatalf("rows %v, want %v: the token did not reach the server", out, want)
	}
	for _, bad := range []clickhouse.Settings{
		{"insert_deduplication_token": "x', max_threads = '1"},
		{"a b": 1},
		{"max_threads": 1.5},
	} {
		c := clickhouse.WithInsertSettings(ctx(t), bad)
		if err := s.conn.Insert(c, tbl, []kv{{"z", 9}}); err == nil {
			t.Errorf("insert with settings %v succeeded", bad)
		}
	}
}

// selectSettings proves settings from WithSelectSettings reach the server
// with every SELECT, by reading them back from system.settings (which
// shows the query's own settings): a setting the query's SETTINGS clause
// names keeps the query's value, a trailing comment does not swallow them,
// Exec and Insert ignore them, and invalid ones are refused before
// anything is sent.
func (s *suite) selectSettings(t *testing.T) {
	type setting struct {
		Name  string `ch:"name"`
		Value string `ch:"value"`
	}
	read := func(c context.Context, query string) []setting {
		t.Helper()
		var out []setting
		if err := s.conn.Select(c, &out, query, nil); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return out
	}
	const q = "SELECT name, value FROM system.settings WHERE name IN ('max_threads', 'priority') ORDER BY name"
	c := clickhouse.WithSelectSettings(ctx(t), clickhouse.Settings{"max_threads": 3, "priority": 7})
	want := []setting{{"max_threads", "3"}, {"priority", "7"}}
	if got := read(c, q); !reflect.DeepEqual(got, want) {
		t.Errorf("settings %v, want %v", got, want)
	}
	if got := read(c, q+" -- a trailing comment"); !reflect.DeepEqual(got, want) {
		t.Errorf("after a trailing comment: settings %v, want %v", got, want)
	}
	if got, want := read(c, q+" SETTINGS max_threads = 1"), []setting{{"max_threads", "1"}, {"priority", "7"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("with the query's own SETTINGS: %v, want %v (the query's value wins)", got, want)
	}
	if got := read(ctx(t), q); reflect.DeepEqual(got, want) {
		t.Errorf("a context without settings still has %v", got)
	}

	bad := clickhouse.WithSelectSettings(ctx(t), clickhouse.Settings{"max_threads": "1' , priority = '1"})
	var out []setting
	if err := s.conn.Select(bad, &out, q, nil); err == nil {
		t.Errorf("select with invalid settings succeeded: %v", out)
	}
	// Exec and Insert ignore them: invalid ones would fail them otherwise.
	tbl := s.table(t, "k String, v UInt64", "MergeTree() ORDER BY k")
	if err := s.conn.Insert(bad, tbl, []kv{{"a", 1}}); err != nil {
		t.Errorf("insert with select settings: %v", err)
	}
	if err := s.conn.Exec(bad, "INSERT INTO "+tbl+" (k, v) SELECT 'b', 2", nil); err != nil {
		t.Errorf("exec with select settings: %v", err)
	}
}

func (s *suite) concurrent(t *testing.T) {
	tbl := s.table(t, "k String, v UInt64", "MergeTree() ORDER BY k")
	const workers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := s.conn.Insert(context.Background(), tbl, []kv{{fmt.Sprintf("w%d", w), uint64(i)}}); err != nil {
					errs <- err
					return
				}
				var n []struct {
					C uint64 `ch:"c"`
				}
				if err := s.conn.Select(context.Background(), &n, "SELECT count() AS c FROM "+tbl, nil); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n []struct {
		C uint64 `ch:"c"`
	}
	if err := s.conn.Select(ctx(t), &n, "SELECT count() AS c FROM "+tbl, nil); err != nil {
		t.Fatal(err)
	}
	if n[0].C != workers*each {
		t.Fatalf("count = %d, want %d", n[0].C, workers*each)
	}
}

func closeIsFinal(t *testing.T, conn clickhouse.Conn) {
	if err := conn.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := conn.Ping(context.Background()); !errors.Is(err, clickhouse.ErrClosed) {
		t.Fatalf("ping after close: got %v, want ErrClosed", err)
	}
}
