package rowbinary

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
	"unsafe"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/google/uuid"
)

// ErrCorrupt means the input is not valid RowBinary for its header: it is
// truncated, a length runs past the end, a Nullable flag or enum value is
// invalid, or the header cannot be parsed.
var ErrCorrupt = errors.New("rowbinary: malformed data")

var (
	errShort    = fmt.Errorf("%w: unexpected end of data", ErrCorrupt)
	errOverflow = fmt.Errorf("%w: LEB128 length overflows 64 bits", ErrCorrupt)
)

// maxIntern bounds the per-call table that shares LowCardinality strings.
const maxIntern = 1 << 14

// reader walks a RowBinary buffer. Every read is bounds-checked.
type reader struct {
	data   []byte
	off    int
	intern map[string]string
}

func (r *reader) remaining() int { return len(r.data) - r.off }

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.data)-r.off {
		return nil, errShort
	}
	b := r.data[r.off : r.off+n : r.off+n]
	r.off += n
	return b, nil
}

func (r *reader) u8() (byte, error) {
	if r.off >= len(r.data) {
		return 0, errShort
	}
	c := r.data[r.off]
	r.off++
	return c, nil
}

func (r *reader) u16() (uint16, error) {
	if len(r.data)-r.off < 2 {
		return 0, errShort
	}
	v := binary.LittleEndian.Uint16(r.data[r.off:])
	r.off += 2
	return v, nil
}

func (r *reader) u32() (uint32, error) {
	if len(r.data)-r.off < 4 {
		return 0, errShort
	}
	v := binary.LittleEndian.Uint32(r.data[r.off:])
	r.off += 4
	return v, nil
}

func (r *reader) u64() (uint64, error) {
	if len(r.data)-r.off < 8 {
		return 0, errShort
	}
	v := binary.LittleEndian.Uint64(r.data[r.off:])
	r.off += 8
	return v, nil
}

// uvarint reads an unsigned LEB128 number.
func (r *reader) uvarint() (uint64, error) {
	if r.off < len(r.data) && r.data[r.off] < 0x80 {
		v := uint64(r.data[r.off])
		r.off++
		return v, nil
	}
	var x uint64
	var s uint
	for i := range binary.MaxVarintLen64 {
		if r.off >= len(r.data) {
			return 0, errShort
		}
		c := r.data[r.off]
		r.off++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, errOverflow
			}
			return x | uint64(c)<<s, nil
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, errOverflow
}

// count reads a LEB128 element count and checks that that many elements of
// at least minSize bytes each fit in what remains, so that a corrupt length
// can never make the decoder allocate more than the input justifies.
func (r *reader) count(minSize int) (int, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	limit := uint64(r.remaining())
	if minSize > 1 {
		limit /= uint64(minSize)
	}
	if v > limit {
		return 0, fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrCorrupt, v, r.remaining())
	}
	return int(v), nil
}

// bytes reads a String: LEB128 length, then that many bytes. The result
// aliases the input.
func (r *reader) bytes() ([]byte, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	return r.take(n)
}

func (r *reader) internString(b []byte) string {
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.intern == nil {
		r.intern = make(map[string]string)
	}
	if len(r.intern) < maxIntern {
		r.intern[s] = s
	}
	return s
}

// ReadHeader parses the RowBinaryWithNamesAndTypes header at the start of
// data and returns its columns and its length in bytes.
func ReadHeader(data []byte) ([]Column, int, error) {
	r := reader{data: data}
	n, err := r.count(2) // each column has a name and a type, ≥ 1 byte each
	if err != nil {
		return nil, 0, fmt.Errorf("rowbinary: header: %w", err)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("%w: header has no columns", ErrCorrupt)
	}
	cols := make([]Column, n)
	for i := range cols {
		b, err := r.bytes()
		if err != nil {
			return nil, 0, fmt.Errorf("rowbinary: header: column %d name: %w", i, err)
		}
		cols[i].Name = string(b)
	}
	for i := range cols {
		b, err := r.bytes()
		if err != nil {
			return nil, 0, fmt.Errorf("rowbinary: header: column %q type: %w", cols[i].Name, err)
		}
		t, err := ParseType(string(b))
		if err != nil {
			return nil, 0, fmt.Errorf("rowbinary: header: column %q: %w", cols[i].Name, err)
		}
		cols[i].Type = t
	}
	return cols, r.off, nil
}

// headerLen finds the end of the header without allocating.
func headerLen(data []byte) (int, error) {
	r := reader{data: data}
	n, err := r.count(2)
	if err != nil {
		return 0, fmt.Errorf("rowbinary: header: %w", err)
	}
	for range 2 * n {
		if _, err := r.bytes(); err != nil {
			return 0, fmt.Errorf("rowbinary: header: %w", err)
		}
	}
	return r.off, nil
}

// decFn decodes one value into the Go value at p.
type decFn func(r *reader, p unsafe.Pointer) error

type decCol struct {
	name string
	typ  Type
	off  uintptr
	fn   decFn
}

type decPlan struct {
	st   reflect.Type
	cols []decCol
}

func buildDecodePlan(st reflect.Type, cols []Column) (*decPlan, error) {
	fields, err := structFields(st)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	plan := &decPlan{st: st, cols: make([]decCol, len(cols))}
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if seen[c.Name] {
			return nil, fmt.Errorf("%w: rowbinary: result has two columns named %q", clickhouse.ErrBadRows, c.Name)
		}
		seen[c.Name] = true
		f, ok := byName[c.Name]
		if !ok {
			return nil, fmt.Errorf("%w: rowbinary: column %q (%s) has no ch-tagged field in %s", clickhouse.ErrBadRows, c.Name, c.Type, st)
		}
		fn, ok := decoderFor(c.Type, f.typ, false)
		if !ok {
			return nil, fmt.Errorf("%w: rowbinary: column %q of type %s cannot be decoded into field %s.%s of type %s",
				clickhouse.ErrBadRows, c.Name, c.Type, st, f.goName, f.typ)
		}
		plan.cols[i] = decCol{name: c.Name, typ: c.Type, off: f.offset, fn: fn}
	}
	return plan, nil
}

var timeType = reflect.TypeFor[time.Time]()

func isBytes(gt reflect.Type) bool {
	return gt.Kind() == reflect.Slice && gt.Elem().Kind() == reflect.Uint8
}

func isByteArray(gt reflect.Type, n int) bool {
	return gt.Kind() == reflect.Array && gt.Elem().Kind() == reflect.Uint8 && gt.Len() == n
}

// decoderFor returns the decoder of ClickHouse type t into Go type gt, or
// false if gt cannot hold t. lc is set inside LowCardinality.
func decoderFor(t Type, gt reflect.Type, lc bool) (decFn, bool) {
	switch t.Kind {
	case KindLowCardinality:
		return decoderFor(*t.Elem, gt, true)
	case KindNullable:
		if gt.Kind() != reflect.Pointer {
			return nil, false
		}
		et := gt.Elem()
		inner, ok := decoderFor(*t.Elem, et, lc)
		if !ok {
			return nil, false
		}
		return func(r *reader, p unsafe.Pointer) error {
			flag, err := r.u8()
			if err != nil {
				return err
			}
			switch flag {
			case 1:
				*(*unsafe.Pointer)(p) = nil
				return nil
			case 0:
				v := reflect.New(et).UnsafePointer()
				if err := inner(r, v); err != nil {
					return err
				}
				*(*unsafe.Pointer)(p) = v
				return nil
			default:
				return fmt.Errorf("%w: Nullable flag is %d, not 0 or 1", ErrCorrupt, flag)
			}
		}, true
	}
	if gt.Kind() == reflect.Pointer {
		// A pointer field for a column that is never NULL: always set.
		et := gt.Elem()
		inner, ok := decoderFor(t, et, lc)
		if !ok {
			return nil, false
		}
		return func(r *reader, p unsafe.Pointer) error {
			v := reflect.New(et).UnsafePointer()
			if err := inner(r, v); err != nil {
				return err
			}
			*(*unsafe.Pointer)(p) = v
			return nil
		}, true
	}
	switch t.Kind {
	case KindString:
		switch {
		case gt.Kind() == reflect.String && lc:
			return decStringIntern, true
		case gt.Kind() == reflect.String:
			return decString, true
		case isBytes(gt):
			return decBytes, true
		}
	case KindFixedString:
		n := t.N
		switch {
		case gt.Kind() == reflect.String:
			return func(r *reader, p unsafe.Pointer) error {
				b, err := r.take(n)
				if err != nil {
					return err
				}
				if lc {
					*(*string)(p) = r.internString(b)
				} else {
					*(*string)(p) = string(b)
				}
				return nil
			}, true
		case isBytes(gt):
			return func(r *reader, p unsafe.Pointer) error {
				b, err := r.take(n)
				if err != nil {
					return err
				}
				c := make([]byte, n)
				copy(c, b)
				*(*[]byte)(p) = c
				return nil
			}, true
		case isByteArray(gt, n):
			return func(r *reader, p unsafe.Pointer) error {
				b, err := r.take(n)
				if err != nil {
					return err
				}
				copy(unsafe.Slice((*byte)(p), n), b)
				return nil
			}, true
		}
	case KindUInt8, KindUInt16, KindUInt32, KindUInt64:
		return uintDecoder(t.Kind, gt)
	case KindInt8, KindInt16, KindInt32, KindInt64:
		return intDecoder(t.Kind, gt)
	case KindFloat32:
		if gt.Kind() == reflect.Float32 {
			return func(r *reader, p unsafe.Pointer) error {
				v, err := r.u32()
				*(*float32)(p) = math.Float32frombits(v)
				return err
			}, true
		}
	case KindFloat64:
		if gt.Kind() == reflect.Float64 {
			return func(r *reader, p unsafe.Pointer) error {
				v, err := r.u64()
				*(*float64)(p) = math.Float64frombits(v)
				return err
			}, true
		}
	case KindBool:
		if gt.Kind() == reflect.Bool {
			return func(r *reader, p unsafe.Pointer) error {
				v, err := r.u8()
				*(*bool)(p) = v != 0
				return err
			}, true
		}
	case KindUUID:
		switch {
		case isByteArray(gt, 16):
			return func(r *reader, p unsafe.Pointer) error {
				b, err := r.take(16)
				if err != nil {
					return err
				}
				uuidFromWire((*[16]byte)(p), b)
				return nil
			}, true
		case gt.Kind() == reflect.String:
			return func(r *reader, p unsafe.Pointer) error {
				b, err := r.take(16)
				if err != nil {
					return err
				}
				var u uuid.UUID
				uuidFromWire((*[16]byte)(&u), b)
				*(*string)(p) = u.String()
				return nil
			}, true
		}
	case KindDate, KindDate32, KindDateTime, KindDateTime64:
		if gt == timeType {
			return timeDecoder(t), true
		}
	case KindEnum8, KindEnum16:
		if gt.Kind() == reflect.String {
			return enumDecoder(t), true
		}
	case KindArray:
		if gt.Kind() != reflect.Slice {
			return nil, false
		}
		return arrayDecoder(t, gt, lc)
	case KindMap:
		if gt.Kind() != reflect.Map {
			return nil, false
		}
		return mapDecoder(t, gt, lc)
	}
	return nil, false
}

func decString(r *reader, p unsafe.Pointer) error {
	b, err := r.bytes()
	if err != nil {
		return err
	}
	*(*string)(p) = string(b)
	return nil
}

func decStringIntern(r *reader, p unsafe.Pointer) error {
	b, err := r.bytes()
	if err != nil {
		return err
	}
	*(*string)(p) = r.internString(b)
	return nil
}

func decBytes(r *reader, p unsafe.Pointer) error {
	b, err := r.bytes()
	if err != nil {
		return err
	}
	c := make([]byte, len(b))
	copy(c, b)
	*(*[]byte)(p) = c
	return nil
}

// uuidFromWire converts ClickHouse's UUID layout (two little-endian UInt64,
// the high half first) to RFC 4122 byte order.
func uuidFromWire(u *[16]byte, b []byte) {
	binary.BigEndian.PutUint64(u[0:8], binary.LittleEndian.Uint64(b[0:8]))
	binary.BigEndian.PutUint64(u[8:16], binary.LittleEndian.Uint64(b[8:16]))
}

// colWidth is the byte width of an integer kind.
func colWidth(k Kind) uintptr {
	switch k {
	case KindUInt8, KindInt8:
		return 1
	case KindUInt16, KindInt16:
		return 2
	case KindUInt32, KindInt32:
		return 4
	default:
		return 8
	}
}

func isUintKind(k reflect.Kind) bool {
	switch k {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return true
	}
	return false
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return true
	}
	return false
}

// uintDecoder decodes an unsigned column into an unsigned Go integer at
// least as wide.
func uintDecoder(k Kind, gt reflect.Type) (decFn, bool) {
	w, size := colWidth(k), gt.Size()
	if !isUintKind(gt.Kind()) || size < w {
		return nil, false
	}
	switch {
	case w == 1 && size == 1:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u8()
			*(*uint8)(p) = v
			return err
		}, true
	case w == 2 && size == 2:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u16()
			*(*uint16)(p) = v
			return err
		}, true
	case w == 4 && size == 4:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u32()
			*(*uint32)(p) = v
			return err
		}, true
	case w == 8 && size == 8:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u64()
			*(*uint64)(p) = v
			return err
		}, true
	}
	return func(r *reader, p unsafe.Pointer) error {
		var v uint64
		switch w {
		case 1:
			x, err := r.u8()
			if err != nil {
				return err
			}
			v = uint64(x)
		case 2:
			x, err := r.u16()
			if err != nil {
				return err
			}
			v = uint64(x)
		case 4:
			x, err := r.u32()
			if err != nil {
				return err
			}
			v = uint64(x)
		}
		storeUint(p, size, v)
		return nil
	}, true
}

// intDecoder decodes a signed column into a signed Go integer at least as
// wide.
func intDecoder(k Kind, gt reflect.Type) (decFn, bool) {
	w, size := colWidth(k), gt.Size()
	if !isIntKind(gt.Kind()) || size < w {
		return nil, false
	}
	switch {
	case w == 1 && size == 1:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u8()
			*(*int8)(p) = int8(v)
			return err
		}, true
	case w == 2 && size == 2:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u16()
			*(*int16)(p) = int16(v)
			return err
		}, true
	case w == 4 && size == 4:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u32()
			*(*int32)(p) = int32(v)
			return err
		}, true
	case w == 8 && size == 8:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u64()
			*(*int64)(p) = int64(v)
			return err
		}, true
	}
	return func(r *reader, p unsafe.Pointer) error {
		var v int64
		switch w {
		case 1:
			x, err := r.u8()
			if err != nil {
				return err
			}
			v = int64(int8(x))
		case 2:
			x, err := r.u16()
			if err != nil {
				return err
			}
			v = int64(int16(x))
		case 4:
			x, err := r.u32()
			if err != nil {
				return err
			}
			v = int64(int32(x))
		}
		storeUint(p, size, uint64(v))
		return nil
	}, true
}

// storeUint writes the low size bytes of v to p as a native integer.
func storeUint(p unsafe.Pointer, size uintptr, v uint64) {
	switch size {
	case 1:
		*(*uint8)(p) = uint8(v)
	case 2:
		*(*uint16)(p) = uint16(v)
	case 4:
		*(*uint32)(p) = uint32(v)
	case 8:
		*(*uint64)(p) = v
	}
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

func timeDecoder(t Type) decFn {
	switch t.Kind {
	case KindDate:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u16()
			*(*time.Time)(p) = time.Unix(int64(v)*86400, 0).UTC()
			return err
		}
	case KindDate32:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u32()
			*(*time.Time)(p) = time.Unix(int64(int32(v))*86400, 0).UTC()
			return err
		}
	case KindDateTime:
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u32()
			*(*time.Time)(p) = time.Unix(int64(v), 0).UTC()
			return err
		}
	default: // DateTime64
		scale, mul := pow10[t.Precision], pow10[9-t.Precision]
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u64()
			if err != nil {
				return err
			}
			ticks := int64(v)
			sec, rem := ticks/scale, ticks%scale
			if rem < 0 {
				rem += scale
				sec--
			}
			*(*time.Time)(p) = time.Unix(sec, rem*mul).UTC()
			return nil
		}
	}
}

func enumDecoder(t Type) decFn {
	if t.Kind == KindEnum8 {
		var names [256]string
		var valid [256]bool
		for _, e := range t.Enum {
			names[uint8(e.Value)], valid[uint8(e.Value)] = e.Name, true
		}
		return func(r *reader, p unsafe.Pointer) error {
			v, err := r.u8()
			if err != nil {
				return err
			}
			if !valid[v] {
				return fmt.Errorf("%w: %d is not a value of the Enum8", ErrCorrupt, int8(v))
			}
			*(*string)(p) = names[v]
			return nil
		}
	}
	names := make(map[int16]string, len(t.Enum))
	for _, e := range t.Enum {
		names[e.Value] = e.Name
	}
	return func(r *reader, p unsafe.Pointer) error {
		v, err := r.u16()
		if err != nil {
			return err
		}
		name, ok := names[int16(v)]
		if !ok {
			return fmt.Errorf("%w: %d is not a value of the Enum16", ErrCorrupt, int16(v))
		}
		*(*string)(p) = name
		return nil
	}
}

func arrayDecoder(t Type, gt reflect.Type, lc bool) (decFn, bool) {
	elemT := *t.Elem
	et := gt.Elem()
	minSize := elemT.minSize()
	// Fast path: Array(String) into []string.
	if inner := elemT.unwrapLC(); inner.Kind == KindString && et.Kind() == reflect.String {
		intern := lc || elemT.Kind == KindLowCardinality
		return func(r *reader, p unsafe.Pointer) error {
			n, err := r.count(1)
			if err != nil {
				return err
			}
			s := make([]string, n)
			for i := range s {
				b, err := r.bytes()
				if err != nil {
					return err
				}
				if intern {
					s[i] = r.internString(b)
				} else {
					s[i] = string(b)
				}
			}
			*(*[]string)(p) = s
			return nil
		}, true
	}
	elem, ok := decoderFor(elemT, et, lc)
	if !ok {
		return nil, false
	}
	esz := et.Size()
	return func(r *reader, p unsafe.Pointer) error {
		n, err := r.count(minSize)
		if err != nil {
			return err
		}
		sl := reflect.MakeSlice(gt, n, n)
		base := sl.UnsafePointer()
		for i := range n {
			if err := elem(r, unsafe.Add(base, uintptr(i)*esz)); err != nil {
				return err
			}
		}
		reflect.NewAt(gt, p).Elem().Set(sl)
		return nil
	}, true
}

func mapDecoder(t Type, gt reflect.Type, lc bool) (decFn, bool) {
	kt, vt := gt.Key(), gt.Elem()
	keyDec, ok := decoderFor(*t.Key, kt, lc)
	if !ok {
		return nil, false
	}
	valDec, ok := decoderFor(*t.Elem, vt, lc)
	if !ok {
		return nil, false
	}
	minSize := t.Key.minSize() + t.Elem.minSize()
	return func(r *reader, p unsafe.Pointer) error {
		n, err := r.count(minSize)
		if err != nil {
			return err
		}
		// The size hint is capped: n is only known to fit the input, and a
		// map entry costs far more memory than its minimum wire size.
		m := reflect.MakeMapWithSize(gt, min(n, 1024))
		k, v := reflect.New(kt), reflect.New(vt)
		for range n {
			if err := keyDec(r, k.UnsafePointer()); err != nil {
				return err
			}
			if err := valDec(r, v.UnsafePointer()); err != nil {
				return err
			}
			m.SetMapIndex(k.Elem(), v.Elem())
		}
		reflect.NewAt(gt, p).Elem().Set(m)
		return nil
	}, true
}

// Decode is Codec.Decode with a fresh Codec (no plan cache).
func Decode(data []byte, dest any) error {
	var c Codec
	return c.Decode(data, dest)
}

// Decode parses a complete RowBinaryWithNamesAndTypes result and appends one
// element to *dest per row. dest is a pointer to a slice of structs or of
// pointers to structs; every result column must have a `ch:"name"` field
// whose Go type can hold the column's type (see the package comment).
//
// Empty data (no header, no rows) appends nothing. On error *dest is left as
// it was.
func (c *Codec) Decode(data []byte, dest any) error {
	dv := reflect.ValueOf(dest)
	if dv.Kind() != reflect.Pointer || dv.IsNil() || dv.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("%w: rowbinary: dest must be a non-nil pointer to a slice, got %T", clickhouse.ErrBadRows, dest)
	}
	sv := dv.Elem()
	st, ptrRows, err := rowType(sv.Type().Elem())
	if err != nil {
		return err
	}
	if len(data) == 0 {
		_, err := structFields(st)
		return err
	}
	hlen, err := headerLen(data)
	if err != nil {
		return err
	}
	plan, err := c.decodePlan(st, data[:hlen])
	if err != nil {
		return err
	}

	saved := reflect.New(sv.Type()).Elem()
	saved.Set(sv)
	r := reader{data: data, off: hlen}
	for row := 0; r.off < len(data); row++ {
		i := sv.Len()
		if i == sv.Cap() {
			sv.Grow(1)
		}
		sv.SetLen(i + 1)
		slot := sv.Index(i)
		var base unsafe.Pointer
		if ptrRows {
			nv := reflect.New(st)
			slot.Set(nv)
			base = nv.UnsafePointer()
		} else {
			slot.SetZero()
			base = slot.Addr().UnsafePointer()
		}
		for _, col := range plan.cols {
			if err := col.fn(&r, unsafe.Add(base, col.off)); err != nil {
				sv.Set(saved)
				return fmt.Errorf("rowbinary: row %d, column %q (%s): %w", row, col.name, col.typ, err)
			}
		}
	}
	return nil
}
