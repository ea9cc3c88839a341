package rowbinary

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// field is one ch-tagged field of a row struct.
type field struct {
	name   string // ch column name
	goName string // Go field name, for messages
	offset uintptr
	typ    reflect.Type
}

// structFields lists the ch-tagged fields of struct type t in field order.
// Only direct fields count: untagged fields, `ch:"-"` fields and fields of
// embedded structs are not mapped.
func structFields(t reflect.Type) ([]field, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: rowbinary: %s is not a struct", clickhouse.ErrBadRows, t)
	}
	var out []field
	seen := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("ch")
		if !ok || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			return nil, fmt.Errorf("%w: rowbinary: %s.%s has an empty ch tag", clickhouse.ErrBadRows, t, f.Name)
		}
		if !f.IsExported() {
			return nil, fmt.Errorf("%w: rowbinary: %s.%s is tagged ch:%q but unexported", clickhouse.ErrBadRows, t, f.Name, name)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%w: rowbinary: %s.%s and %s.%s are both tagged ch:%q", clickhouse.ErrBadRows, t, prev, t, f.Name, name)
		}
		seen[name] = f.Name
		out = append(out, field{name: name, goName: f.Name, offset: f.Offset, typ: f.Type})
	}
	return out, nil
}

// Fields returns the ch column names of row struct type t (or pointer to
// struct) in field order. It fails if t is not a struct or two fields carry
// the same tag.
func Fields(t reflect.Type) ([]string, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: rowbinary: nil type", clickhouse.ErrBadRows)
	}
	fs, err := structFields(t)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names, nil
}

// rowType returns the struct type of a slice element type S or *S, and
// whether elements are pointers.
func rowType(elem reflect.Type) (st reflect.Type, ptr bool, err error) {
	if elem.Kind() == reflect.Pointer && elem.Elem().Kind() == reflect.Struct {
		return elem.Elem(), true, nil
	}
	if elem.Kind() == reflect.Struct {
		return elem, false, nil
	}
	return nil, false, fmt.Errorf("%w: rowbinary: slice element %s is not a struct or pointer to struct", clickhouse.ErrBadRows, elem)
}
