package rowbinary

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// oneField builds a struct type with a single field V of type gt tagged
// `ch:"v"`, so table tests can run any Go type through the codec.
func oneField(gt reflect.Type) reflect.Type {
	return reflect.StructOf([]reflect.StructField{{Name: "V", Type: gt, Tag: `ch:"v"`}})
}

// encodeValue encodes v as the single column v of type typ.
func encodeValue(t *testing.T, typ string, v any) ([]byte, error) {
	t.Helper()
	st := oneField(reflect.TypeOf(v))
	rows := reflect.MakeSlice(reflect.SliceOf(st), 1, 1)
	rows.Index(0).Field(0).Set(reflect.ValueOf(v))
	return EncodeRows([]Column{{Name: "v", Type: MustParseType(typ)}}, rows.Interface())
}

// decodeValues decodes wire (rows of the single column v of type typ, no
// header) into values of Go type gt.
func decodeValues(t *testing.T, typ string, wire []byte, gt reflect.Type) ([]any, error) {
	t.Helper()
	st := oneField(gt)
	dest := reflect.New(reflect.SliceOf(st))
	data := append(EncodeHeader([]Column{{Name: "v", Type: MustParseType(typ)}}), wire...)
	if err := Decode(data, dest.Interface()); err != nil {
		return nil, err
	}
	var out []any
	for i := range dest.Elem().Len() {
		out = append(out, dest.Elem().Index(i).Field(0).Interface())
	}
	return out, nil
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		panic(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// TestDocumentedVectors checks the byte sequences given in ClickHouse's
// RowBinary documentation, in both directions.
func TestDocumentedVectors(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	cases := []struct {
		name string
		typ  string
		val  any
		wire string
	}{
		{"string", "String", "foobar", "06 666f6f626172"},
		{"string bytes", "String", []byte("foobar"), "06 666f6f626172"},
		{"empty string", "String", "", "00"},
		{"fixedstring empty", "FixedString(3)", "\x00\x00\x00", "000000"},
		{"fixedstring hi", "FixedString(3)", "hi\x00", "686900"},
		{"fixedstring hi bytes", "FixedString(3)", []byte("hi\x00"), "686900"},
		{"fixedstring bar", "FixedString(3)", "bar", "626172"},
		{"fixedstring array", "FixedString(3)", [3]byte{'b', 'a', 'r'}, "626172"},
		{"uint32 42", "UInt32", uint32(42), "2a000000"},
		{"int8 -1", "Int8", int8(-1), "ff"},
		{"int16 -2", "Int16", int16(-2), "feff"},
		{"int64 min", "Int64", int64(-1 << 63), "0000000000000080"},
		{"uint64 max", "UInt64", uint64(1<<64 - 1), "ffffffffffffffff"},
		{"uint16", "UInt16", uint16(0x1234), "3412"},
		{"float32 1.0", "Float32", float32(1.0), "0000803f"},
		{"float64 100.5", "Float64", 100.5, "0000000000205940"},
		{"bool true", "Bool", true, "01"},
		{"bool false", "Bool", false, "00"},
		{"date 2024-01-15", "Date", utc(2024, 1, 15, 0, 0, 0, 0), "194d"},
		{"date32 2024-01-15", "Date32", utc(2024, 1, 15, 0, 0, 0, 0), "194d0000"},
		{"date32 1900-01-01", "Date32", utc(1900, 1, 1, 0, 0, 0, 0), "219cffff"},
		{"datetime", "DateTime('UTC')", utc(2024, 1, 15, 10, 30, 0, 0), "2809a565"},
		{"datetime64(3)", "DateTime64(3)", utc(2019, 1, 1, 0, 0, 0, 0), leHex(1546300800000)},
		{"datetime64(6)", "DateTime64(6)", utc(2024, 1, 15, 10, 30, 0, 123456000), leHex(1705314600123456)},
		{"datetime64(9)", "DateTime64(9, 'UTC')", utc(2024, 1, 15, 10, 30, 0, 123456789), leHex(1705314600123456789)},
		{"datetime64(3) -1 tick", "DateTime64(3)", utc(1969, 12, 31, 23, 59, 59, 999000000), "ffffffffffffffff"},
		{"datetime64(0) 1900", "DateTime64(0)", utc(1900, 1, 1, 0, 0, 0, 0), leHex(-2208988800)},
		{"uuid", "UUID", uuid.MustParse("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), "e711b35c04c4f061 a0dbd36a00a67b90"},
		{"uuid string", "UUID", "61f0c404-5cb3-11e7-907b-a6006ad3dba0", "e711b35c04c4f061 a0dbd36a00a67b90"},
		{"uuid nil", "UUID", uuid.Nil, strings.Repeat("00", 16)},
		{"nullable 42", "Nullable(UInt32)", ptr(uint32(42)), "00 2a000000"},
		{"nullable null", "Nullable(UInt32)", (*uint32)(nil), "01"},
		{"array uint32", "Array(UInt32)", []uint32{1, 2, 3}, "03 01000000 02000000 03000000"},
		{"array string", "Array(String)", []string{"foobar", "qaz"}, "02 06666f6f626172 0371617a"},
		{"array nullable string", "Array(Nullable(String))", []*string{nil, ptr("foo")}, "02 01 00 03666f6f"},
		{"map", "Map(String, UInt32)", map[string]uint32{"foo": 1, "bar": 2}, "02 03626172 02000000 03666f6f 01000000"},
		{"lowcardinality", "LowCardinality(String)", "foobar", "06 666f6f626172"},
		{"enum8", "Enum8('hello' = 1, 'world' = 2)", "hello", "01"},
		{"enum8 negative", "Enum8('a' = -128, 'b' = 0)", "a", "80"},
		{"enum16", `Enum16('f\'' = 1, 'x =' = 2, 'b\'\'' = 3, '\'c=4=' = 42, '4' = 1234)`, "'c=4=", "2a00"},
		{"enum16 1234", `Enum16('f\'' = 1, '4' = 1234)`, "4", "d204"},
		{"long string", "String", strings.Repeat("x", 200), "c801" + strings.Repeat("78", 200)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(c.wire)
			got, err := encodeValue(t, c.typ, c.val)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encode = % x, want % x", got, want)
			}
			vals, err := decodeValues(t, c.typ, want, reflect.TypeOf(c.val))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(vals) != 1 || !reflect.DeepEqual(vals[0], c.val) {
				t.Fatalf("decode = %#v, want %#v", vals, c.val)
			}
		})
	}
}

func leHex(v int64) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(uint64(v) >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// TestDecodeDocumentedMapOrder decodes the map exactly as the documentation
// lays it out (foo before bar).
func TestDecodeDocumentedMapOrder(t *testing.T) {
	vals, err := decodeValues(t, "Map(String, UInt32)", unhex("02 03666f6f 01000000 03626172 02000000"), reflect.TypeFor[map[string]uint32]())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]uint32{"foo": 1, "bar": 2}; !reflect.DeepEqual(vals[0], want) {
		t.Fatalf("got %v, want %v", vals[0], want)
	}
}

func TestUUIDStringDecode(t *testing.T) {
	vals, err := decodeValues(t, "UUID", unhex("e711b35c04c4f061 a0dbd36a00a67b90"), reflect.TypeFor[string]())
	if err != nil {
		t.Fatal(err)
	}
	if vals[0] != "61f0c404-5cb3-11e7-907b-a6006ad3dba0" {
		t.Fatalf("got %v", vals[0])
	}
}

func TestFixedStringPadding(t *testing.T) {
	wire := unhex("6869000000" + "0068690000" + "0000000000")
	strs, err := decodeValues(t, "FixedString(5)", wire, reflect.TypeFor[string]())
	if err != nil {
		t.Fatal(err)
	}
	// string fields keep every byte, padding included (the port's contract).
	if want := []any{"hi\x00\x00\x00", "\x00hi\x00\x00", "\x00\x00\x00\x00\x00"}; !reflect.DeepEqual(strs, want) {
		t.Errorf("string: got %q, want %q", strs, want)
	}
	bs, err := decodeValues(t, "FixedString(5)", wire, reflect.TypeFor[[]byte]())
	if err != nil {
		t.Fatal(err)
	}
	// []byte fields keep all N bytes.
	if want := []any{[]byte("hi\x00\x00\x00"), []byte("\x00hi\x00\x00"), make([]byte, 5)}; !reflect.DeepEqual(bs, want) {
		t.Errorf("bytes: got %q, want %q", bs, want)
	}
	arr, err := decodeValues(t, "FixedString(5)", wire, reflect.TypeFor[[5]byte]())
	if err != nil {
		t.Fatal(err)
	}
	if want := [5]byte{'h', 'i'}; arr[0] != want {
		t.Errorf("array: got %q", arr[0])
	}
	// Encoding pads; too long is an error.
	if got, err := encodeValue(t, "FixedString(5)", "hi"); err != nil || !bytes.Equal(got, unhex("6869000000")) {
		t.Errorf("encode hi = % x, %v", got, err)
	}
	if _, err := encodeValue(t, "FixedString(2)", "abc"); err == nil {
		t.Error("encode of 3 bytes into FixedString(2) succeeded")
	}
	if _, err := encodeValue(t, "FixedString(2)", []byte("abc")); err == nil {
		t.Error("encode of 3 bytes into FixedString(2) succeeded")
	}
}

func TestTimeZonesIgnored(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	in := time.Date(2024, 1, 15, 5, 30, 0, 123456789, ny) // 10:30:00.123456789 UTC
	for _, c := range []struct {
		typ  string
		want time.Time
	}{
		{"DateTime('Asia/Tokyo')", time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{"DateTime64(3, 'Europe/Amsterdam')", time.Date(2024, 1, 15, 10, 30, 0, 123000000, time.UTC)},
		{"DateTime64(6, 'America/New_York')", time.Date(2024, 1, 15, 10, 30, 0, 123456000, time.UTC)},
		{"DateTime64(9, 'UTC')", time.Date(2024, 1, 15, 10, 30, 0, 123456789, time.UTC)},
		{"Date", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"Date32", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
	} {
		wire, err := encodeValue(t, c.typ, in)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		vals, err := decodeValues(t, c.typ, wire, reflect.TypeFor[time.Time]())
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		got := vals[0].(time.Time)
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v (%v), want %v UTC", c.typ, got, got.Location(), c.want)
		}
	}
	// Before 1970 the day is floored too: 1969-12-31 12:00 is day -1.
	wire, err := encodeValue(t, "Date32", time.Date(1969, 12, 31, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex("ffffffff"); !bytes.Equal(wire, want) {
		t.Errorf("Date32 of 1969-12-31 12:00 = % x, want % x", wire, want)
	}
	// The UTC day, not the local one: 23:00 in New York is the next day in UTC.
	late := time.Date(2024, 1, 15, 23, 0, 0, 0, ny)
	wire, err = encodeValue(t, "Date", late)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex("1a4d"); !bytes.Equal(wire, want) { // 19738 = 2024-01-16
		t.Errorf("Date of %v = % x, want % x", late, wire, want)
	}
}

func TestDateTime64Precision(t *testing.T) {
	// Encoding truncates toward the past to the column's resolution, also
	// before 1970.
	cases := []struct {
		typ  string
		in   time.Time
		want int64
	}{
		{"DateTime64(3)", time.Date(2024, 1, 15, 10, 30, 0, 123999999, time.UTC), 1705314600123},
		{"DateTime64(9)", time.Date(2024, 1, 15, 10, 30, 0, 123999999, time.UTC), 1705314600123999999},
		{"DateTime64(0)", time.Date(2024, 1, 15, 10, 30, 0, 999999999, time.UTC), 1705314600},
		{"DateTime64(1)", time.Date(1970, 1, 1, 0, 0, 0, 100000000, time.UTC), 1},
		{"DateTime64(3)", time.Unix(-1, 999500000), -1}, // 1969-12-31 23:59:59.9995 → .999
		{"DateTime64(3)", time.Unix(0, -1), -1},         // 1 ns before epoch
		{"DateTime64(6)", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), -14182940000000},
		{"DateTime64(9)", time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), -2208988800000000000 + 1},
		{"DateTime64(9)", time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC), 1<<63 - 1},
		{"DateTime64(8)", time.Date(2299, 12, 31, 23, 59, 59, 999999999, time.UTC), 1041379199999999999},
	}
	for _, c := range cases {
		wire, err := encodeValue(t, c.typ, c.in)
		if err != nil {
			t.Errorf("%s %v: %v", c.typ, c.in, err)
			continue
		}
		if want := unhex(leHex(c.want)); !bytes.Equal(wire, want) {
			t.Errorf("%s %v: % x, want % x (%d)", c.typ, c.in, wire, want, c.want)
		}
		vals, err := decodeValues(t, c.typ, wire, reflect.TypeFor[time.Time]())
		if err != nil {
			t.Fatal(err)
		}
		p := MustParseType(c.typ).Precision
		res := time.Duration(pow10[9-p])
		if want := floorTo(c.in, res); !vals[0].(time.Time).Equal(want) {
			t.Errorf("%s: decoded %v, want %v", c.typ, vals[0], want)
		}
	}
}

// floorTo truncates t toward the past to a multiple of d since the epoch.
func floorTo(t time.Time, d time.Duration) time.Time {
	sec, ns := t.Unix(), int64(t.Nanosecond())
	return time.Unix(sec, ns-ns%int64(d)).UTC()
}

func TestTimeRanges(t *testing.T) {
	bad := []struct {
		typ string
		in  time.Time
	}{
		{"Date", time.Time{}},
		{"Date", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"Date", time.Date(2149, 6, 7, 0, 0, 0, 0, time.UTC)},
		{"Date32", time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"Date32", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"DateTime", time.Time{}},
		{"DateTime", time.Unix(-1, 0)},
		{"DateTime", time.Unix(1<<32, 0)},
		{"DateTime64(3)", time.Time{}},
		{"DateTime64(3)", time.Date(1899, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"DateTime64(3)", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"DateTime64(9)", time.Date(2262, 4, 11, 23, 47, 16, 854775808, time.UTC)},
	}
	for _, c := range bad {
		if wire, err := encodeValue(t, c.typ, c.in); err == nil {
			t.Errorf("%s %v encoded to % x, want error", c.typ, c.in, wire)
		}
	}
	good := []struct {
		typ string
		in  time.Time
	}{
		{"Date", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Date", time.Date(2149, 6, 6, 23, 0, 0, 0, time.UTC)},
		{"Date32", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Date32", time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"DateTime", time.Unix(0, 0)},
		{"DateTime", time.Unix(1<<32-1, 0)},
		{"DateTime64(3)", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"DateTime64(3)", time.Date(2299, 12, 31, 23, 59, 59, 999000000, time.UTC)},
	}
	for _, c := range good {
		wire, err := encodeValue(t, c.typ, c.in)
		if err != nil {
			t.Errorf("%s %v: %v", c.typ, c.in, err)
			continue
		}
		vals, err := decodeValues(t, c.typ, wire, reflect.TypeFor[time.Time]())
		if err != nil {
			t.Fatal(err)
		}
		if got := vals[0].(time.Time); c.typ != "Date" && !got.Equal(c.in) {
			t.Errorf("%s: %v round-tripped to %v", c.typ, c.in, got)
		}
	}
}

func TestIntegerWidening(t *testing.T) {
	// Decoding into a wider integer of the same signedness.
	vals, err := decodeValues(t, "Int8", unhex("ff 80 7f"), reflect.TypeFor[int64]())
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{int64(-1), int64(-128), int64(127)}; !reflect.DeepEqual(vals, want) {
		t.Errorf("Int8→int64: %v", vals)
	}
	vals, err = decodeValues(t, "UInt16", unhex("ffff"), reflect.TypeFor[uint]())
	if err != nil {
		t.Fatal(err)
	}
	if vals[0] != uint(65535) {
		t.Errorf("UInt16→uint: %v", vals)
	}
	vals, err = decodeValues(t, "Int32", unhex("feffffff"), reflect.TypeFor[int]())
	if err != nil || vals[0] != -2 {
		t.Errorf("Int32→int: %v %v", vals, err)
	}
	// Narrower or other signedness is a mapping error.
	for _, c := range []struct {
		typ string
		gt  reflect.Type
	}{
		{"Int16", reflect.TypeFor[int8]()},
		{"UInt8", reflect.TypeFor[int16]()},
		{"Int8", reflect.TypeFor[uint64]()},
		{"UInt64", reflect.TypeFor[uint32]()},
		{"Float64", reflect.TypeFor[float32]()},
		{"Float32", reflect.TypeFor[float64]()},
	} {
		if _, err := decodeValues(t, c.typ, nil, c.gt); err == nil {
			t.Errorf("%s into %s: no error", c.typ, c.gt)
		}
	}
	// Encoding from a wider integer is range-checked.
	if got, err := encodeValue(t, "UInt8", uint64(255)); err != nil || !bytes.Equal(got, []byte{255}) {
		t.Errorf("uint64(255) as UInt8: % x %v", got, err)
	}
	if _, err := encodeValue(t, "UInt8", uint64(256)); err == nil {
		t.Error("uint64(256) as UInt8: no error")
	}
	if got, err := encodeValue(t, "Int16", int64(-32768)); err != nil || !bytes.Equal(got, unhex("0080")) {
		t.Errorf("int64(-32768) as Int16: % x %v", got, err)
	}
	if _, err := encodeValue(t, "Int16", int64(-32769)); err == nil {
		t.Error("int64(-32769) as Int16: no error")
	}
	if _, err := encodeValue(t, "Int32", 1<<31); err == nil {
		t.Error("int(1<<31) as Int32: no error")
	}
	if got, err := encodeValue(t, "Int64", -5); err != nil || !bytes.Equal(got, unhex(leHex(-5))) {
		t.Errorf("int(-5) as Int64: % x %v", got, err)
	}
}
