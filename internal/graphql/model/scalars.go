package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/requests"
)

// The custom scalars of the schema (schema.graphqls). Each Unmarshal
// returns an *InputError naming what is wrong, so clients get
// BAD_USER_INPUT with the reason rather than an internal error.

// InputError is a scalar or argument a client got wrong.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// MarshalTime writes t in RFC 3339 (UTC, nanoseconds when present). The
// zero time is null: domain types use it for "none".
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalTime reads an RFC 3339 time; null is the zero time.
func UnmarshalTime(v any) (time.Time, error) {
	switch s := v.(type) {
	case nil:
		return time.Time{}, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, &InputError{Reason: fmt.Sprintf("%q is not an RFC 3339 time (2026-03-01T12:00:00Z)", clip(s))}
		}
		return t.UTC(), nil
	}
	return time.Time{}, &InputError{Reason: fmt.Sprintf("a Time is an RFC 3339 string, got %T", v)}
}

// MarshalDate writes a date as 2006-01-02; the zero date is null.
func MarshalDate(d requests.Date) graphql.Marshaler {
	if d.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) })
}

// UnmarshalDate reads a date written 2006-01-02.
func UnmarshalDate(v any) (requests.Date, error) {
	s, ok := v.(string)
	if !ok {
		return requests.Date{}, &InputError{Reason: fmt.Sprintf("a Date is a string like 2026-03-01, got %T", v)}
	}
	d, err := requests.ParseDate(s)
	if err != nil {
		return requests.Date{}, &InputError{Reason: fmt.Sprintf("%q is not a date like 2026-03-01", clip(s))}
	}
	return d, nil
}

// MarshalUUID writes a UUID in canonical form; the nil UUID is null.
func MarshalUUID(id uuid.UUID) graphql.Marshaler {
	if id == uuid.Nil {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(id.String())) })
}

// UnmarshalUUID reads a UUID.
func UnmarshalUUID(v any) (uuid.UUID, error) {
	s, ok := v.(string)
	if !ok {
		return uuid.Nil, &InputError{Reason: fmt.Sprintf("a UUID is a string, got %T", v)}
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, &InputError{Reason: fmt.Sprintf("%q is not a UUID", clip(s))}
	}
	return id, nil
}

// MarshalJSON writes a JSON value as it is; an empty value is null.
func MarshalJSON(raw json.RawMessage) graphql.Marshaler {
	if len(bytes.TrimSpace(raw)) == 0 || !json.Valid(raw) {
		// Invalid bytes never reach a response: they would corrupt it.
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(raw) })
}

// UnmarshalJSON reads any JSON value.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &InputError{Reason: fmt.Sprintf("not a JSON value: %v", err)}
	}
	return b, nil
}

// clip keeps input echoed in errors short.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
