package batchmsg

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// FormatV2 is a binary batch of events in their split form (Entry): the
// envelope fields length-prefixed, the data as the JSON the event log
// stores, and the element values apart. The HTTP ingest publishes it: on
// two cores, encoding events as JSON for the broker and decoding them again
// in the pipeline (FormatV1) cost ~15 µs an event, a third of end-to-end
// ingest's CPU; the split form is written once from the validated event
// and read back without parsing JSON (measured, 100,000 events: 71 → 53
// µs of CPU an event end to end). A pipeline built before FormatV2 moves
// such a batch to the poison subject, so a rolling upgrade replaces the
// pipelines before the HTTP ingest.
const FormatV2 = "events-split/v2"

// EncodeEntries builds one FormatV2 message holding entries. The message
// UUID is random: the events' own ids are the idempotency keys.
func EncodeEntries(entries []event.Entry, source string) *message.Message {
	size := 0
	for i := range entries {
		size += EncodedSize(&entries[i])
	}
	b := make([]byte, 0, size)
	for i := range entries {
		b = appendEntry(b, &entries[i])
	}
	msg := message.NewMessage(watermill.NewUUID(), b)
	msg.Metadata.Set(MetaFormat, FormatV2)
	msg.Metadata.Set(MetaCount, strconv.Itoa(len(entries)))
	msg.Metadata.Set(MetaSource, source)
	return msg
}

// EncodedSize is how many bytes e takes in a FormatV2 payload (an upper
// bound), for splitting batches under a broker's message size limit.
func EncodedSize(e *event.Entry) int {
	n := 16 + 2*binary.MaxVarintLen64
	for _, s := range [...]string{e.SpecVersion, string(e.Type), e.Source, e.Tenant, e.DataContentType, e.DataSchema} {
		n += binary.MaxVarintLen32 + len(s)
	}
	n += binary.MaxVarintLen32
	for _, id := range e.Identifiers {
		n += 3*binary.MaxVarintLen32 + len(id.Kind) + len(id.Namespace) + len(id.Value)
	}
	n += 2*binary.MaxVarintLen32 + len(e.Data)
	for _, v := range e.Values {
		n += binary.MaxVarintLen32 + len(v)
	}
	return n
}

// appendEntry writes e: id(16) · varint seconds · uvarint nanoseconds ·
// spec version · type · source · tenant · data content type · data schema ·
// identifier count, then kind · namespace · value of each · data ·
// value count, then each value (length 0: none). Strings and byte fields
// are uvarint-length-prefixed.
func appendEntry(b []byte, e *event.Entry) []byte {
	b = append(b, e.ID[:]...)
	b = binary.AppendVarint(b, e.Time.Unix())
	b = binary.AppendUvarint(b, uint64(e.Time.Nanosecond()))
	for _, s := range [...]string{e.SpecVersion, string(e.Type), e.Source, e.Tenant, e.DataContentType, e.DataSchema} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Identifiers)))
	for _, id := range e.Identifiers {
		b = appendString(b, string(id.Kind))
		b = appendString(b, id.Namespace)
		b = appendString(b, id.Value)
	}
	b = appendString(b, string(e.Data))
	b = binary.AppendUvarint(b, uint64(len(e.Values)))
	for _, v := range e.Values {
		b = appendString(b, string(v))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DecodeEntries reads the events of a message in their split form, from
// either format (a FormatV1 message's events are decoded and split). Like
// Decode, it checks what storage relies on, not taxonomy terms: a known
// type, an id, a time, a tenant and source, normalised identifiers, data
// and values that are JSON.
func DecodeEntries(msg *message.Message) ([]event.Entry, error) {
	switch f := msg.Metadata.Get(MetaFormat); f {
	case FormatV1:
		events, err := Decode(msg)
		if err != nil {
			return nil, err
		}
		out := make([]event.Entry, len(events))
		for i, e := range events {
			if out[i], err = event.Split(e); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrFormat, err)
			}
		}
		return out, nil
	case FormatV2:
	default:
		return nil, fmt.Errorf("%w: format %q", ErrFormat, f)
	}
	n, err := strconv.Atoi(msg.Metadata.Get(MetaCount))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: metadata %s is %q", ErrFormat, MetaCount, msg.Metadata.Get(MetaCount))
	}
	// Every entry takes at least 16 bytes: a count beyond that is a lie,
	// not an allocation to make.
	if n > len(msg.Payload)/16 {
		return nil, fmt.Errorf("%w: metadata says %d events, payload has %d bytes", ErrFormat, n, len(msg.Payload))
	}
	r := reader{b: msg.Payload}
	out := make([]event.Entry, n)
	for i := range out {
		if err := r.entry(&out[i]); err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", ErrFormat, i, err)
		}
		if err := check(&out[i]); err != nil {
			return nil, fmt.Errorf("%w: event %d (%s): %w", ErrFormat, i, out[i].ID, err)
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: metadata says %d events, payload has %d more bytes", ErrFormat, n, len(r.b))
	}
	return out, nil
}

// check accepts what DecodeStored accepts of an event written by Custody.
func check(e *event.Entry) error {
	switch {
	case e.ID == uuid.Nil:
		return errors.New("no id")
	case !e.Type.Known():
		return fmt.Errorf("unknown type %q", e.Type)
	case e.SpecVersion != event.SpecVersion:
		return fmt.Errorf("spec version %q", e.SpecVersion)
	case e.Time.IsZero():
		return errors.New("no time")
	case e.Tenant == "" || e.Source == "":
		return errors.New("no tenant or source")
	case len(e.Identifiers) == 0:
		return errors.New("no identifiers")
	case !json.Valid(e.Data):
		return errors.New("data is not JSON")
	}
	for _, id := range e.Identifiers {
		if n, err := id.Normalized(); err != nil || n != id {
			return errors.New("an identifier is not normalised")
		}
	}
	for _, v := range e.Values {
		if len(v) > 0 && !json.Valid(v) {
			return errors.New("a value is not JSON")
		}
	}
	return nil
}

var errShort = errors.New("payload ends early")

// reader takes fields off a FormatV2 payload. Strings and byte slices it
// returns alias the payload, which the message keeps alive.
type reader struct{ b []byte }

func (r *reader) entry(e *event.Entry) error {
	if len(r.b) < 16 {
		return errShort
	}
	copy(e.ID[:], r.b[:16])
	r.b = r.b[16:]
	sec, err := r.varint()
	if err != nil {
		return err
	}
	nsec, err := r.uvarint()
	if err != nil {
		return err
	}
	if nsec >= 1e9 {
		return fmt.Errorf("time has %d nanoseconds", nsec)
	}
	e.Time = time.Unix(sec, int64(nsec)).UTC()
	var typ string
	for _, s := range [...]*string{&e.SpecVersion, &typ, &e.Source, &e.Tenant, &e.DataContentType, &e.DataSchema} {
		if *s, err = r.str(); err != nil {
			return err
		}
	}
	e.Type = event.Type(typ)
	ids, err := r.count()
	if err != nil {
		return err
	}
	e.Identifiers = make([]event.Identifier, ids)
	for i := range e.Identifiers {
		id := &e.Identifiers[i]
		var kind string
		if kind, err = r.str(); err != nil {
			return err
		}
		id.Kind = identity.Kind(kind)
		if id.Namespace, err = r.str(); err != nil {
			return err
		}
		if id.Value, err = r.str(); err != nil {
			return err
		}
	}
	if e.Data, err = r.bytes(); err != nil {
		return err
	}
	values, err := r.count()
	if err != nil {
		return err
	}
	if values > 0 {
		e.Values = make([]json.RawMessage, values)
		for i := range e.Values {
			v, err := r.bytes()
			if err != nil {
				return err
			}
			if len(v) > 0 {
				e.Values[i] = v
			}
		}
	}
	return nil
}

func (r *reader) varint() (int64, error) {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		return 0, errShort
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, errShort
	}
	r.b = r.b[n:]
	return v, nil
}

// count reads a length or count that must fit in what is left.
func (r *reader) count() (int, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(r.b)) || v > math.MaxInt32 {
		return 0, errShort
	}
	return int(v), nil
}

func (r *reader) bytes() ([]byte, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) str() (string, error) {
	b, err := r.bytes()
	return string(b), err
}
