package rejected

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
)

// row is one stored version of a rejection; the one place where Rejection
// and the table meet. Columns: schema/clickhouse/003_rejected_events.sql.
type row struct {
	Tenant        string    `ch:"tenant"`
	RejectionID   uuid.UUID `ch:"rejection_id"`
	RejectedAt    time.Time `ch:"rejected_at"`
	Stage         string    `ch:"stage"`
	BatchIndex    uint32    `ch:"batch_index"`
	EventID       string    `ch:"event_id"`
	EventType     string    `ch:"event_type"`
	Errors        string    `ch:"errors"`
	SealedKeyID   string    `ch:"sealed_key_id"`
	SealedPayload []byte    `ch:"sealed_payload"`
	Status        string    `ch:"status"`
	ReplayedAt    time.Time `ch:"replayed_at"`
	Version       uint64    `ch:"version"`
	ReceivedBytes uint64    `ch:"received_bytes"`
	KeptBytes     uint64    `ch:"kept_bytes"`
}

// summaryRow is row without the sealed payload (queryList).
type summaryRow struct {
	Tenant        string    `ch:"tenant"`
	RejectionID   uuid.UUID `ch:"rejection_id"`
	RejectedAt    time.Time `ch:"rejected_at"`
	Stage         string    `ch:"stage"`
	BatchIndex    uint32    `ch:"batch_index"`
	EventID       string    `ch:"event_id"`
	EventType     string    `ch:"event_type"`
	Errors        string    `ch:"errors"`
	Status        string    `ch:"status"`
	ReplayedAt    time.Time `ch:"replayed_at"`
	Version       uint64    `ch:"version"`
	ReceivedBytes uint64    `ch:"received_bytes"`
	KeptBytes     uint64    `ch:"kept_bytes"`
}

func (r summaryRow) rejection() (Rejection, error) {
	errs, err := decodeErrors(r.Errors)
	if err != nil {
		return Rejection{}, fmt.Errorf("rejection %s: %w", r.RejectionID, err)
	}
	rej := Rejection{
		ID: r.RejectionID, Tenant: r.Tenant, At: r.RejectedAt.UTC(), Stage: r.Stage, Index: int(r.BatchIndex),
		EventID: r.EventID, EventType: r.EventType, Errors: errs, Status: Status(r.Status),
		Size: int(r.ReceivedBytes), Truncated: r.truncated(),
	}
	if r.ReplayedAt.Unix() > 0 {
		rej.ReplayedAt = r.ReplayedAt.UTC()
	}
	return rej, nil
}

func (r row) summary() summaryRow {
	return summaryRow{Tenant: r.Tenant, RejectionID: r.RejectionID, RejectedAt: r.RejectedAt, Stage: r.Stage,
		BatchIndex: r.BatchIndex, EventID: r.EventID, EventType: r.EventType, Errors: r.Errors,
		Status: r.Status, ReplayedAt: r.ReplayedAt, Version: r.Version,
		ReceivedBytes: r.ReceivedBytes, KeptBytes: r.KeptBytes}
}

// truncated reports whether less was kept than received. Rows from before
// sizes were recorded have ReceivedBytes 0: never truncated.
func (r summaryRow) truncated() bool { return r.ReceivedBytes > r.KeptBytes }

// encodeErrors renders field errors as the stored JSON array of
// {path, reason}; never null.
func encodeErrors(errs []event.FieldError) (string, error) {
	if errs == nil {
		errs = []event.FieldError{}
	}
	b, err := json.Marshal(errs)
	if err != nil {
		return "", fmt.Errorf("encode errors: %w", err)
	}
	return string(b), nil
}

func decodeErrors(s string) ([]event.FieldError, error) {
	if s == "" {
		return nil, nil
	}
	var errs []event.FieldError
	if err := json.Unmarshal([]byte(s), &errs); err != nil {
		return nil, fmt.Errorf("decode stored errors: %w", err)
	}
	return errs, nil
}
