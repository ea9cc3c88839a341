// Package rowbinary is a pure-Go codec for ClickHouse's RowBinary formats.
// The embedded (chDB) transport uses it to decode query results
// (RowBinaryWithNamesAndTypes) into ch-tagged structs and to encode rows
// (plain RowBinary, optionally behind EncodeHeader) for bulk inserts.
//
// # Wire format
//
// As documented for RowBinary: integers and floats are fixed-width
// little-endian; String is an unsigned LEB128 byte length then the bytes;
// FixedString(N) is exactly N bytes, zero-padded; Bool is one byte; UUID is
// two little-endian UInt64, the high half first (so each 8-byte half of the
// RFC 4122 bytes is reversed); Date is UInt16 days and Date32 Int32 days
// since 1970-01-01; DateTime is UInt32 seconds and DateTime64(P) Int64
// ticks of 10^-P s since the UTC epoch (the time zone parameter never
// changes the bytes); Enum8/Enum16 are Int8/Int16 values; Nullable(T) is a
// flag byte (1 = NULL, nothing follows; 0 = a T follows); Array(T) and
// Map(K, V) are a LEB128 count then the elements (a Map's as key, value
// pairs); LowCardinality(T) is exactly T. RowBinaryWithNamesAndTypes
// prefixes a LEB128 column count, the names and the type names as Strings.
//
// # Go types
//
// A row is a struct; a column maps to the exported field tagged
// `ch:"name"` (text after a comma in the tag is ignored). Untagged fields,
// `ch:"-"` fields and the fields of embedded structs are not mapped. Per
// ClickHouse type, a field may be:
//
//	String                  string, []byte
//	FixedString(N)          string, []byte, [N]byte
//	UInt8 … UInt64          uint8 … uint64, or a wider unsigned integer
//	Int8 … Int64            int8 … int64, or a wider signed integer
//	Float32, Float64        float32, float64
//	Bool                    bool
//	UUID                    uuid.UUID (any [16]byte type), string
//	Date, Date32, DateTime,
//	DateTime64(P)           time.Time
//	Enum8, Enum16           string (the name)
//	Array(T)                []T
//	Nullable(T)             *T (nil is NULL)
//	Map(K, V)               map[K]V
//	LowCardinality(T)       as T
//
// Named types with these underlying kinds work too. A pointer field may be
// used for a column that is not Nullable: decoding always sets it, and
// encoding a nil pointer is an error. A non-pointer field may be encoded into
// a Nullable column (it is never NULL) but not decoded from one.
//
// Decoding details:
//   - Strings and byte slices are copies; nothing aliases the input.
//     Equal LowCardinality strings within one call share one allocation.
//   - FixedString keeps all N bytes, NUL padding included, into string,
//     []byte or [N]byte alike: the port's contract, the same as the native
//     transport (padding and real NULs are indistinguishable on the wire).
//   - time.Time values are in UTC whatever the column's time zone.
//   - Arrays, maps and []byte are never nil, empty when the value is empty.
//   - Bool is true for any non-zero byte. A Nullable flag other than 0 or 1,
//     or an enum value the type does not name, is ErrCorrupt.
//   - Lengths are checked against the bytes that remain before anything is
//     allocated, so corrupt input fails with ErrCorrupt and never allocates
//     more than a small multiple of its own size.
//
// Encoding details:
//   - A wider integer field is range-checked against its column.
//   - A string or []byte longer than a FixedString(N) is an error; a shorter
//     one is zero-padded.
//   - time.Time is truncated toward the past to the column's resolution:
//     Date/Date32 take the UTC day, DateTime whole seconds, DateTime64(P)
//     ticks of 10^-P s. Values outside the documented ranges are errors, not
//     written for the server to misread: Date [1970-01-01, 2149-06-06],
//     Date32 [1900-01-01, 2299-12-31], DateTime [1970-01-01 00:00:00,
//     2106-02-07 06:28:15], DateTime64 [1900-01-01, 2299-12-31 23:59:59.…]
//     and, at precision 9, the Int64 limit (2262-04-11). The zero time.Time
//     is therefore always an error.
//   - A string for a UUID column is parsed with uuid.Parse; an enum name
//     the type does not list is an error.
//   - Map entries are written in ascending key order, so equal maps encode
//     to equal bytes.
//
// # Errors
//
// Mapping problems (dest or rows not a slice of structs, a column without a
// field, a field that cannot hold its column, duplicate tags or columns) and
// values that cannot be encoded wrap clickhouse.ErrBadRows; they name the
// column, its type, the struct and the field. Malformed input wraps
// ErrCorrupt and names the row and column. A type string that is malformed
// or unsupported (also in a result header) wraps ErrType.
package rowbinary
