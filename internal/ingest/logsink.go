package ingest

import (
	"context"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
)

// LogSink appends straight to the event log: the single-node path until the
// broker pipeline sits between HTTP and the log.
type LogSink struct {
	Log *eventlog.Log
}

var _ Sink = LogSink{}

// Accept implements Sink.
func (s LogSink) Accept(ctx context.Context, events []*event.Event) ([]Verdict, error) {
	outcomes, err := s.Log.Append(ctx, events)
	if err != nil {
		return nil, err
	}
	verdicts := make([]Verdict, len(outcomes))
	for i, o := range outcomes {
		verdicts[i] = Accepted
		if o == eventlog.Duplicate {
			verdicts[i] = Duplicate
		}
	}
	return verdicts, nil
}
