package pipeline

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Batch results counted in custody_pipeline_batches_total.
const (
	resultStored   = "stored"   // appended (its events stored or duplicate)
	resultFailed   = "failed"   // one attempt failed; retried or poisoned
	resultPoisoned = "poisoned" // moved to the poison topic
)

// outcomeRejected counts, in custody_pipeline_events_total, the events of
// unsigned batches that failed validation.
const outcomeRejected = "rejected"

type metrics struct {
	// untrusted counts the batches without a valid signature.
	untrusted prometheus.Counter
	events    *prometheus.CounterVec
	batches   *prometheus.CounterVec
	latency   prometheus.Histogram
	// appendEvents and appendMessages describe the shared appends
	// (Coalesce): how many events and broker messages each took.
	appendEvents   prometheus.Histogram
	appendMessages prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		untrusted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custody_pipeline_unsigned_batches_total",
			Help: "Broker messages without a valid signature of Custody's ingest, validated as untrusted input (or poisoned).",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custody_pipeline_events_total",
			Help: "Events the pipeline handled, by outcome: stored, duplicate (already in the log), rejected (an unsigned batch's event that failed validation).",
		}, []string{"outcome"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custody_pipeline_batches_total",
			Help: "Broker messages (event batches) handled, by result: stored, failed (one attempt), poisoned.",
		}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "custody_pipeline_batch_duration_seconds",
			Help:    "Time to decode and append one batch that was stored.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 13), // 5 ms .. 20 s
		}),
		appendEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "custody_pipeline_append_events",
			Help:    "Events per append to the log (broker messages handled together share one).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9), // 1 .. 65,536
		}),
		appendMessages: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "custody_pipeline_append_messages",
			Help:    "Broker messages per append to the log.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 .. 1,024
		}),
	}
	for _, outcome := range []string{"stored", "duplicate", outcomeRejected} {
		m.events.WithLabelValues(outcome)
	}
	for _, r := range []string{resultStored, resultFailed, resultPoisoned} {
		m.batches.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.events, err = register(reg, m.events); err != nil {
		return nil, err
	}
	if m.batches, err = register(reg, m.batches); err != nil {
		return nil, err
	}
	if m.untrusted, err = register(reg, m.untrusted); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	if m.appendEvents, err = register(reg, m.appendEvents); err != nil {
		return nil, err
	}
	if m.appendMessages, err = register(reg, m.appendMessages); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (a pipeline restarted in the same process keeps counting).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}
