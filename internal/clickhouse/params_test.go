package clickhouse_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
)

type kind string

func TestEncode_NamesAreSortedAndValuesFollowThem(t *testing.T) {
	enc, err := clickhouse.Params{"zeta": 3, "alpha": 1, "mid": 2}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha", "mid", "zeta"}; !reflect.DeepEqual(enc.Names, want) {
		t.Errorf("names %q, want %q", enc.Names, want)
	}
	if want := []string{"1", "2", "3"}; !reflect.DeepEqual(enc.Values, want) {
		t.Errorf("values %q, want %q", enc.Values, want)
	}
	if m := enc.Map(); m["alpha"] != "1" || m["mid"] != "2" || m["zeta"] != "3" || len(m) != 3 {
		t.Errorf("map %v", m)
	}
}

func TestEncode_EmptyParamsEncodeToNothing(t *testing.T) {
	for _, p := range []clickhouse.Params{nil, {}} {
		enc, err := p.Encode()
		if err != nil || len(enc.Names) != 0 || len(enc.Values) != 0 {
			t.Errorf("%#v: got %+v, %v", p, enc, err)
		}
	}
}

func TestEncode_RendersEachValueInTheServersTextForm(t *testing.T) {
	id := uuid.MustParse("0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10")
	paris := time.FixedZone("UTC+2", 2*3600)
	s := "po'nted\t"
	whole := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"plain string", "acme", "acme"},
		{"string escapes backslash", `a\b`, `a\\b`},
		{"string escapes tab newline CR NUL", "a\tb\nc\rd\x00e", `a\tb\nc\rd\0e`},
		{"top-level quote is left alone", "It's", "It's"},
		{"empty string", "", ""},
		{"bytes escape like strings", []byte("a\tb"), `a\tb`},
		{"named string type escapes", kind("a\nb"), `a\nb`},
		{"pointer to string escapes like a string", &s, `po'nted\t`},
		{"string array quotes elements", []string{"It's", `a\b`, "x\ny", ""}, `['It\'s','a\\b','x\ny','']`},
		{"empty array", []string{}, `[]`},
		{"nested array", [][]string{{"a"}, {"b", "c"}}, `[['a'],['b','c']]`},
		{"int array", []int64{-1, 0, 1}, `[-1,0,1]`},
		{"uuid bare at top level", id, "0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10"},
		{"uuid quoted inside arrays", []uuid.UUID{id}, "['0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10']"},
		{"time whole seconds", time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC), "2026-03-01 12:00:05"},
		{"time with fraction has 9 digits", time.Date(2026, 3, 1, 12, 0, 5, 250e6, time.UTC), "2026-03-01 12:00:05.250000000"},
		{"time converted to UTC", time.Date(2026, 3, 1, 14, 0, 0, 0, paris), "2026-03-01 12:00:00"},
		{"time before 1970", time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC), "1969-07-20 20:17:40.000000001"},
		{"times inside arrays are quoted", []time.Time{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, "['2026-03-01 12:00:00']"},
		{"bool true", true, "1"},
		{"bool false", false, "0"},
		{"nil", nil, `\N`},
		{"nil pointer", (*string)(nil), `\N`},
		{"pointer to time renders the time", &whole, "2026-03-01 12:00:05"},
		{"nil pointer to time", (*time.Time)(nil), `\N`},
		{"pointer to uuid is bare", &id, "0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10"},
		{"nil pointer to uuid", (*uuid.UUID)(nil), `\N`},
		{"pointers inside arrays", []*string{&s, nil}, `['po\'nted\t',NULL]`},
		{"nil inside arrays", []any{"a", nil, 1}, `['a',NULL,1]`},
		{"max uint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"min int64", int64(math.MinInt64), "-9223372036854775808"},
		{"int", 42, "42"},
		{"float", 1.5, "1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := clickhouse.Params{"p": tt.in}.Encode()
			if err != nil {
				t.Fatalf("encode %#v: %v", tt.in, err)
			}
			if got := enc.Values[0]; got != tt.want {
				t.Errorf("encode %#v = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEncode_UnsupportedTypeNamesTheParameter(t *testing.T) {
	tests := []struct {
		name string
		in   any
	}{
		{"struct", struct{ A int }{1}},
		{"map", map[string]int{"a": 1}},
		{"struct inside array", []struct{ A int }{{1}}},
		{"channel", make(chan int)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clickhouse.Params{"ok": "x", "bad_param": tt.in}.Encode()
			if err == nil {
				t.Fatalf("encode %T succeeded", tt.in)
			}
			if !strings.Contains(err.Error(), `"bad_param"`) {
				t.Errorf("error %q does not name the parameter", err)
			}
		})
	}
}

// roundTrip binds v to {p:typ} on a real engine and returns what the server
// read.
func roundTrip[T any](t *testing.T, conn clickhouse.Conn, typ string, v any) T {
	t.Helper()
	var rows []struct {
		V T `ch:"v"`
	}
	if err := conn.Select(context.Background(), &rows, "SELECT {p:"+typ+"} AS v", clickhouse.Params{"p": v}); err != nil {
		t.Fatalf("SELECT {p:%s} with %#v: %v", typ, v, err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	return rows[0].V
}

var hostileStrings = []string{
	"",
	"It's",
	"''",
	`\`,
	`\\`,
	`\'`,
	`\N`,
	`\0`,
	"a\x00b",
	"tab\there",
	"line\nbreak",
	"carriage\rreturn",
	"\r\n",
	"'; DROP TABLE events; --",
	"x' OR 1=1 --",
	"{p:String}",
	"[1,2]",
	"['a']",
	"Zoë — 日本語 🚀 \u200b",
	"\x01\x02\x1f\x7f",
	"\xff\xfe",
	strings.Repeat("long\\'\n", 1000),
}

// short quotes s for a failure message, cut to a readable length.
func short(s string) string {
	if len(s) > 60 {
		return fmt.Sprintf("%q…(%d bytes)", s[:60], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// Every hostile string reaches the server exactly, at top level and inside
// arrays, whose elements are quoted differently.
func TestParams_HostileStringsRoundTripOnChDB(t *testing.T) {
	conn := chtest.Embedded(t)
	for _, s := range hostileStrings {
		if got := roundTrip[string](t, conn, "String", s); got != s {
			t.Errorf("String %s came back %s", short(s), short(got))
		}
		if got := roundTrip[[]byte](t, conn, "String", []byte(s)); string(got) != s {
			t.Errorf("String from []byte %s came back %s", short(s), short(string(got)))
		}
		if got := roundTrip[string](t, conn, "String", &s); got != s {
			t.Errorf("String from *string %s came back %s", short(s), short(got))
		}
		if got := roundTrip[string](t, conn, "String", kind(s)); got != s {
			t.Errorf("String from a named string type %s came back %s", short(s), short(got))
		}
		if got := roundTrip[[]string](t, conn, "Array(String)", []string{s}); len(got) != 1 || got[0] != s {
			t.Errorf("Array(String) of %s came back %q", short(s), got)
		}
	}
	if got := roundTrip[[]string](t, conn, "Array(String)", hostileStrings); !reflect.DeepEqual(got, hostileStrings) {
		t.Errorf("Array(String) of all hostile strings did not round-trip")
	}
	nested := [][]string{hostileStrings[:5], {}, hostileStrings[5:]}
	if got := roundTrip[[][]string](t, conn, "Array(Array(String))", nested); !reflect.DeepEqual(got, nested) {
		t.Errorf("Array(Array(String)) did not round-trip")
	}
}

func TestParams_ScalarsRoundTripOnChDB(t *testing.T) {
	conn := chtest.Embedded(t)
	id := uuid.MustParse("0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10")

	t.Run("integers", func(t *testing.T) {
		for _, n := range []uint64{0, 1, math.MaxUint32 + 1, math.MaxUint64} {
			if got := roundTrip[uint64](t, conn, "UInt64", n); got != n {
				t.Errorf("UInt64 %d came back %d", n, got)
			}
		}
		for _, n := range []int64{math.MinInt64, -42, -1, 0, math.MaxInt64} {
			if got := roundTrip[int64](t, conn, "Int64", n); got != n {
				t.Errorf("Int64 %d came back %d", n, got)
			}
		}
		if got := roundTrip[int8](t, conn, "Int8", int8(-128)); got != -128 {
			t.Errorf("Int8 -128 came back %d", got)
		}
		want := []int64{math.MinInt64, -1, math.MaxInt64}
		if got := roundTrip[[]int64](t, conn, "Array(Int64)", want); !reflect.DeepEqual(got, want) {
			t.Errorf("Array(Int64) came back %v", got)
		}
	})
	t.Run("floats", func(t *testing.T) {
		for _, f := range []float64{0, -1.5, math.Pi, 1e300, 5e-324, math.MaxFloat64} {
			if got := roundTrip[float64](t, conn, "Float64", f); got != f {
				t.Errorf("Float64 %v came back %v", f, got)
			}
		}
		for _, f := range []float64{math.Inf(1), math.Inf(-1)} {
			if got := roundTrip[float64](t, conn, "Float64", f); got != f {
				t.Errorf("Float64 %v came back %v", f, got)
			}
		}
		if got := roundTrip[float64](t, conn, "Float64", math.NaN()); !math.IsNaN(got) {
			t.Errorf("Float64 NaN came back %v", got)
		}
		if got := roundTrip[float32](t, conn, "Float32", float32(0.1)); got != 0.1 {
			t.Errorf("Float32 0.1 came back %v", got)
		}
	})
	t.Run("bools", func(t *testing.T) {
		for _, b := range []bool{true, false} {
			if got := roundTrip[bool](t, conn, "Bool", b); got != b {
				t.Errorf("Bool %v came back %v", b, got)
			}
			want := uint8(0)
			if b {
				want = 1
			}
			if got := roundTrip[uint8](t, conn, "UInt8", b); got != want {
				t.Errorf("UInt8 %v came back %d", b, got)
			}
		}
	})
	t.Run("uuids", func(t *testing.T) {
		if got := roundTrip[uuid.UUID](t, conn, "UUID", id); got != id {
			t.Errorf("UUID came back %s", got)
		}
		want := []uuid.UUID{id, uuid.Nil}
		if got := roundTrip[[]uuid.UUID](t, conn, "Array(UUID)", want); !reflect.DeepEqual(got, want) {
			t.Errorf("Array(UUID) came back %v", got)
		}
	})
	t.Run("nulls", func(t *testing.T) {
		if got := roundTrip[*string](t, conn, "Nullable(String)", nil); got != nil {
			t.Errorf("nil came back %q", *got)
		}
		if got := roundTrip[*string](t, conn, "Nullable(String)", (*string)(nil)); got != nil {
			t.Errorf("nil pointer came back %q", *got)
		}
		s := `\N`
		if got := roundTrip[*string](t, conn, "Nullable(String)", s); got == nil || *got != s {
			t.Errorf(`the string \N came back %v, want the string`, got)
		}
		if got := roundTrip[*string](t, conn, "Nullable(String)", &s); got == nil || *got != s {
			t.Errorf(`a pointer to the string \N came back %v, want the string`, got)
		}
		got := roundTrip[[]*string](t, conn, "Array(Nullable(String))", []*string{&s, nil})
		if len(got) != 2 || got[0] == nil || *got[0] != s || got[1] != nil {
			t.Errorf("Array(Nullable(String)) with a NULL came back %v", got)
		}
		at := time.Date(1969, 7, 20, 20, 17, 40, 500e6, time.UTC)
		if got := roundTrip[*time.Time](t, conn, "Nullable(DateTime64(3, 'UTC'))", &at); got == nil || !got.Equal(at) {
			t.Errorf("*time.Time came back %v", got)
		}
		if got := roundTrip[*time.Time](t, conn, "Nullable(DateTime64(3, 'UTC'))", (*time.Time)(nil)); got != nil {
			t.Errorf("nil *time.Time came back %v", got)
		}
	})
}

func TestParams_TimesRoundTripOnChDB(t *testing.T) {
	conn := chtest.Embedded(t)
	tokyo := time.FixedZone("UTC+9", 9*3600)
	times := []time.Time{
		time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC),
		time.Date(2026, 3, 1, 12, 0, 5, 123456789, time.UTC),
		time.Date(2026, 3, 1, 21, 0, 5, 1, tokyo),
		time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 40, 500e6, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC),
	}
	for _, at := range times {
		if got := roundTrip[time.Time](t, conn, "DateTime64(9, 'UTC')", at); !got.Equal(at) {
			t.Errorf("DateTime64(9) %s came back %s", at.UTC(), got.UTC())
		}
	}
	whole := time.Date(2026, 3, 1, 21, 0, 5, 0, tokyo)
	if got := roundTrip[time.Time](t, conn, "DateTime('UTC')", whole); !got.Equal(whole) {
		t.Errorf("DateTime %s came back %s", whole.UTC(), got.UTC())
	}
	if got := roundTrip[[]time.Time](t, conn, "Array(DateTime64(9, 'UTC'))", times); len(got) != len(times) {
		t.Errorf("Array(DateTime64) came back %v", got)
	} else {
		for i := range times {
			if !got[i].Equal(times[i]) {
				t.Errorf("Array(DateTime64)[%d] %s came back %s", i, times[i].UTC(), got[i].UTC())
			}
		}
	}
}
