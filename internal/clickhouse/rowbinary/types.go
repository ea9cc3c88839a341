package rowbinary

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is the base of a ClickHouse type.
type Kind uint8

// The kinds this codec supports.
const (
	KindInvalid Kind = iota
	KindString
	KindFixedString
	KindUInt8
	KindUInt16
	KindUInt32
	KindUInt64
	KindInt8
	KindInt16
	KindInt32
	KindInt64
	KindFloat32
	KindFloat64
	KindBool
	KindUUID
	KindDate
	KindDate32
	KindDateTime
	KindDateTime64
	KindEnum8
	KindEnum16
	KindArray
	KindNullable
	KindLowCardinality
	KindMap
)

var kindNames = [...]string{
	KindInvalid:        "Invalid",
	KindString:         "String",
	KindFixedString:    "FixedString",
	KindUInt8:          "UInt8",
	KindUInt16:         "UInt16",
	KindUInt32:         "UInt32",
	KindUInt64:         "UInt64",
	KindInt8:           "Int8",
	KindInt16:          "Int16",
	KindInt32:          "Int32",
	KindInt64:          "Int64",
	KindFloat32:        "Float32",
	KindFloat64:        "Float64",
	KindBool:           "Bool",
	KindUUID:           "UUID",
	KindDate:           "Date",
	KindDate32:         "Date32",
	KindDateTime:       "DateTime",
	KindDateTime64:     "DateTime64",
	KindEnum8:          "Enum8",
	KindEnum16:         "Enum16",
	KindArray:          "Array",
	KindNullable:       "Nullable",
	KindLowCardinality: "LowCardinality",
	KindMap:            "Map",
}

// String returns the ClickHouse name of the kind, e.g. "DateTime64".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// simpleKinds are the kinds written as a bare name, without arguments.
var simpleKinds = map[string]Kind{
	"String":   KindString,
	"UInt8":    KindUInt8,
	"UInt16":   KindUInt16,
	"UInt32":   KindUInt32,
	"UInt64":   KindUInt64,
	"Int8":     KindInt8,
	"Int16":    KindInt16,
	"Int32":    KindInt32,
	"Int64":    KindInt64,
	"Float32":  KindFloat32,
	"Float64":  KindFloat64,
	"Bool":     KindBool,
	"UUID":     KindUUID,
	"Date":     KindDate,
	"Date32":   KindDate32,
	"DateTime": KindDateTime,
}

// Limits on type strings, so that a hostile header cannot exhaust the stack
// or memory.
const (
	maxTypeDepth      = 32
	maxFixedString    = 0xFFFFFF // ClickHouse's own MAX_FIXEDSTRING_SIZE
	maxDateTime64Prec = 9
)

// EnumValue is one name = value pair of an Enum8 or Enum16.
type EnumValue struct {
	Name  string
	Value int16
}

// Type is a parsed ClickHouse column type. The zero Type is invalid.
//
// Only the fields that belong to Kind are set: N for FixedString, Precision
// for DateTime64, Timezone for DateTime and DateTime64 (empty when the type
// names none), Enum for Enum8/Enum16 in declaration order, Elem for Array,
// Nullable and LowCardinality and for a Map's value, Key for a Map's key.
type Type struct {
	Kind      Kind
	N         int
	Precision int
	Timezone  string
	Enum      []EnumValue
	Elem      *Type
	Key       *Type
}

// ParseType parses a ClickHouse type as the server prints it, e.g.
// "LowCardinality(Nullable(String))" or "DateTime64(3, 'UTC')". Types this
// codec does not support (Tuple, Decimal, IPv4, …) are an error.
func ParseType(s string) (Type, error) {
	p := typeParser{s: s}
	t, err := p.parse(0)
	if err == nil {
		p.ws()
		if p.i != len(p.s) {
			err = p.errorf("unexpected %q after type", p.s[p.i:])
		}
	}
	if err != nil {
		return Type{}, err
	}
	return t, nil
}

// MustParseType is ParseType that panics on error; for constants and tests.
func MustParseType(s string) Type {
	t, err := ParseType(s)
	if err != nil {
		panic(err)
	}
	return t
}

// String renders the type the way the server prints it, so that
// ParseType(t.String()) yields t again.
func (t Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t Type) write(b *strings.Builder) {
	switch t.Kind {
	case KindFixedString:
		fmt.Fprintf(b, "FixedString(%d)", t.N)
	case KindDateTime:
		b.WriteString("DateTime")
		if t.Timezone != "" {
			b.WriteByte('(')
			writeQuoted(b, t.Timezone)
			b.WriteByte(')')
		}
	case KindDateTime64:
		fmt.Fprintf(b, "DateTime64(%d", t.Precision)
		if t.Timezone != "" {
			b.WriteString(", ")
			writeQuoted(b, t.Timezone)
		}
		b.WriteByte(')')
	case KindEnum8, KindEnum16:
		b.WriteString(t.Kind.String())
		b.WriteByte('(')
		for i, e := range t.Enum {
			if i > 0 {
				b.WriteString(", ")
			}
			writeQuoted(b, e.Name)
			b.WriteString(" = ")
			b.WriteString(strconv.Itoa(int(e.Value)))
		}
		b.WriteByte(')')
	case KindArray, KindNullable, KindLowCardinality:
		b.WriteString(t.Kind.String())
		b.WriteByte('(')
		if t.Elem != nil {
			t.Elem.write(b)
		}
		b.WriteByte(')')
	case KindMap:
		b.WriteString("Map(")
		if t.Key != nil {
			t.Key.write(b)
		}
		b.WriteString(", ")
		if t.Elem != nil {
			t.Elem.write(b)
		}
		b.WriteByte(')')
	default:
		b.WriteString(t.Kind.String())
	}
}

// writeQuoted writes s as a ClickHouse single-quoted literal, escaping the
// way the server does (writeQuotedString).
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		case '\a':
			b.WriteString(`\a`)
		case '\v':
			b.WriteString(`\v`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
}

// unwrapLC returns t without any LowCardinality wrapper (it does not change
// the RowBinary encoding).
func (t Type) unwrapLC() Type {
	for t.Kind == KindLowCardinality && t.Elem != nil {
		t = *t.Elem
	}
	return t
}

// minSize is the fewest bytes one value of t takes on the wire. It is at
// least 1 for every valid type, which bounds lengths read from the wire by
// the bytes that remain.
func (t Type) minSize() int {
	switch t.Kind {
	case KindUInt8, KindInt8, KindBool, KindEnum8:
		return 1
	case KindUInt16, KindInt16, KindDate, KindEnum16:
		return 2
	case KindUInt32, KindInt32, KindFloat32, KindDate32, KindDateTime:
		return 4
	case KindUInt64, KindInt64, KindFloat64, KindDateTime64:
		return 8
	case KindUUID:
		return 16
	case KindFixedString:
		return max(t.N, 1)
	case KindLowCardinality:
		return t.Elem.minSize()
	default: // String, Array, Map: a length byte; Nullable: the flag byte
		return 1
	}
}

type typeParser struct {
	s string
	i int
}

// ErrType means a type string is malformed or names a type this codec does
// not support (Tuple, Decimal, …).
var ErrType = errors.New("rowbinary: unsupported or malformed type")

func (p *typeParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %q at offset %d: %s", ErrType, p.s, p.i, fmt.Sprintf(format, args...))
}

func (p *typeParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *typeParser) peek() byte {
	p.ws()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *typeParser) expect(c byte) error {
	if p.peek() != c {
		if p.i >= len(p.s) {
			return p.errorf("expected %q, got end of string", c)
		}
		return p.errorf("expected %q, got %q", c, p.s[p.i])
	}
	p.i++
	return nil
}

func (p *typeParser) ident() string {
	p.ws()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

// integer reads an optionally signed decimal integer.
func (p *typeParser) integer() (int64, error) {
	p.ws()
	start := p.i
	if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
		p.i++
	}
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	if err != nil {
		p.i = start
		return 0, p.errorf("expected an integer")
	}
	return v, nil
}

// quoted reads a single-quoted literal with ClickHouse escapes: backslash
// sequences (\\ \' \n \t \r \b \f \a \v \0 \xHH; any other escaped byte
// stands for itself) and a doubled quote (”).
func (p *typeParser) quoted() (string, error) {
	if p.peek() != '\'' {
		return "", p.errorf("expected a quoted string")
	}
	p.i++
	var b []byte
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\'':
			if p.i < len(p.s) && p.s[p.i] == '\'' {
				p.i++
				b = append(b, '\'')
				continue
			}
			return string(b), nil
		case '\\':
			if p.i >= len(p.s) {
				return "", p.errorf("unterminated escape")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case 'r':
				b = append(b, '\r')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'a':
				b = append(b, '\a')
			case 'v':
				b = append(b, '\v')
			case '0':
				b = append(b, 0)
			case 'x', 'X':
				if p.i+2 > len(p.s) {
					return "", p.errorf("short \\x escape")
				}
				v, err := strconv.ParseUint(p.s[p.i:p.i+2], 16, 8)
				if err != nil {
					return "", p.errorf("bad \\x escape")
				}
				p.i += 2
				b = append(b, byte(v))
			default:
				b = append(b, e)
			}
		default:
			b = append(b, c)
		}
	}
	return "", p.errorf("unterminated quoted string")
}

func (p *typeParser) parse(depth int) (Type, error) {
	if depth > maxTypeDepth {
		return Type{}, p.errorf("type nested deeper than %d", maxTypeDepth)
	}
	start := p.i
	name := p.ident()
	if name == "" {
		if p.i >= len(p.s) {
			return Type{}, p.errorf("expected a type name, got end of string")
		}
		return Type{}, p.errorf("expected a type name")
	}
	hasArgs := p.peek() == '('
	if k, ok := simpleKinds[name]; ok {
		if !hasArgs {
			return Type{Kind: k}, nil
		}
		if k != KindDateTime {
			p.i = start
			return Type{}, p.errorf("%s takes no arguments", name)
		}
	}
	if !hasArgs {
		switch name {
		case "FixedString", "DateTime64", "Enum8", "Enum16", "Array", "Nullable", "LowCardinality", "Map":
			return Type{}, p.errorf("%s needs arguments", name)
		}
		p.i = start
		return Type{}, p.errorf("unsupported type %s", name)
	}
	p.i++ // '('
	var t Type
	switch name {
	case "DateTime":
		tz, err := p.quoted()
		if err != nil {
			return Type{}, err
		}
		t = Type{Kind: KindDateTime, Timezone: tz}
	case "FixedString":
		n, err := p.integer()
		if err != nil {
			return Type{}, err
		}
		if n < 1 || n > maxFixedString {
			return Type{}, p.errorf("FixedString length %d out of range [1, %d]", n, maxFixedString)
		}
		t = Type{Kind: KindFixedString, N: int(n)}
	case "DateTime64":
		prec, err := p.integer()
		if err != nil {
			return Type{}, err
		}
		if prec < 0 || prec > maxDateTime64Prec {
			return Type{}, p.errorf("DateTime64 precision %d out of range [0, 9]", prec)
		}
		t = Type{Kind: KindDateTime64, Precision: int(prec)}
		if p.peek() == ',' {
			p.i++
			tz, err := p.quoted()
			if err != nil {
				return Type{}, err
			}
			t.Timezone = tz
		}
	case "Enum8", "Enum16":
		k, lo, hi := KindEnum8, int64(-128), int64(127)
		if name == "Enum16" {
			k, lo, hi = KindEnum16, -32768, 32767
		}
		vals, err := p.enumValues(lo, hi)
		if err != nil {
			return Type{}, err
		}
		t = Type{Kind: k, Enum: vals}
	case "Array", "Nullable", "LowCardinality":
		elem, err := p.parse(depth + 1)
		if err != nil {
			return Type{}, err
		}
		k := KindArray
		switch name {
		case "Nullable":
			k = KindNullable
		case "LowCardinality":
			k = KindLowCardinality
		}
		if err := checkWrapper(k, elem); err != nil {
			return Type{}, p.errorf("%v", err)
		}
		t = Type{Kind: k, Elem: &elem}
	case "Map":
		key, err := p.parse(depth + 1)
		if err != nil {
			return Type{}, err
		}
		if err := p.expect(','); err != nil {
			return Type{}, err
		}
		val, err := p.parse(depth + 1)
		if err != nil {
			return Type{}, err
		}
		switch key.unwrapLC().Kind {
		case KindNullable, KindArray, KindMap:
			return Type{}, p.errorf("Map key cannot be %s", key)
		}
		t = Type{Kind: KindMap, Key: &key, Elem: &val}
	default:
		p.i = start
		return Type{}, p.errorf("unsupported type %s", name)
	}
	if err := p.expect(')'); err != nil {
		return Type{}, err
	}
	return t, nil
}

// checkWrapper rejects combinations the server never produces.
func checkWrapper(k Kind, elem Type) error {
	switch k {
	case KindNullable:
		switch elem.Kind {
		case KindNullable, KindArray, KindMap, KindLowCardinality:
			return fmt.Errorf("Nullable(%s) is not a valid type", elem)
		}
	case KindLowCardinality:
		switch elem.Kind {
		case KindLowCardinality, KindArray, KindMap:
			return fmt.Errorf("LowCardinality(%s) is not a valid type", elem)
		}
	}
	return nil
}

func (p *typeParser) enumValues(lo, hi int64) ([]EnumValue, error) {
	var vals []EnumValue
	names := map[string]bool{}
	values := map[int16]bool{}
	next := int64(1)
	for {
		name, err := p.quoted()
		if err != nil {
			return nil, err
		}
		v := next
		if p.peek() == '=' {
			p.i++
			if v, err = p.integer(); err != nil {
				return nil, err
			}
		}
		if v < lo || v > hi {
			return nil, p.errorf("enum value %d out of range [%d, %d]", v, lo, hi)
		}
		if names[name] {
			return nil, p.errorf("duplicate enum name %q", name)
		}
		if values[int16(v)] {
			return nil, p.errorf("duplicate enum value %d", v)
		}
		names[name], values[int16(v)] = true, true
		vals = append(vals, EnumValue{Name: name, Value: int16(v)})
		next = v + 1
		if p.peek() != ',' {
			return vals, nil
		}
		p.i++
	}
}
