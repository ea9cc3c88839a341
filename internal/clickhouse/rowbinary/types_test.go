package rowbinary

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseTypeCanonical(t *testing.T) {
	// Each input parses, and String prints the server's form (want, or the
	// input itself when want is empty), which parses back to the same Type.
	cases := []struct{ in, want string }{
		{"String", ""},
		{"FixedString(16)", ""},
		{"UInt8", ""}, {"UInt16", ""}, {"UInt32", ""}, {"UInt64", ""},
		{"Int8", ""}, {"Int16", ""}, {"Int32", ""}, {"Int64", ""},
		{"Float32", ""}, {"Float64", ""},
		{"Bool", ""},
		{"UUID", ""},
		{"Date", ""}, {"Date32", ""},
		{"DateTime", ""},
		{"DateTime('UTC')", ""},
		{"DateTime('Europe/Amsterdam')", ""},
		{"DateTime64(3)", ""},
		{"DateTime64(9, 'UTC')", ""},
		{"DateTime64(0,'Asia/Tokyo')", "DateTime64(0, 'Asia/Tokyo')"},
		{"Enum8('a' = 1, 'b' = 2)", ""},
		{"Enum8('a' = -128, 'b' = 127)", ""},
		{"Enum8('a', 'b')", "Enum8('a' = 1, 'b' = 2)"},
		{"Enum16('x' = -32768, 'y' = 32767)", ""},
		{`Enum16('f\'' = 1, 'x =' = 2, 'b\'\'' = 3, '\'c=4=' = 42, '4' = 1234)`, ""},
		{`Enum8('a''b' = 1)`, `Enum8('a\'b' = 1)`},
		{`Enum8('tab\there' = 1, 'nul\0' = 2, 'back\\slash' = 3, '\x41' = 4)`, `Enum8('tab\there' = 1, 'nul\0' = 2, 'back\\slash' = 3, 'A' = 4)`},
		{"Array(String)", ""},
		{"Array(Array(Nullable(UInt32)))", ""},
		{"Nullable(String)", ""},
		{"LowCardinality(String)", ""},
		{"LowCardinality(Nullable(String))", ""},
		{"Map(String, UInt64)", ""},
		{"Map(String,UInt64)", "Map(String, UInt64)"},
		{" Map ( LowCardinality(String) , Array(Nullable(String)) ) ", "Map(LowCardinality(String), Array(Nullable(String)))"},
		{"Map(UUID, Map(String, DateTime64(6, 'UTC')))", ""},
		{"Array(Enum8('x' = 1))", ""},
	}
	for _, c := range cases {
		typ, err := ParseType(c.in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", c.in, err)
			continue
		}
		want := c.want
		if want == "" {
			want = c.in
		}
		if got := typ.String(); got != want {
			t.Errorf("ParseType(%q).String() = %q, want %q", c.in, got, want)
		}
		again, err := ParseType(typ.String())
		if err != nil {
			t.Errorf("ParseType(%q) (re-parse): %v", typ.String(), err)
			continue
		}
		if !reflect.DeepEqual(again, typ) {
			t.Errorf("re-parse of %q differs: %#v vs %#v", typ.String(), again, typ)
		}
	}
}

func TestParseTypeFields(t *testing.T) {
	typ := MustParseType("DateTime64(6, 'Europe/Amsterdam')")
	if typ.Kind != KindDateTime64 || typ.Precision != 6 || typ.Timezone != "Europe/Amsterdam" {
		t.Errorf("DateTime64: %#v", typ)
	}
	typ = MustParseType("FixedString(3)")
	if typ.Kind != KindFixedString || typ.N != 3 {
		t.Errorf("FixedString: %#v", typ)
	}
	typ = MustParseType(`Enum16('f\'' = 1, '\'c=4=' = 42)`)
	want := []EnumValue{{"f'", 1}, {"'c=4=", 42}}
	if typ.Kind != KindEnum16 || !reflect.DeepEqual(typ.Enum, want) {
		t.Errorf("Enum16: %#v", typ)
	}
	typ = MustParseType("Map(LowCardinality(String), Nullable(UInt8))")
	if typ.Kind != KindMap || typ.Key.Kind != KindLowCardinality || typ.Key.Elem.Kind != KindString ||
		typ.Elem.Kind != KindNullable || typ.Elem.Elem.Kind != KindUInt8 {
		t.Errorf("Map: %#v", typ)
	}
}

func TestParseTypeErrors(t *testing.T) {
	cases := []string{
		"",
		"   ",
		"Tuple(String, UInt8)",
		"Decimal(10, 2)",
		"IPv4",
		"Int128",
		"string", // names are case-sensitive, as the server prints them
		"String(3)",
		"UInt8()",
		"FixedString",
		"FixedString()",
		"FixedString(0)",
		"FixedString(-1)",
		"FixedString(16777216)",
		"FixedString(x)",
		"DateTime64",
		"DateTime64(10)",
		"DateTime64(-1)",
		"DateTime64(3, UTC)",
		"DateTime64(3, 'UTC'",
		"DateTime(UTC)",
		"DateTime('UTC",
		"Enum8()",
		"Enum8('a' = 128)",
		"Enum8('a' = -129)",
		"Enum16('a' = 32768)",
		"Enum8('a' = 1, 'a' = 2)",
		"Enum8('a' = 1, 'b' = 1)",
		"Enum8('a' = )",
		`Enum8('a\' = 1)`,
		`Enum8('\x4' = 1)`,
		"Array",
		"Array()",
		"Array(String",
		"Array(String))",
		"Array(Strin)",
		"Nullable(Nullable(String))",
		"Nullable(Array(String))",
		"Nullable(LowCardinality(String))",
		"LowCardinality(Array(String))",
		"LowCardinality(LowCardinality(String))",
		"Map(String)",
		"Map(Nullable(String), UInt8)",
		"Map(Array(String), UInt8)",
		"Map(String, UInt8, UInt8)",
		"String String",
		strings.Repeat("Array(", 40) + "String" + strings.Repeat(")", 40),
	}
	for _, c := range cases {
		if typ, err := ParseType(c); !errors.Is(err, ErrType) {
			t.Errorf("ParseType(%q) = %v, %v; want ErrType", c, typ, err)
		}
	}
}

func TestMinSizeAtLeastOne(t *testing.T) {
	for _, s := range []string{"String", "Nullable(UInt64)", "Array(UInt64)", "Map(String, String)",
		"LowCardinality(String)", "FixedString(1)", "Bool", "UUID", "DateTime64(3)"} {
		if n := MustParseType(s).minSize(); n < 1 {
			t.Errorf("%s.minSize() = %d", s, n)
		}
	}
}
