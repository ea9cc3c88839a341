package rowbinary

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// benchEvent is shaped like an event-log row.
type benchEvent struct {
	ID         uuid.UUID `ch:"id"`
	Tenant     string    `ch:"tenant"`
	Kind       string    `ch:"kind"`
	Source     string    `ch:"source"`
	Subject    string    `ch:"subject"`
	Actor      string    `ch:"actor"`
	Payload    string    `ch:"payload"`
	OccurredAt time.Time `ch:"occurred_at"`
	RecordedAt time.Time `ch:"recorded_at"`
	Tags       []string  `ch:"tags"`
}

const benchRows = 100_000

// valuesPerEvent counts the two array elements as values.
const valuesPerEvent = 11

var benchColumns = columnsOf([]struct{ name, typ string }{
	{"id", "UUID"},
	{"tenant", "LowCardinality(String)"},
	{"kind", "LowCardinality(String)"},
	{"source", "LowCardinality(String)"},
	{"subject", "String"},
	{"actor", "String"},
	{"payload", "String"},
	{"occurred_at", "DateTime64(3, 'UTC')"},
	{"recorded_at", "DateTime64(3, 'UTC')"},
	{"tags", "Array(String)"},
})

func benchEvents(n int) []benchEvent {
	base := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	pad := strings.Repeat("x", 80)
	rows := make([]benchEvent, n)
	for i := range rows {
		t := base.Add(time.Duration(i) * time.Millisecond)
		rows[i] = benchEvent{
			ID:         uuid.New(),
			Tenant:     fmt.Sprintf("tenant-%d", i%7),
			Kind:       []string{"custody.transfer", "custody.deposit", "custody.withdrawal"}[i%3],
			Source:     []string{"api", "batch"}[i%2],
			Subject:    fmt.Sprintf("subject/%08d/%s", i, pad),
			Actor:      fmt.Sprintf("actor/%08d/%s", i%1000, pad),
			Payload:    fmt.Sprintf(`{"n":%d,"p":"%s"}`, i, pad),
			OccurredAt: t,
			RecordedAt: t.Add(time.Second),
			Tags:       []string{"tag-a", fmt.Sprintf("tag-%d", i%10)},
		}
	}
	return rows
}

func BenchmarkEncodeRows(b *testing.B) {
	rows := benchEvents(benchRows)
	var c Codec
	out, err := c.EncodeRows(benchColumns, rows)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.EncodeRows(benchColumns, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*benchRows*valuesPerEvent/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkDecode(b *testing.B) {
	rows := benchEvents(benchRows)
	data := encodeAll(b, benchColumns, rows)
	var c Codec
	dest := make([]benchEvent, 0, benchRows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dest = dest[:0]
		if err := c.Decode(data, &dest); err != nil {
			b.Fatal(err)
		}
	}
	if len(dest) != benchRows {
		b.Fatalf("decoded %d rows", len(dest))
	}
	b.ReportMetric(float64(b.N)*benchRows*valuesPerEvent/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
}
