package rowbinary

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/google/uuid"
)

// Column is one column of a RowBinary stream: its name and type.
type Column struct {
	Name string
	Type Type
}

// EncodeHeader returns the RowBinaryWithNamesAndTypes header for columns:
// the LEB128 column count, the names, then the types as the server prints
// them.
func EncodeHeader(columns []Column) []byte {
	return AppendHeader(nil, columns)
}

// AppendHeader appends the RowBinaryWithNamesAndTypes header for columns to
// dst.
func AppendHeader(dst []byte, columns []Column) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(columns)))
	for _, c := range columns {
		dst = appendString(dst, c.Name)
	}
	for _, c := range columns {
		dst = appendString(dst, c.Type.String())
	}
	return dst
}

func appendString(b []byte, s string) []byte {
	if len(s) < 0x80 {
		b = append(b, byte(len(s)))
	} else {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	return append(b, s...)
}

// encFn appends the value at p to b.
type encFn func(b []byte, p unsafe.Pointer) ([]byte, error)

type encCol struct {
	name string
	typ  Type
	off  uintptr
	fn   encFn
}

type encPlan struct {
	cols []encCol
}

func buildEncodePlan(st reflect.Type, columns []Column) (*encPlan, error) {
	if len(columns) == 0 {
		return nil, fmt.Errorf("%w: rowbinary: no columns to encode", clickhouse.ErrBadRows)
	}
	fields, err := structFields(st)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	plan := &encPlan{cols: make([]encCol, len(columns))}
	seen := make(map[string]bool, len(columns))
	for i, c := range columns {
		if seen[c.Name] {
			return nil, fmt.Errorf("%w: rowbinary: column %q is listed twice", clickhouse.ErrBadRows, c.Name)
		}
		seen[c.Name] = true
		if c.Type.Kind == KindInvalid {
			return nil, fmt.Errorf("%w: rowbinary: column %q has no type", clickhouse.ErrBadRows, c.Name)
		}
		f, ok := byName[c.Name]
		if !ok {
			return nil, fmt.Errorf("%w: rowbinary: column %q (%s) has no ch-tagged field in %s", clickhouse.ErrBadRows, c.Name, c.Type, st)
		}
		fn, ok := encoderFor(c.Type, f.typ)
		if !ok {
			return nil, fmt.Errorf("%w: rowbinary: field %s.%s of type %s cannot be encoded as column %q of type %s",
				clickhouse.ErrBadRows, st, f.goName, f.typ, c.Name, c.Type)
		}
		plan.cols[i] = encCol{name: c.Name, typ: c.Type, off: f.offset, fn: fn}
	}
	return plan, nil
}

// valueErr is an error about one value that cannot be written.
func valueErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", clickhouse.ErrBadRows, fmt.Sprintf(format, args...))
}

// encoderFor returns the encoder of Go type gt as ClickHouse type t, or false
// if gt cannot be written as t.
func encoderFor(t Type, gt reflect.Type) (encFn, bool) {
	switch t.Kind {
	case KindLowCardinality:
		return encoderFor(*t.Elem, gt)
	case KindNullable:
		if gt.Kind() != reflect.Pointer {
			// A value that is never nil: always "not NULL".
			inner, ok := encoderFor(*t.Elem, gt)
			if !ok {
				return nil, false
			}
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				return inner(append(b, 0), p)
			}, true
		}
		inner, ok := encoderFor(*t.Elem, gt.Elem())
		if !ok {
			return nil, false
		}
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			pp := *(*unsafe.Pointer)(p)
			if pp == nil {
				return append(b, 1), nil
			}
			return inner(append(b, 0), pp)
		}, true
	}
	if gt.Kind() == reflect.Pointer {
		inner, ok := encoderFor(t, gt.Elem())
		if !ok {
			return nil, false
		}
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			pp := *(*unsafe.Pointer)(p)
			if pp == nil {
				return b, valueErr("nil pointer for non-Nullable column type %s", t)
			}
			return inner(b, pp)
		}, true
	}
	switch t.Kind {
	case KindString:
		switch {
		case gt.Kind() == reflect.String:
			return encString, true
		case isBytes(gt):
			return encBytes, true
		}
	case KindFixedString:
		n := t.N
		switch {
		case gt.Kind() == reflect.String:
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				return appendFixed(b, *(*string)(p), n)
			}, true
		case isBytes(gt):
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				return appendFixed(b, *(*[]byte)(p), n)
			}, true
		case isByteArray(gt, n):
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				return append(b, unsafe.Slice((*byte)(p), n)...), nil
			}, true
		}
	case KindUInt8, KindUInt16, KindUInt32, KindUInt64:
		return uintEncoder(t.Kind, gt)
	case KindInt8, KindInt16, KindInt32, KindInt64:
		return intEncoder(t.Kind, gt)
	case KindFloat32:
		if gt.Kind() == reflect.Float32 {
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				return binary.LittleEndian.AppendUint32(b, math.Float32bits(*(*float32)(p))), nil
			}, true
		}
	case KindFloat64:
		if gt.Kind() == reflect.Float64 {
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				return binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(p))), nil
			}, true
		}
	case KindBool:
		if gt.Kind() == reflect.Bool {
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				if *(*bool)(p) {
					return append(b, 1), nil
				}
				return append(b, 0), nil
			}, true
		}
	case KindUUID:
		switch {
		case isByteArray(gt, 16):
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				return appendUUID(b, (*[16]byte)(p)), nil
			}, true
		case gt.Kind() == reflect.String:
			return func(b []byte, p unsafe.Pointer) ([]byte, error) {
				s := *(*string)(p)
				u, err := uuid.Parse(s)
				if err != nil {
					return b, valueErr("%q is not a UUID", s)
				}
				return appendUUID(b, (*[16]byte)(&u)), nil
			}, true
		}
	case KindDate, KindDate32, KindDateTime, KindDateTime64:
		if gt == timeType {
			return timeEncoder(t), true
		}
	case KindEnum8, KindEnum16:
		if gt.Kind() == reflect.String {
			return enumEncoder(t), true
		}
	case KindArray:
		if gt.Kind() == reflect.Slice {
			return arrayEncoder(t, gt)
		}
	case KindMap:
		if gt.Kind() == reflect.Map {
			return mapEncoder(t, gt)
		}
	}
	return nil, false
}

func encString(b []byte, p unsafe.Pointer) ([]byte, error) {
	return appendString(b, *(*string)(p)), nil
}

func encBytes(b []byte, p unsafe.Pointer) ([]byte, error) {
	v := *(*[]byte)(p)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...), nil
}

func appendFixed[S string | []byte](b []byte, v S, n int) ([]byte, error) {
	if len(v) > n {
		return b, valueErr("%d bytes do not fit FixedString(%d)", len(v), n)
	}
	b = append(b, v...)
	for range n - len(v) {
		b = append(b, 0)
	}
	return b, nil
}

// appendUUID writes u (RFC 4122 byte order) the way ClickHouse stores a
// UUID: two little-endian UInt64, the high half first.
func appendUUID(b []byte, u *[16]byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, binary.BigEndian.Uint64(u[0:8]))
	return binary.LittleEndian.AppendUint64(b, binary.BigEndian.Uint64(u[8:16]))
}

func appendUint(b []byte, w uintptr, v uint64) []byte {
	switch w {
	case 1:
		return append(b, byte(v))
	case 2:
		return binary.LittleEndian.AppendUint16(b, uint16(v))
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(v))
	default:
		return binary.LittleEndian.AppendUint64(b, v)
	}
}

// uintEncoder writes an unsigned Go integer at least as wide as the column,
// failing on values the column cannot hold.
func uintEncoder(k Kind, gt reflect.Type) (encFn, bool) {
	w, size := colWidth(k), gt.Size()
	if !isUintKind(gt.Kind()) || size < w {
		return nil, false
	}
	switch {
	case w == 1 && size == 1:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return append(b, *(*uint8)(p)), nil
		}, true
	case w == 2 && size == 2:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.LittleEndian.AppendUint16(b, *(*uint16)(p)), nil
		}, true
	case w == 4 && size == 4:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.LittleEndian.AppendUint32(b, *(*uint32)(p)), nil
		}, true
	case w == 8 && size == 8:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.LittleEndian.AppendUint64(b, *(*uint64)(p)), nil
		}, true
	}
	limit := uint64(1)<<(8*w) - 1
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		v := loadUint(p, size)
		if v > limit {
			return b, valueErr("%d overflows %s", v, k)
		}
		return appendUint(b, w, v), nil
	}, true
}

// intEncoder writes a signed Go integer at least as wide as the column,
// failing on values the column cannot hold.
func intEncoder(k Kind, gt reflect.Type) (encFn, bool) {
	w, size := colWidth(k), gt.Size()
	if !isIntKind(gt.Kind()) || size < w {
		return nil, false
	}
	if w == size {
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return appendUint(b, w, loadUint(p, size)), nil
		}, true
	}
	lo, hi := int64(-1)<<(8*w-1), int64(1)<<(8*w-1)-1
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		v := loadInt(p, size)
		if v < lo || v > hi {
			return b, valueErr("%d overflows %s", v, k)
		}
		return appendUint(b, w, uint64(v)), nil
	}, true
}

func loadUint(p unsafe.Pointer, size uintptr) uint64 {
	switch size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	default:
		return *(*uint64)(p)
	}
}

func loadInt(p unsafe.Pointer, size uintptr) int64 {
	switch size {
	case 1:
		return int64(*(*int8)(p))
	case 2:
		return int64(*(*int16)(p))
	case 4:
		return int64(*(*int32)(p))
	default:
		return *(*int64)(p)
	}
}

// Ranges ClickHouse documents for its date and time types. Values outside
// are refused rather than written for the server to misread.
const (
	minDate32Days = -25567 // 1900-01-01
	maxDate32Days = 120529 // 2299-12-31
	minDT64Sec    = -2208988800
	maxDT64Sec    = 10413791999 // 2299-12-31 23:59:59
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func timeEncoder(t Type) encFn {
	switch t.Kind {
	case KindDate:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			tm := (*time.Time)(p)
			days := floorDiv(tm.Unix(), 86400)
			if days < 0 || days > math.MaxUint16 {
				return b, valueErr("%s is outside the Date range [1970-01-01, 2149-06-06]", tm.UTC())
			}
			return binary.LittleEndian.AppendUint16(b, uint16(days)), nil
		}
	case KindDate32:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			tm := (*time.Time)(p)
			days := floorDiv(tm.Unix(), 86400)
			if days < minDate32Days || days > maxDate32Days {
				return b, valueErr("%s is outside the Date32 range [1900-01-01, 2299-12-31]", tm.UTC())
			}
			return binary.LittleEndian.AppendUint32(b, uint32(int32(days))), nil
		}
	case KindDateTime:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			tm := (*time.Time)(p)
			sec := tm.Unix()
			if sec < 0 || sec > math.MaxUint32 {
				return b, valueErr("%s is outside the DateTime range [1970-01-01 00:00:00, 2106-02-07 06:28:15]", tm.UTC())
			}
			return binary.LittleEndian.AppendUint32(b, uint32(sec)), nil
		}
	default: // DateTime64
		scale, div := pow10[t.Precision], pow10[9-t.Precision]
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			tm := (*time.Time)(p)
			sec := tm.Unix()
			frac := int64(tm.Nanosecond()) / div
			if sec < minDT64Sec || sec > maxDT64Sec || sec > (math.MaxInt64-frac)/scale {
				return b, valueErr("%s is outside the DateTime64(%d) range", tm.UTC(), t.Precision)
			}
			return binary.LittleEndian.AppendUint64(b, uint64(sec*scale+frac)), nil
		}
	}
}

func enumEncoder(t Type) encFn {
	values := make(map[string]int16, len(t.Enum))
	for _, e := range t.Enum {
		values[e.Name] = e.Value
	}
	w := uintptr(1)
	if t.Kind == KindEnum16 {
		w = 2
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		s := *(*string)(p)
		v, ok := values[s]
		if !ok {
			return b, valueErr("%q is not a name of %s", s, t)
		}
		return appendUint(b, w, uint64(uint16(v))), nil
	}
}

func arrayEncoder(t Type, gt reflect.Type) (encFn, bool) {
	elemT, et := *t.Elem, gt.Elem()
	if elemT.unwrapLC().Kind == KindString && et.Kind() == reflect.String {
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			s := *(*[]string)(p)
			b = binary.AppendUvarint(b, uint64(len(s)))
			for _, v := range s {
				b = appendString(b, v)
			}
			return b, nil
		}, true
	}
	elem, ok := encoderFor(elemT, et)
	if !ok {
		return nil, false
	}
	esz := et.Size()
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		v := reflect.NewAt(gt, p).Elem()
		n := v.Len()
		b = binary.AppendUvarint(b, uint64(n))
		if n == 0 {
			return b, nil
		}
		base := v.UnsafePointer()
		var err error
		for i := range n {
			if b, err = elem(b, unsafe.Add(base, uintptr(i)*esz)); err != nil {
				return b, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return b, nil
	}, true
}

// mapEncoder writes a map with its keys in ascending order, so that equal
// maps always encode to equal bytes.
func mapEncoder(t Type, gt reflect.Type) (encFn, bool) {
	kt, vt := gt.Key(), gt.Elem()
	keyEnc, ok := encoderFor(*t.Key, kt)
	if !ok {
		return nil, false
	}
	valEnc, ok := encoderFor(*t.Elem, vt)
	if !ok {
		return nil, false
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		m := reflect.NewAt(gt, p).Elem()
		n := m.Len()
		b = binary.AppendUvarint(b, uint64(n))
		if n == 0 {
			return b, nil
		}
		keys := m.MapKeys()
		slices.SortFunc(keys, compareKeys)
		k, v := reflect.New(kt), reflect.New(vt)
		var err error
		for _, key := range keys {
			k.Elem().Set(key)
			v.Elem().Set(m.MapIndex(key))
			if b, err = keyEnc(b, k.UnsafePointer()); err != nil {
				return b, fmt.Errorf("map key: %w", err)
			}
			if b, err = valEnc(b, v.UnsafePointer()); err != nil {
				return b, fmt.Errorf("map value: %w", err)
			}
		}
		return b, nil
	}, true
}

// compareKeys orders map keys of the kinds a Map column can have.
func compareKeys(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.String:
		return strings.Compare(a.String(), b.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmp.Compare(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return cmp.Compare(a.Uint(), b.Uint())
	case reflect.Float32, reflect.Float64:
		return cmp.Compare(a.Float(), b.Float())
	case reflect.Bool:
		switch {
		case a.Bool() == b.Bool():
			return 0
		case a.Bool():
			return 1
		default:
			return -1
		}
	case reflect.Array:
		for i := range a.Len() {
			if c := compareKeys(a.Index(i), b.Index(i)); c != 0 {
				return c
			}
		}
		return 0
	case reflect.Struct:
		if a.Type() == timeType {
			return a.Interface().(time.Time).Compare(b.Interface().(time.Time))
		}
	}
	return 0
}

// maxPreGrow caps the buffer AppendRows reserves up front from its first
// row; past it the buffer grows as append does.
const maxPreGrow = 64 << 20

// EncodeRows is Codec.EncodeRows with a fresh Codec (no plan cache).
func EncodeRows(columns []Column, rows any) ([]byte, error) {
	var c Codec
	return c.EncodeRows(columns, rows)
}

// EncodeRows writes rows as plain RowBinary (no header): for each row, the
// values of columns in order, each taken from the field tagged with the
// column's name. rows is a slice (or pointer to a slice) of structs or of
// pointers to structs. Fields not named by columns are not written.
func (c *Codec) EncodeRows(columns []Column, rows any) ([]byte, error) {
	return c.AppendRows(nil, columns, rows)
}

// AppendRows is EncodeRows appending to dst. On error it returns dst
// unchanged in length.
func (c *Codec) AppendRows(dst []byte, columns []Column, rows any) ([]byte, error) {
	rv := reflect.ValueOf(rows)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Slice {
		return dst, fmt.Errorf("%w: rowbinary: rows must be a slice of structs, got %T", clickhouse.ErrBadRows, rows)
	}
	st, ptrRows, err := rowType(rv.Type().Elem())
	if err != nil {
		return dst, err
	}
	plan, err := c.encodePlan(st, columns)
	if err != nil {
		return dst, err
	}
	n := rv.Len()
	if n == 0 {
		return dst, nil
	}
	start := len(dst)
	data := rv.UnsafePointer()
	esz := rv.Type().Elem().Size()
	b := dst
	for i := range n {
		base := unsafe.Add(data, uintptr(i)*esz)
		if ptrRows {
			base = *(*unsafe.Pointer)(base)
			if base == nil {
				return dst[:start], fmt.Errorf("%w: rowbinary: row %d is a nil pointer", clickhouse.ErrBadRows, i)
			}
		}
		for _, col := range plan.cols {
			if b, err = col.fn(b, unsafe.Add(base, col.off)); err != nil {
				return dst[:start], fmt.Errorf("rowbinary: row %d, column %q (%s): %w", i, col.name, col.typ, err)
			}
		}
		if i == 0 && n > 1 {
			// Size the buffer once from the first row, with 1/8 slack, but
			// never reserve more than maxPreGrow on one row's evidence.
			per := len(b) - start
			b = slices.Grow(b, min(per*(n-1)+per*(n-1)/8, maxPreGrow))
		}
	}
	return b, nil
}
