package sdk

import "context"

// Transport delivers one batch of validated events to Custody. The client
// calls Send from one goroutine at a time, retries it as its error says (see
// SendError), and never changes the events.
//
// Send returns nil error once every event of the batch is either durably
// accepted by Custody or refused (Result.Rejected). An error means nothing
// may be assumed delivered; the client then retries the whole batch, which
// is safe because event ids are idempotency keys.
type Transport interface {
	Send(ctx context.Context, events []*Event) (Result, error)
}

// Result is Custody's verdict on a delivered batch.
type Result struct {
	Accepted   int         // newly recorded
	Duplicates int         // already recorded (same id)
	Rejected   []Rejection // refused, with the reasons; not retried
}

// validator is implemented by transports that can check their settings.
type validator interface{ Validate() error }
