package rejected

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/ingest"
)

// replayChunk bounds how many rejections one round (one read, one sink
// batch, one status write) handles.
const replayChunk = 1000

// Outcome is what a replay did with one rejection.
type Outcome string

const (
	// OutcomeReplayed: valid now and taken by the sink (Verdict says
	// whether it was new or a duplicate); status replayed.
	OutcomeReplayed Outcome = "replayed"
	// OutcomeStillRejected: still invalid; status still_rejected with the
	// new errors.
	OutcomeStillRejected Outcome = "still_rejected"
	// OutcomeNotFound: no rejection has that id.
	OutcomeNotFound Outcome = "not_found"
	// OutcomeFailed: the payload could not be read (e.g. its key was
	// shredded, or it was kept only in part: ErrTruncated) or the sink
	// failed; the status is unchanged. Err says why.
	OutcomeFailed Outcome = "failed"
)

// ReplayResult is the outcome for one rejection id.
type ReplayResult struct {
	ID      uuid.UUID
	Tenant  string
	EventID string
	Outcome Outcome
	// Verdict is the sink's verdict when Outcome is OutcomeReplayed.
	Verdict ingest.Verdict
	// Errors are the current errors when Outcome is OutcomeStillRejected.
	Errors []event.FieldError
	// Err says why when Outcome is OutcomeFailed.
	Err error
}

// ReplayReport holds a result per distinct id, in the order given, and the
// counts per outcome.
type ReplayReport struct {
	Results                                   []ReplayResult
	Replayed, StillRejected, NotFound, Failed int
}

func (r *ReplayReport) add(res ReplayResult) {
	r.Results = append(r.Results, res)
	switch res.Outcome {
	case OutcomeReplayed:
		r.Replayed++
	case OutcomeStillRejected:
		r.StillRejected++
	case OutcomeNotFound:
		r.NotFound++
	default:
		r.Failed++
	}
}

// Replay decodes the payload of each rejection again with opts (the
// current taxonomy: event.Decode; internal request.* types stay refused),
// hands the events valid now to sink, and records each outcome: replayed,
// or still_rejected with the new errors. Ids are handled in rounds of 1000
// (one read, one sink batch, one status write each); repeated ids count
// once.
//
// Replaying is safe to repeat: the sink is idempotent by event id, so a
// rejection replayed twice comes back as a duplicate. If the sink fails,
// that round's valid events are reported OutcomeFailed, their status is
// left as it was, and Replay returns the report so far with the error. If
// the status write fails after the sink took the events, they are in the
// log but still listed as rejected; replaying again marks them.
func (s *Store) Replay(ctx context.Context, ids []uuid.UUID, opts event.Options, sink ingest.Sink) (ReplayReport, error) {
	var report ReplayReport
	if sink == nil {
		return report, errors.New("rejected: replay needs a sink")
	}
	if err := opts.Validate(); err != nil {
		return report, err
	}
	opts.AllowInternalTypes = false // a rejection came from outside
	seen := make(map[uuid.UUID]bool, len(ids))
	unique := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	for start := 0; start < len(unique); start += replayChunk {
		if err := s.replayRound(ctx, unique[start:min(start+replayChunk, len(unique))], opts, sink, &report); err != nil {
			return report, err
		}
	}
	return report, nil
}

func (s *Store) replayRound(ctx context.Context, ids []uuid.UUID, opts event.Options, sink ingest.Sink, report *ReplayReport) error {
	rows, err := s.rows(ctx, ids)
	if err != nil {
		return err
	}
	results := make([]ReplayResult, len(ids))
	var valid []*event.Event
	var validAt []int
	var updates []row
	for i, id := range ids {
		r, ok := rows[id]
		if !ok {
			results[i] = ReplayResult{ID: id, Outcome: OutcomeNotFound, Err: ErrNotFound}
			continue
		}
		results[i] = ReplayResult{ID: id, Tenant: r.Tenant, EventID: r.EventID}
		if r.summary().truncated() {
			results[i].Outcome = OutcomeFailed
			results[i].Err = fmt.Errorf("rejection %s: %w: only %d of its %d bytes were kept; send the event again", id, ErrTruncated, r.KeptBytes, r.ReceivedBytes)
			continue
		}
		payload, err := s.open(ctx, r)
		if err != nil {
			results[i].Outcome, results[i].Err = OutcomeFailed, err
			continue
		}
		ev, errs := event.Decode(payload, opts)
		if ev != nil {
			valid = append(valid, ev)
			validAt = append(validAt, i)
			continue
		}
		text, err := encodeErrors(errs)
		if err != nil {
			results[i].Outcome, results[i].Err = OutcomeFailed, err
			continue
		}
		results[i].Outcome, results[i].Errors = OutcomeStillRejected, errs
		updates = append(updates, s.next(r, StatusStillRejected, &text))
	}
	var sinkErr error
	if len(valid) > 0 {
		verdicts, err := sink.Accept(ctx, valid)
		if err == nil && len(verdicts) != len(valid) {
			err = fmt.Errorf("sink returned %d verdicts for %d events", len(verdicts), len(valid))
		}
		if err != nil {
			sinkErr = fmt.Errorf("rejected: replay: sink: %w", err)
			for _, i := range validAt {
				results[i].Outcome, results[i].Err = OutcomeFailed, sinkErr
			}
		} else {
			for j, i := range validAt {
				results[i].Outcome, results[i].Verdict = OutcomeReplayed, verdicts[j]
				updates = append(updates, s.next(rows[ids[i]], StatusReplayed, nil))
			}
		}
	}
	writeErr := s.write(ctx, updates)
	for _, res := range results {
		report.add(res)
	}
	return errors.Join(sinkErr, writeErr)
}
