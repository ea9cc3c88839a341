package graphql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
)

// refusedOperation labels requests refused before any field ran (parse,
// validation, limits, a mutation without admin).
const refusedOperation = "(refused)"

// metrics count and time operations per root field (subject, lineage,
// openRequest, …: a label set bounded by the schema, unlike client-chosen
// operation names) and outcome (ok, or the error code in lower case).
type metrics struct {
	count    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custody_graphql_operations_total",
			Help: "GraphQL root fields resolved, by field (operation) and outcome; refused requests under operation \"(refused)\".",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "custody_graphql_operation_duration_seconds",
			Help:    "Time to resolve a GraphQL root field, by field (operation) and outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.count, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register graphql metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(op string, outcome string, took time.Duration) {
	m.count.WithLabelValues(op, outcome).Inc()
	m.duration.WithLabelValues(op, outcome).Observe(took.Seconds())
}

func outcomeOf(code Code) string {
	if code == "" {
		return "ok"
	}
	return strings.ToLower(string(code))
}

// aroundFields times root fields (Query and Mutation fields); other
// fields pass through untouched.
func (m *metrics) aroundFields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || (fc.Object != "Query" && fc.Object != "Mutation") {
		return next(ctx)
	}
	start := time.Now()
	res, err := next(ctx)
	var code Code
	if err != nil {
		code, _, _ = classify(err)
	}
	m.observe(fc.Field.Name, outcomeOf(code), time.Since(start))
	return res, err
}
