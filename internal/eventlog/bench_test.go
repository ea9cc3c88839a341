package eventlog

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
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
// check, identifier hashing, value sealing, sorting, RowBinary insert) on
// embedded chDB. In the same run it measures two raw-engine baselines on
// the same rows and the same table (materialized views included):
//   - raw_insert: one bulk insert of the already-prepared rows through the
//     port (the engine ingesting the same bytes; target ratio ≥ 0.5);
//   - insert_select: the engine copying the rows internally with
//     INSERT … SELECT (no input parsing at all; reported for reference).
func BenchmarkAppend(b *testing.B) {
	chtest.RequireLibrary(b)
	conn := chtest.EmbeddedAt(b, b.TempDir())
	l := newLog(b, conn)
	ctx := context.Background()
	n := benchEvents(b)
	// One Append call carries up to 50,000 events (a bulk load, or the
	// ingest consumer's largest batch); smaller batches create more parts.
	const batch = 50_000
	var repo, rawInsert, insertSelect time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tenant := "bench" + strconv.Itoa(i)
		// Events are generated a batch at a time, outside the timings, so
		// that 10,000,000 fit in memory.
		chunk := func(prefix string, j int) []*event.Event {
			return generate(prefix+tenant, min(batch, n-j), max(n/20, 1), uint64(i+1)<<32|uint64(j))
		}
		for j := 0; j < n; j += batch {
			b.StopTimer()
			events := chunk("", j)
			b.StartTimer()
			start := time.Now()
			if _, err := l.Append(ctx, events); err != nil {
				b.Fatal(err)
			}
			repo += time.Since(start)
		}
		for j := 0; j < n; j += batch {
			b.StopTimer()
			raw := prepareRows(b, l, chunk("raw", j))
			b.StartTimer()
			start := time.Now()
			if err := conn.Insert(ctx, tableEvents, raw); err != nil {
				b.Fatal(err)
			}
			rawInsert += time.Since(start)
		}

		start := time.Now()
		if err := conn.Exec(ctx, rawCopy, clickhouse.Params{"t": tenant}); err != nil {
			b.Fatal(err)
		}
		insertSelect += time.Since(start)
	}
	b.StopTimer()
	total := float64(n * b.N)
	rate := func(d time.Duration) float64 { return total / d.Seconds() }
	b.ReportMetric(rate(repo), "events/s")
	b.ReportMetric(rate(rawInsert), "raw_insert_rows/s")
	b.ReportMetric(rate(repo)/rate(rawInsert), "ratio")
	b.ReportMetric(rate(insertSelect), "insert_select_rows/s")
	b.ReportMetric(rate(repo)/rate(insertSelect), "ratio_insert_select")
}

// prepareRows turns events into stored rows (hashed, sealed, sorted per
// batch) without storing them, for the raw baseline.
func prepareRows(b *testing.B, l *Log, events []*event.Event) []row {
	ctx := context.Background()
	todo := make([]pending, len(events))
	for i, e := range events {
		todo[i] = pendingOf(b, l, e)
	}
	if err := l.dataKeys(ctx, todo); err != nil {
		b.Fatal(err)
	}
	rows := make([]row, len(todo))
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i, p := range todo {
		r, err := l.toRow(p, now)
		if err != nil {
			b.Fatal(err)
		}
		rows[i] = r
	}
	for j := 0; j < len(rows); j += 50_000 {
		slices.SortFunc(rows[j:min(j+50_000, len(rows))], compareRows)
	}
	return rows
}

// pendingOf is e split and hashed as Append does it.
func pendingOf(tb testing.TB, l *Log, e *event.Event) pending {
	tb.Helper()
	entry, err := event.Split(e)
	if err != nil {
		tb.Fatal(err)
	}
	refs, subject, err := hashIdentifiers(l.hasher, entry.ID, entry.Identifiers)
	if err != nil {
		tb.Fatal(err)
	}
	return pending{e: &entry, refs: refs, subject: subject}
}

// rawCopy writes a tenant's rows again under tenant "raw-<tenant>", inside
// the engine.
const rawCopy = `INSERT INTO events (` + eventColumns + `)
SELECT concat('raw-', tenant), subject_key, occurred_at, event_id, type, source, spec_version, recorded_at,
identifier_kinds, identifier_namespaces, identifier_hashes, data, sealed_key_id, sealed_values
FROM events WHERE tenant = {t:String}`

// BenchmarkInternalByHashes measures the audit trail's read: one person's
// recorded reads (access.recorded, 10 of them) found by their identifiers'
// hashes through event_identifiers, among 50,000 ordinary events and 5,000
// recorded reads of 500 people.
func BenchmarkInternalByHashes(b *testing.B) {
	chtest.RequireLibrary(b)
	conn := chtest.EmbeddedAt(b, b.TempDir())
	l := newLog(b, conn)
	ctx := context.Background()
	events := generate("acme", 50_000, 500, 9)
	for p := range 500 {
		for i := range 10 {
			events = append(events, accessRecorded("acme", time.Date(2026, 2, 1, 0, i, 0, 0, time.UTC),
				event.Identifier{Kind: identity.Email, Value: fmt.Sprintf("person%d@example.com", p)},
				event.Identifier{Kind: identity.CustomerID, Value: fmt.Sprintf("C-%d", p)}))
		}
	}
	for j := 0; j < len(events); j += 10_000 {
		if _, err := l.Append(ctx, events[j:min(j+10_000, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	hashes := personHashes(b, l, events[0].Subject.Identifiers...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		recs, err := l.InternalByHashes(ctx, "acme", hashes, event.TypeAccessRecorded)
		if err != nil || len(recs) != 10 {
			b.Fatalf("%d records, %v; want 10", len(recs), err)
		}
	}
}
