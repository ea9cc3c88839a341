package clickhouse

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Params are server-side query parameters: Params{"tenant": "acme"} binds
// {tenant:String}. Values are Go values; Encode renders them in the text form
// the server parses for the placeholder's type.
type Params map[string]any

// Encoded is a parameter rendered for the wire: names and values in the
// same order, sorted by name so calls are deterministic.
type Encoded struct {
	Names  []string
	Values []string
}

// Encode renders every value. The server, not this code, gives the text its
// type: a value is data, never SQL.
func (p Params) Encode() (Encoded, error) {
	var e Encoded
	for name := range p {
		e.Names = append(e.Names, name)
	}
	sort.Strings(e.Names)
	for _, name := range e.Names {
		s, err := formatTop(p[name])
		if err != nil {
			return Encoded{}, fmt.Errorf("parameter %q: %w", name, err)
		}
		e.Values = append(e.Values, s)
	}
	return e, nil
}

// Map returns the encoded parameters as a name → value map.
func (e Encoded) Map() map[string]string {
	m := make(map[string]string, len(e.Names))
	for i, n := range e.Names {
		m[n] = e.Values[i]
	}
	return m
}

// formatTop renders a top-level parameter value. The server reads a
// top-level string in ClickHouse's Escaped text format, and composite values
// (arrays) as literals whose strings are Quoted, so strings differ between
// the two levels.
func formatTop(v any) (string, error) {
	v, null := deref(v)
	if null {
		return `\N`, nil
	}
	switch x := v.(type) {
	case string:
		return escape(x), nil
	case []byte:
		return escape(string(x)), nil
	case uuid.UUID:
		return x.String(), nil
	case time.Time:
		return formatTime(x), nil
	case fmt.Stringer:
		return escape(x.String()), nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return escape(rv.String()), nil
	}
	return format(v)
}

// format renders a value inside an array literal (and top-level values
// whose text is the same at both levels).
func format(v any) (string, error) {
	v, null := deref(v)
	if null {
		return "NULL", nil // a literal's NULL; formatTop renders \N
	}
	switch x := v.(type) {
	case string:
		return quote(x), nil
	case []byte:
		return quote(string(x)), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case time.Time:
		return quote(formatTime(x)), nil // inside an array; formatTop leaves it bare
	case uuid.UUID:
		return quote(x.String()), nil // inside an array; formatTop leaves it bare
	case fmt.Stringer:
		return quote(x.String()), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 64), nil
	case reflect.String:
		return quote(rv.String()), nil
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			s, err := format(rv.Index(i).Interface())
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ",") + "]", nil
	}
	return "", fmt.Errorf("unsupported parameter type %T", v)
}

// deref follows pointers to the value they point at, so that *string,
// *time.Time or *uuid.UUID render like their values (a nil pointer is NULL).
// A pointer whose type alone implements fmt.Stringer is kept, so its String
// method still renders it.
func deref(v any) (any, bool) {
	for {
		rv := reflect.ValueOf(v)
		if v == nil || rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, true
		}
		if rv.Kind() != reflect.Pointer {
			return v, false
		}
		elem := rv.Elem().Interface()
		if _, ptrStringer := v.(fmt.Stringer); ptrStringer {
			if _, valStringer := elem.(fmt.Stringer); !valStringer {
				return v, false
			}
		}
		v = elem
	}
}

// formatTime renders UTC time as ClickHouse text: whole seconds fit
// DateTime and DateTime64 placeholders alike; a fraction needs DateTime64.
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format(time.DateTime)
	}
	return t.Format("2006-01-02 15:04:05.000000000")
}

var escaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

// escape renders s in ClickHouse's Escaped format.
func escape(s string) string { return escaper.Replace(s) }

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

// quote renders s as a ClickHouse quoted string literal, for array elements.
func quote(s string) string { return "'" + quoter.Replace(s) + "'" }
