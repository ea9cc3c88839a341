package sdk

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

var (
	// ErrBufferFull is returned by Emit, at once, when accepting the events
	// would hold more than Config.BufferSize undelivered events — usually
	// because Custody has been unreachable for a while. Nothing of that call
	// was enqueued; retry later, shed load, or raise BufferSize.
	ErrBufferFull = errors.New("sdk: buffer full")
	// ErrClosed is returned by Emit after Close.
	ErrClosed = errors.New("sdk: client is closed")
)

// Rejection is one event refused, with every reason.
type Rejection struct {
	// Index is the event's position in the Emit call (ValidationError) or
	// in the delivered batch (DeliveryError).
	Index int
	// ID is the event's id, when it has one.
	ID string
	// Errors says what is wrong, field by field.
	Errors []FieldError
}

func (r Rejection) String() string {
	var b strings.Builder
	b.WriteString("event " + strconv.Itoa(r.Index))
	if r.ID != "" {
		b.WriteString(" (" + r.ID + ")")
	}
	b.WriteString(": ")
	for i, fe := range r.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// ValidationError is Emit's answer to invalid events: every problem of every
// invalid event. Nothing of that Emit call was enqueued.
type ValidationError struct {
	Events []Rejection // the invalid events, in call order
	Total  int         // how many events the call held
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sdk: %d of %d events invalid, none emitted", len(e.Events), e.Total)
	for _, r := range e.Events {
		b.WriteString("\n  " + r.String())
	}
	return b.String()
}

// DeliveryError is an asynchronous delivery failure, passed to
// Config.OnError and returned by the next Flush or Close. Either Custody
// refused some events of a batch (Rejected, each with its field errors; the
// rest of the batch was delivered), or the whole batch could not be
// delivered (Err: a permanent failure such as 401 or 413, retries
// exhausted, or the client closed before delivery).
type DeliveryError struct {
	// IDs are the events not delivered.
	IDs []uuid.UUID
	// Batch is the size of the batch they belonged to.
	Batch int
	// Rejected are Custody's per-event verdicts, when it judged events one
	// by one.
	Rejected []Rejection
	// Attempts is how often the batch was sent.
	Attempts int
	// Err is the last attempt's error when the whole batch failed.
	Err error
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	if len(e.Rejected) > 0 {
		fmt.Fprintf(&b, "sdk: custody rejected %d of %d events", len(e.Rejected), e.Batch)
		for _, r := range e.Rejected {
			b.WriteString("\n  " + r.String())
		}
		return b.String()
	}
	fmt.Fprintf(&b, "sdk: %d events not delivered after %d attempt", len(e.IDs), e.Attempts)
	if e.Attempts != 1 {
		b.WriteString("s")
	}
	if len(e.IDs) > 0 {
		fmt.Fprintf(&b, " (ids %s … %s)", e.IDs[0], e.IDs[len(e.IDs)-1])
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// SendError is how a Transport classifies a failed Send. Errors that are not
// a *SendError count as retryable: delivery is idempotent by event id, so a
// retry can never duplicate an event.
type SendError struct {
	Err error
	// StatusCode is the HTTP status, if any.
	StatusCode int
	// Retryable says whether another attempt may succeed.
	Retryable bool
	// RetryAfter is the server's Retry-After, 0 when none was given.
	RetryAfter time.Duration
}

func (e *SendError) Error() string {
	if e.Err == nil {
		return "sdk: send failed"
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying, for custom transports.
func Permanent(err error) error { return &SendError{Err: err} }

// classify reports whether err may heal with a retry, and the server's
// requested delay.
func classify(err error) (retry bool, after time.Duration) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Retryable, se.RetryAfter
	}
	return true, 0
}
