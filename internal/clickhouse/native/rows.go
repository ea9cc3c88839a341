package native

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// structFields is the ch-tag layout of a row struct: column names in field
// order. It mirrors clickhouse-go's own struct mapping (tag name, `ch:"-"`
// skipped, embedded non-pointer structs flattened) but only counts tagged
// fields as columns.
type structFields struct {
	columns []string
	byName  map[string]bool
}

var fieldCache sync.Map // reflect.Type → *structFields or error

// tableRe is a plain identifier, optionally qualified by a database.
var tableRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// columnRe is a ch tag usable as an INSERT column: an identifier, or a
// Nested subcolumn such as "n.a".
var columnRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func fieldsOf(t reflect.Type) (*structFields, error) {
	if v, ok := fieldCache.Load(t); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*structFields), nil
	}
	f := &structFields{byName: map[string]bool{}}
	err := collect(t, f)
	if err == nil && len(f.columns) == 0 {
		err = fmt.Errorf("%w: %s has no ch-tagged fields", clickhouse.ErrBadRows, t)
	}
	if err != nil {
		fieldCache.Store(t, err)
		return nil, err
	}
	fieldCache.Store(t, f)
	return f, nil
}

func collect(t reflect.Type, f *structFields) error {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("ch")
		if tag == "-" {
			continue
		}
		if sf.Anonymous {
			// As clickhouse-go: embedded structs are flattened, embedded
			// pointers ignored.
			if sf.Type.Kind() == reflect.Struct {
				if err := collect(sf.Type, f); err != nil {
					return err
				}
			}
			continue
		}
		if !hasTag || tag == "" {
			continue
		}
		if !sf.IsExported() {
			return fmt.Errorf("%w: %s.%s has ch tag %q but is unexported", clickhouse.ErrBadRows, t, sf.Name, tag)
		}
		if f.byName[tag] {
			return fmt.Errorf("%w: %s: duplicate ch tag %q", clickhouse.ErrBadRows, t, tag)
		}
		f.byName[tag] = true
		f.columns = append(f.columns, tag)
	}
	return nil
}

// sliceOfStructs checks that v is a slice of structs or of pointers to
// structs and returns the struct type and whether elements are pointers.
func sliceOfStructs(v reflect.Value, what string) (reflect.Type, bool, error) {
	if v.Kind() != reflect.Slice {
		return nil, false, fmt.Errorf("%w: %s must be a slice of structs, not %s", clickhouse.ErrBadRows, what, v.Type())
	}
	elem := v.Type().Elem()
	ptr := elem.Kind() == reflect.Pointer
	if ptr {
		elem = elem.Elem()
	}
	if elem.Kind() != reflect.Struct {
		return nil, false, fmt.Errorf("%w: %s must be a slice of structs, not %s", clickhouse.ErrBadRows, what, v.Type())
	}
	return elem, ptr, nil
}

// columnList renders the INSERT column list, each name backquoted.
func columnList(cols []string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("`" + c + "`")
	}
	return b.String()
}
