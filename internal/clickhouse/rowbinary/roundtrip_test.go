package rowbinary

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/google/uuid"
)

type tag string // a named string type

type allTypes struct {
	S    string               `ch:"s"`
	SB   []byte               `ch:"sb"`
	FS   string               `ch:"fs"`
	FSB  []byte               `ch:"fsb"`
	FSA  [4]byte              `ch:"fsa"`
	U8   uint8                `ch:"u8"`
	U16  uint16               `ch:"u16"`
	U32  uint32               `ch:"u32"`
	U64  uint64               `ch:"u64"`
	I8   int8                 `ch:"i8"`
	I16  int16                `ch:"i16"`
	I32  int32                `ch:"i32"`
	I64  int64                `ch:"i64"`
	F32  float32              `ch:"f32"`
	F64  float64              `ch:"f64"`
	B    bool                 `ch:"b"`
	ID   uuid.UUID            `ch:"id"`
	IDS  string               `ch:"ids"`
	D    time.Time            `ch:"d"`
	D32  time.Time            `ch:"d32"`
	DT   time.Time            `ch:"dt"`
	DT3  time.Time            `ch:"dt3"`
	DT6  time.Time            `ch:"dt6"`
	DT9  time.Time            `ch:"dt9"`
	E8   string               `ch:"e8"`
	E16  tag                  `ch:"e16"`
	AS   []string             `ch:"as"`
	ANS  []*string            `ch:"ans"`
	AAU  [][]uint32           `ch:"aau"`
	AT   []time.Time          `ch:"at"`
	NU   *uint64              `ch:"nu"`
	NS   *string              `ch:"ns"`
	NDT  *time.Time           `ch:"ndt"`
	LC   tag                  `ch:"lc"`
	LCN  *string              `ch:"lcn"`
	ALC  []string             `ch:"alc"`
	M    map[string]uint64    `ch:"m"`
	MLC  map[string][]string  `ch:"mlc"`
	MU   map[uuid.UUID]*int32 `ch:"mu"`
	MI   map[int64]string     `ch:"mi"`
	W    uint64               `ch:"w"`
	WI   int                  `ch:"wi"`
	PS   *string              `ch:"ps"`
	Note string               // untagged: not mapped
	Skip string               `ch:"-"`
}

var allColumns = []struct{ name, typ string }{
	{"s", "String"},
	{"sb", "String"},
	{"fs", "FixedString(8)"},
	{"fsb", "FixedString(4)"},
	{"fsa", "FixedString(4)"},
	{"u8", "UInt8"}, {"u16", "UInt16"}, {"u32", "UInt32"}, {"u64", "UInt64"},
	{"i8", "Int8"}, {"i16", "Int16"}, {"i32", "Int32"}, {"i64", "Int64"},
	{"f32", "Float32"}, {"f64", "Float64"},
	{"b", "Bool"},
	{"id", "UUID"},
	{"ids", "UUID"},
	{"d", "Date"},
	{"d32", "Date32"},
	{"dt", "DateTime('Europe/Amsterdam')"},
	{"dt3", "DateTime64(3)"},
	{"dt6", "DateTime64(6, 'Asia/Tokyo')"},
	{"dt9", "DateTime64(9, 'UTC')"},
	{"e8", "Enum8('active' = 1, 'deleted' = -1, 'it\\'s' = 100)"},
	{"e16", "Enum16('low' = -1000, 'high' = 30000)"},
	{"as", "Array(String)"},
	{"ans", "Array(Nullable(String))"},
	{"aau", "Array(Array(UInt32))"},
	{"at", "Array(DateTime64(3))"},
	{"nu", "Nullable(UInt64)"},
	{"ns", "Nullable(String)"},
	{"ndt", "Nullable(DateTime64(6))"},
	{"lc", "LowCardinality(String)"},
	{"lcn", "LowCardinality(Nullable(String))"},
	{"alc", "Array(LowCardinality(String))"},
	{"m", "Map(String, UInt64)"},
	{"mlc", "Map(LowCardinality(String), Array(String))"},
	{"mu", "Map(UUID, Nullable(Int32))"},
	{"mi", "Map(Int64, String)"},
	{"w", "UInt16"},
	{"wi", "Int32"},
	{"ps", "String"},
}

func columnsOf(defs []struct{ name, typ string }) []Column {
	cols := make([]Column, len(defs))
	for i, d := range defs {
		cols[i] = Column{Name: d.name, Type: MustParseType(d.typ)}
	}
	return cols
}

// sampleRows are already in decoded form: UTC times at the column's
// resolution, non-nil empty slices and maps, FixedString strings without
// trailing NULs, so a round trip must reproduce them exactly.
func sampleRows() []allTypes {
	ts := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	return []allTypes{
		{
			S: "hello, 世界", SB: []byte{0, 1, 2, 0xff}, FS: "abc\x00\x00\x00\x00\x00", FSB: []byte("ab\x00\x00"), FSA: [4]byte{1, 2, 3, 4},
			U8: 255, U16: 65535, U32: math.MaxUint32, U64: math.MaxUint64,
			I8: -128, I16: -32768, I32: math.MinInt32, I64: math.MinInt64,
			F32: -1.5, F64: math.Inf(1), B: true,
			ID:  uuid.MustParse("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
			IDS: "0191b3c5-6d2e-7c3a-9f1e-123456789abc",
			D:   ts(2149, 6, 6, 0, 0, 0, 0), D32: ts(1900, 1, 1, 0, 0, 0, 0), DT: ts(2106, 2, 7, 6, 28, 15, 0),
			DT3: ts(1969, 12, 31, 23, 59, 59, 999000000), DT6: ts(2024, 2, 29, 12, 0, 0, 123456000), DT9: ts(2262, 4, 11, 23, 47, 16, 854775807),
			E8: "it's", E16: "low",
			AS:  []string{"a", "", strings.Repeat("z", 300)},
			ANS: []*string{nil, ptr("foo"), ptr(""), nil},
			AAU: [][]uint32{{1, 2}, {}, {3}},
			AT:  []time.Time{ts(2000, 1, 1, 0, 0, 0, 1000000)},
			NU:  ptr(uint64(0)), NS: ptr("x"), NDT: ptr(ts(2020, 5, 5, 5, 5, 5, 5000)),
			LC: "tenant-a", LCN: ptr("lc"), ALC: []string{"tenant-a", "tenant-b", "tenant-a"},
			M:   map[string]uint64{"a": 1, "b": math.MaxUint64, "": 0},
			MLC: map[string][]string{"k": {"v1", "v2"}, "empty": {}},
			MU:  map[uuid.UUID]*int32{uuid.Nil: nil, uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff"): ptr(int32(-7))},
			MI:  map[int64]string{-1: "minus", 1 << 40: "big"},
			W:   65535, WI: -2147483648, PS: ptr("pointer to non-nullable"),
		},
		{
			// Zero-ish values everywhere the types allow them.
			SB: []byte{}, FS: "\x00\x00\x00\x00\x00\x00\x00\x00", FSB: make([]byte, 4),
			IDS: "00000000-0000-0000-0000-000000000000",
			D:   ts(1970, 1, 1, 0, 0, 0, 0), D32: ts(2299, 12, 31, 0, 0, 0, 0), DT: ts(1970, 1, 1, 0, 0, 0, 0),
			DT3: ts(1900, 1, 1, 0, 0, 0, 0), DT6: ts(2299, 12, 31, 23, 59, 59, 999999000), DT9: ts(1900, 1, 1, 0, 0, 0, 1),
			E8: "deleted", E16: "high",
			AS: []string{}, ANS: []*string{}, AAU: [][]uint32{}, AT: []time.Time{},
			ALC: []string{}, M: map[string]uint64{}, MLC: map[string][]string{}, MU: map[uuid.UUID]*int32{}, MI: map[int64]string{},
			F32: float32(math.Copysign(0, -1)), F64: -math.MaxFloat64, PS: ptr(""),
		},
	}
}

func encodeAll(t testing.TB, cols []Column, rows any) []byte {
	t.Helper()
	body, err := EncodeRows(cols, rows)
	if err != nil {
		t.Fatalf("EncodeRows: %v", err)
	}
	return append(EncodeHeader(cols), body...)
}

func TestRoundTripAllTypes(t *testing.T) {
	cols := columnsOf(allColumns)
	rows := sampleRows()
	data := encodeAll(t, cols, rows)

	var got []allTypes
	if err := Decode(data, &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(got) != len(rows) {
		t.Fatalf("decoded %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		compareRows(t, i, got[i], rows[i])
	}

	// Pointer rows and a reused Codec give the same result, and re-encoding
	// the decoded rows reproduces the bytes.
	var c Codec
	var gotp []*allTypes
	for range 3 {
		gotp = gotp[:0]
		if err := c.Decode(data, &gotp); err != nil {
			t.Fatalf("Codec.Decode: %v", err)
		}
	}
	for i := range rows {
		compareRows(t, i, *gotp[i], rows[i])
	}
	again, err := c.EncodeRows(cols, gotp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(EncodeHeader(cols), again...), data) {
		t.Error("re-encoding the decoded rows changed the bytes")
	}
}

// compareRows compares field by field so a failure names the field.
func compareRows(t *testing.T, i int, got, want allTypes) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for f := range gv.NumField() {
		name := gv.Type().Field(f).Name
		g, w := gv.Field(f).Interface(), wv.Field(f).Interface()
		switch name {
		case "Note", "Skip":
			if !gv.Field(f).IsZero() {
				t.Errorf("row %d: unmapped field %s was set to %v", i, name, g)
			}
			continue
		case "F32":
			if math.Float32bits(g.(float32)) != math.Float32bits(w.(float32)) {
				t.Errorf("row %d: F32 = %v, want %v", i, g, w)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("row %d: %s = %#v, want %#v", i, name, g, w)
		}
	}
}

func TestNormalization(t *testing.T) {
	type row struct {
		AS  []string          `ch:"as"`
		M   map[string]uint64 `ch:"m"`
		SB  []byte            `ch:"sb"`
		FS  string            `ch:"fs"`
		DT  time.Time         `ch:"dt"`
		Opt *uint8            `ch:"opt"`
	}
	cols := columnsOf([]struct{ name, typ string }{
		{"as", "Array(String)"}, {"m", "Map(String, UInt64)"}, {"sb", "String"},
		{"fs", "FixedString(4)"}, {"dt", "DateTime"}, {"opt", "Nullable(UInt8)"},
	})
	in := []row{{DT: time.Date(2024, 1, 1, 1, 2, 3, 999, time.FixedZone("X", 3600)), FS: "a\x00"}}
	var out []row
	if err := Decode(encodeAll(t, cols, in), &out); err != nil {
		t.Fatal(err)
	}
	r := out[0]
	if r.AS == nil || len(r.AS) != 0 || r.M == nil || len(r.M) != 0 || r.SB == nil || len(r.SB) != 0 {
		t.Errorf("empty values should decode non-nil and empty: %#v", r)
	}
	if r.FS != "a\x00\x00\x00" {
		t.Errorf("FixedString padding not kept: %q", r.FS)
	}
	if want := time.Date(2024, 1, 1, 0, 2, 3, 0, time.UTC); r.DT != want {
		t.Errorf("DateTime = %v, want %v", r.DT, want)
	}
	if r.Opt != nil {
		t.Errorf("nil *uint8 became %v", *r.Opt)
	}
}

func TestNestedArrayNullableString(t *testing.T) {
	type row struct {
		V [][]*string `ch:"v"`
	}
	cols := columnsOf([]struct{ name, typ string }{{"v", "Array(Array(Nullable(String)))"}})
	in := []row{{V: [][]*string{{nil, ptr("a")}, {}, {ptr(""), nil, ptr("ccc")}}}, {V: [][]*string{}}}
	data := encodeAll(t, cols, in)
	want := unhex("03 02 01 0001 61 00 03 0000 01 0003636363 00")
	if body := data[len(EncodeHeader(cols)):]; !bytes.Equal(body, want) {
		t.Errorf("wire = % x, want % x", body, want)
	}
	var out []row
	if err := Decode(data, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %#v", out)
	}
}

func TestLowCardinalitySharesStrings(t *testing.T) {
	type row struct {
		T string `ch:"t"`
	}
	cols := columnsOf([]struct{ name, typ string }{{"t", "LowCardinality(String)"}})
	in := make([]row, 100)
	for i := range in {
		in[i].T = []string{"alpha", "beta"}[i%2]
	}
	var out []row
	if err := Decode(encodeAll(t, cols, in), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatal("LowCardinality round trip differs")
	}
	if unsafeStringData(out[0].T) != unsafeStringData(out[2].T) {
		t.Error("equal LowCardinality strings were not shared")
	}
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	type row struct {
		S  string   `ch:"s"`
		B  []byte   `ch:"b"`
		F  []byte   `ch:"f"`
		AS []string `ch:"as"`
		L  string   `ch:"l"`
	}
	cols := columnsOf([]struct{ name, typ string }{
		{"s", "String"}, {"b", "String"}, {"f", "FixedString(3)"}, {"as", "Array(String)"}, {"l", "LowCardinality(String)"},
	})
	in := []row{{S: "sss", B: []byte("bbb"), F: []byte("fff"), AS: []string{"aaa"}, L: "lll"}}
	data := encodeAll(t, cols, in)
	var out []row
	if err := Decode(data, &out); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'X'
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("decoded values changed with the input buffer: %#v", out)
	}
}

func TestDecodeAppendsAndRestoresOnError(t *testing.T) {
	type row struct {
		A uint32 `ch:"a"`
		S string `ch:"s"`
	}
	cols := columnsOf([]struct{ name, typ string }{{"a", "UInt32"}, {"s", "String"}})
	data := encodeAll(t, cols, []row{{1, "x"}, {2, "y"}})

	existing := make([]row, 1, 10)
	existing[0] = row{99, "keep"}
	// Stale values in spare capacity must not leak into decoded rows.
	existing[:3][1] = row{77, "stale"}
	existing[:3][2] = row{77, "stale"}
	if err := Decode(data[:len(data)-1], &existing); err == nil {
		t.Fatal("truncated data decoded")
	}
	if len(existing) != 1 || existing[0] != (row{99, "keep"}) {
		t.Fatalf("dest changed on error: %v", existing)
	}
	if err := Decode(data, &existing); err != nil {
		t.Fatal(err)
	}
	if want := []row{{99, "keep"}, {1, "x"}, {2, "y"}}; !reflect.DeepEqual(existing, want) {
		t.Fatalf("got %v, want %v", existing, want)
	}

	// Columns in a different order than the fields, and extra fields.
	type wide struct {
		Extra int    `ch:"extra"`
		S     string `ch:"s"`
		A     uint32 `ch:"a"`
	}
	var w []*wide
	if err := Decode(data, &w); err != nil {
		t.Fatal(err)
	}
	if len(w) != 2 || *w[1] != (wide{S: "y", A: 2}) {
		t.Fatalf("got %+v", w)
	}

	// Header only (no rows) and empty data append nothing.
	var none []row
	if err := Decode(EncodeHeader(cols), &none); err != nil || len(none) != 0 {
		t.Fatalf("header only: %v %v", none, err)
	}
	if err := Decode(nil, &none); err != nil || len(none) != 0 {
		t.Fatalf("empty: %v %v", none, err)
	}
}

func TestMappingErrors(t *testing.T) {
	type row struct {
		A uint32 `ch:"a"`
		S string `ch:"s"`
	}
	hdr := func(defs ...string) []byte {
		var cols []Column
		for i := 0; i < len(defs); i += 2 {
			cols = append(cols, Column{Name: defs[i], Type: MustParseType(defs[i+1])})
		}
		return EncodeHeader(cols)
	}
	cases := []struct {
		name   string
		data   []byte
		dest   any
		substr []string
	}{
		{"missing field", hdr("a", "UInt32", "nope", "String"), &[]row{}, []string{`"nope"`, "rowbinary.row"}},
		{"type mismatch", hdr("a", "String"), &[]row{}, []string{`"a"`, "String", "uint32", "row.A"}},
		{"narrowing", hdr("a", "UInt64"), &[]row{}, []string{"UInt64", "uint32"}},
		{"nullable into value", hdr("s", "Nullable(String)"), &[]row{}, []string{"Nullable(String)", "string"}},
		{"array into scalar", hdr("s", "Array(String)"), &[]row{}, []string{"Array(String)"}},
		{"duplicate column", hdr("a", "UInt32", "a", "UInt32"), &[]row{}, []string{`"a"`}},
		{"not a pointer", hdr("a", "UInt32"), []row{}, []string{"pointer"}},
		{"nil pointer", hdr("a", "UInt32"), (*[]row)(nil), []string{"pointer"}},
		{"not a slice", hdr("a", "UInt32"), &row{}, []string{"slice"}},
		{"slice of ints", hdr("a", "UInt32"), &[]int{}, []string{"int"}},
		{"nil dest", hdr("a", "UInt32"), nil, []string{"nil"}},
	}
	for _, c := range cases {
		err := Decode(c.data, c.dest)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, clickhouse.ErrBadRows) {
			t.Errorf("%s: %v does not wrap ErrBadRows", c.name, err)
		}
		for _, s := range c.substr {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not mention %q", c.name, err, s)
			}
		}
	}

	// Decoding into Go types that cannot hold the column.
	for _, c := range []struct {
		typ string
		gt  reflect.Type
	}{
		{"UUID", reflect.TypeFor[[]byte]()},
		{"UUID", reflect.TypeFor[[15]byte]()},
		{"FixedString(4)", reflect.TypeFor[[5]byte]()},
		{"Date", reflect.TypeFor[int64]()},
		{"DateTime64(3)", reflect.TypeFor[string]()},
		{"Enum8('a' = 1)", reflect.TypeFor[int8]()},
		{"Bool", reflect.TypeFor[uint8]()},
		{"String", reflect.TypeFor[[]int8]()},
		{"String", reflect.TypeFor[any]()},
		{"Array(String)", reflect.TypeFor[[]int]()},
		{"Array(String)", reflect.TypeFor[[2]string]()},
		{"Map(String, UInt64)", reflect.TypeFor[map[string]int64]()},
		{"Map(String, UInt64)", reflect.TypeFor[map[int]uint64]()},
		{"Array(Nullable(String))", reflect.TypeFor[[]string]()},
	} {
		if _, err := decodeValues(t, c.typ, nil, c.gt); !errors.Is(err, clickhouse.ErrBadRows) {
			t.Errorf("%s into %s: %v, want ErrBadRows", c.typ, c.gt, err)
		}
	}
}

func TestStructTagErrors(t *testing.T) {
	type dup struct {
		A string `ch:"x"`
		B string `ch:"x"`
	}
	type unexported struct {
		a string `ch:"a"` //nolint:unused
	}
	type empty struct {
		A string `ch:""`
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[dup](), reflect.TypeFor[unexported](), reflect.TypeFor[empty](), reflect.TypeFor[int](), nil} {
		if _, err := Fields(typ); !errors.Is(err, clickhouse.ErrBadRows) {
			t.Errorf("Fields(%v) = %v, want ErrBadRows", typ, err)
		}
	}
	var d []dup
	if err := Decode(EncodeHeader([]Column{{Name: "x", Type: MustParseType("String")}}), &d); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("decode into duplicate-tag struct: %v", err)
	}

	names, err := Fields(reflect.TypeFor[allTypes]())
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(allColumns) {
		t.Fatalf("Fields: %d names, want %d", len(names), len(allColumns))
	}
	for i, c := range allColumns {
		if names[i] != c.name {
			t.Errorf("Fields[%d] = %q, want %q", i, names[i], c.name)
		}
	}
	if p, err := Fields(reflect.TypeFor[*allTypes]()); err != nil || len(p) != len(names) {
		t.Errorf("Fields(*allTypes) = %v, %v", p, err)
	}
	type opts struct {
		A string `ch:"a,omitempty"`
	}
	if n, err := Fields(reflect.TypeFor[opts]()); err != nil || !reflect.DeepEqual(n, []string{"a"}) {
		t.Errorf("Fields(opts) = %v, %v", n, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	type row struct {
		A  uint32  `ch:"a"`
		P  *string `ch:"p"`
		E  string  `ch:"e"`
		U  string  `ch:"u"`
		AT []*int8 `ch:"at"`
	}
	col := func(name, typ string) Column { return Column{Name: name, Type: MustParseType(typ)} }
	good := row{P: ptr("x"), E: "a", U: "61f0c404-5cb3-11e7-907b-a6006ad3dba0", AT: []*int8{ptr(int8(1))}}
	all := []Column{col("a", "UInt32"), col("p", "String"), col("e", "Enum8('a' = 1)"), col("u", "UUID"), col("at", "Array(Int8)")}
	if _, err := EncodeRows(all, []row{good}); err != nil {
		t.Fatalf("good row: %v", err)
	}
	with := func(f func(*row)) []row {
		r := good
		f(&r)
		return []row{good, r}
	}
	cases := []struct {
		name   string
		cols   []Column
		rows   any
		substr []string
	}{
		{"nil for non-nullable", all, with(func(r *row) { r.P = nil }), []string{"row 1", `"p"`, "nil"}},
		{"unknown enum", all, with(func(r *row) { r.E = "b" }), []string{`"b"`, "Enum8"}},
		{"bad uuid", all, with(func(r *row) { r.U = "not-a-uuid" }), []string{"UUID", `"u"`}},
		{"empty uuid", all, with(func(r *row) { r.U = "" }), []string{"UUID"}},
		{"nil array element", all, with(func(r *row) { r.AT = []*int8{ptr(int8(1)), nil} }), []string{"element 1", "nil"}},
		{"nil row", all, []*row{&good, nil}, []string{"row 1", "nil"}},
		{"missing field", []Column{col("zzz", "String")}, []row{good}, []string{`"zzz"`, "rowbinary.row"}},
		{"type mismatch", []Column{col("a", "String")}, []row{good}, []string{"row.A", "uint32", "String"}},
		{"narrowing", []Column{col("a", "UInt64")}, []row{good}, []string{"uint32", "UInt64"}},
		{"duplicate column", []Column{col("a", "UInt32"), col("a", "UInt32")}, []row{good}, []string{`"a"`}},
		{"no columns", nil, []row{good}, []string{"no columns"}},
		{"invalid type", []Column{{Name: "a"}}, []row{good}, []string{`"a"`}},
		{"not a slice", all, good, []string{"slice"}},
		{"slice of ints", all, []int{1}, []string{"int"}},
		{"nil rows", all, nil, []string{"slice"}},
	}
	for _, c := range cases {
		b, err := EncodeRows(c.cols, c.rows)
		if err == nil {
			t.Errorf("%s: encoded % x, want error", c.name, b)
			continue
		}
		if !errors.Is(err, clickhouse.ErrBadRows) {
			t.Errorf("%s: %v does not wrap ErrBadRows", c.name, err)
		}
		for _, s := range c.substr {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not mention %q", c.name, err, s)
			}
		}
	}
	// AppendRows leaves dst's length alone on error.
	var c Codec
	dst := []byte("prefix")
	out, err := c.AppendRows(dst, all, with(func(r *row) { r.E = "b" }))
	if err == nil || string(out) != "prefix" {
		t.Errorf("AppendRows on error = %q, %v", out, err)
	}
	// Empty rows encode to nothing but still check the mapping.
	if b, err := EncodeRows(all, []row{}); err != nil || len(b) != 0 {
		t.Errorf("no rows: % x %v", b, err)
	}
	if _, err := EncodeRows([]Column{col("zzz", "String")}, []row{}); err == nil {
		t.Error("no rows with an unmapped column: no error")
	}
	// A pointer to a slice works too.
	if _, err := EncodeRows(all, &[]row{good}); err != nil {
		t.Errorf("pointer to slice: %v", err)
	}
}

func TestCorruptInput(t *testing.T) {
	type row struct {
		V any               `ch:"-"`
		S string            `ch:"s"`
		N *string           `ch:"n"`
		E string            `ch:"e"`
		A []uint64          `ch:"a"`
		M map[string]string `ch:"m"`
	}
	cols := columnsOf([]struct{ name, typ string }{
		{"s", "String"}, {"n", "Nullable(String)"}, {"e", "Enum8('a' = 1)"}, {"a", "Array(UInt64)"}, {"m", "Map(String, String)"},
	})
	hdr := EncodeHeader(cols)
	valid := unhex("01 61 00 01 62 01 01 0100000000000000 01 01 6b 01 76")
	var ok []row
	if err := Decode(append(append([]byte{}, hdr...), valid...), &ok); err != nil {
		t.Fatalf("valid: %v", err)
	}
	cases := []struct {
		name string
		body string
	}{
		{"nullable flag 2", "01 61 02 01 62 01 00 00"},
		{"enum value 2", "01 61 01 02 00 00"},
		{"string length past end", "05 61"},
		{"huge string length", "ffffffffffffffff7f"},
		{"leb128 overflow", "ffffffffffffffffffff01"},
		{"leb128 11 bytes", "8080808080808080808000"},
		{"huge array", "01 61 01 01 ffffffffffffffff0f"},
		{"array longer than data", "01 61 01 01 02 0100000000000000"},
		{"huge map", "01 61 01 01 00 ffffffff0f"},
	}
	for _, c := range cases {
		var out []row
		err := Decode(append(append([]byte{}, hdr...), unhex(c.body)...), &out)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, err)
		}
		if len(out) != 0 {
			t.Errorf("%s: dest not restored: %v", c.name, out)
		}
		if err != nil && !strings.Contains(err.Error(), "row 0") {
			t.Errorf("%s: %q does not name the row", c.name, err)
		}
	}
	// Broken headers.
	for _, h := range []string{
		"00",                 // no columns
		"ff",                 // truncated count
		"02 0161",            // names missing
		"01 0161 05537472",   // type truncated
		"01 0161 03 666f6f",  // unknown type "foo"
		"ffffffffffffffff7f", // absurd column count
	} {
		var out []row
		if err := Decode(unhex(h), &out); err == nil {
			t.Errorf("header % s: no error", h)
		}
	}
	if _, _, err := ReadHeader(unhex("01 0161 03 666f6f")); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("ReadHeader with unknown type: %v", err)
	}
	gotCols, n, err := ReadHeader(append(append([]byte{}, hdr...), valid...))
	if err != nil || n != len(hdr) || !reflect.DeepEqual(gotCols, cols) {
		t.Errorf("ReadHeader = %v, %d, %v", gotCols, n, err)
	}
}

// TestTruncatedEverywhere cuts a valid payload at every byte offset: each
// cut either ends exactly on a row boundary (and decodes those rows) or
// fails with an error, and none panics.
func TestTruncatedEverywhere(t *testing.T) {
	cols := columnsOf(allColumns)
	rows := sampleRows()
	hdr := EncodeHeader(cols)
	boundaries := map[int]int{len(hdr): 0}
	end := len(hdr)
	var data []byte
	data = append(data, hdr...)
	for i := range rows {
		b, err := EncodeRows(cols, rows[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b...)
		end += len(b)
		boundaries[end] = i + 1
	}
	var c Codec
	for k := range len(data) {
		var out []allTypes
		err := c.Decode(data[:k], &out)
		if n, ok := boundaries[k]; ok {
			if err != nil || len(out) != n {
				t.Errorf("cut at row boundary %d: %d rows, %v", k, len(out), err)
			}
			continue
		}
		if k == 0 {
			if err != nil {
				t.Errorf("empty input: %v", err)
			}
			continue
		}
		if err == nil {
			t.Errorf("cut at %d of %d: no error", k, len(data))
		}
		if len(out) != 0 {
			t.Errorf("cut at %d: dest changed on error", k)
		}
	}
}

func TestCodecConcurrent(t *testing.T) {
	cols := columnsOf(allColumns)
	rows := sampleRows()
	var c Codec
	data := encodeAll(t, cols, rows)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				var out []allTypes
				if err := c.Decode(data, &out); err != nil {
					errs <- err
					return
				}
				b, err := c.EncodeRows(cols, out)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(b, data[len(EncodeHeader(cols)):]) {
					errs <- errors.New("concurrent re-encode differs")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func unsafeStringData(s string) *byte { return unsafe.StringData(s) }
