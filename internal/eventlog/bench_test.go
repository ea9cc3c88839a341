package eventlog

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
)

// benchEvents is the events per iteration: CUSTODY_BENCH_EVENTS, default 50,000.
func benchEvents(b *testing.B) int {
	if s := os.Getenv("CUSTODY_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("CUSTODY_BENCH_EVENTS=%q: want an integer ≥ 1000", s)
		}
		return n
	}
	return 50_000
}

// BenchmarkAppend measures bulk append through the repository (dedupe
// check, identifier hashing, value sealing, RowBinary insert) on embedded
// chDB, and in the same run the raw engine writing the same rows again
// with one INSERT … SELECT into the same table (materialized views
// included, under another tenant). It reports both rates and their ratio
// (target ≥ 0.5).
func BenchmarkAppend(b *testing.B) {
	chtest.RequireLibrary(b)
	conn := chtest.EmbeddedAt(b, b.TempDir())
	l := newLog(b, conn)
	ctx := context.Background()
	n := benchEvents(b)
	const batch = 10_000
	var repo, raw time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		events := generate("bench", n, n/20, uint64(i+1))
		tenant := "bench" + strconv.Itoa(i)
		for _, e := range events {
			e.Tenant = tenant
		}
		b.StartTimer()
		start := time.Now()
		for j := 0; j < n; j += batch {
			if _, err := l.Append(ctx, events[j:min(j+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
		repo += time.Since(start)
		start = time.Now()
		if err := conn.Exec(ctx, rawCopy, clickhouse.Params{"t": tenant}); err != nil {
			b.Fatal(err)
		}
		raw += time.Since(start)
	}
	b.StopTimer()
	total := float64(n * b.N)
	repoRate, rawRate := total/repo.Seconds(), total/raw.Seconds()
	b.ReportMetric(repoRate, "events/s")
	b.ReportMetric(rawRate, "raw_rows/s")
	b.ReportMetric(repoRate/rawRate, "ratio")
}

// rawCopy writes a tenant's rows again under tenant "raw-<tenant>".
const rawCopy = `INSERT INTO events (` + eventColumns + `)
SELECT concat('raw-', tenant), subject_key, occurred_at, event_id, type, source, spec_version, recorded_at,
identifier_kinds, identifier_namespaces, identifier_hashes, data, sealed_key_id, sealed_values
FROM events WHERE tenant = {t:String}`

// BenchmarkByIdentifiers measures the per-subject read (about 100 events
// of one person among 50,000).
func BenchmarkByIdentifiers(b *testing.B) {
	chtest.RequireLibrary(b)
	conn := chtest.EmbeddedAt(b, b.TempDir())
	l := newLog(b, conn)
	ctx := context.Background()
	events := generate("acme", 50_000, 500, 9)
	for j := 0; j < len(events); j += 10_000 {
		if _, err := l.Append(ctx, events[j:j+10_000]); err != nil {
			b.Fatal(err)
		}
	}
	ids := []event.Identifier{events[0].Subject.Identifiers[0]}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		recs, err := l.ByIdentifiers(ctx, "acme", ids...)
		if err != nil || len(recs) == 0 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}
