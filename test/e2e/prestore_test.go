package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/storage"
)

// prestore writes CUSTODY_BENCH_PRESTORED events (default 0: none) of
// tenant "stored" into the log before a benchmark ingests, written by the
// engine itself (logtest.SyntheticEvents, as internal/projectionstore's
// BenchmarkReadSide does: 1,000-odd people per 100,000 events over the last
// year), the mass a long-running node's log holds; the duplicate check of
// every ingested batch looks among them, and waits (5 minutes at most) until
// the engine has merged what the bulk load left, as a log of that size is
// between bulk loads. It returns the number written.
func prestore(b *testing.B, store *storage.Storage) int {
	b.Helper()
	n := benchEnvInt(b, "CUSTODY_BENCH_PRESTORED", 0, 0, 1_000_000_000)
	if n == 0 {
		return 0
	}
	ctx := context.Background()
	start := time.Now()
	if err := store.Conn.Exec(ctx, logtest.SyntheticEvents, clickhouse.Params{"tenant": "stored", "n": uint64(n),
		"people": uint64(max(n/100, 1)), "span": uint64(365 * 24 * 3600),
		"start": time.Now().UTC().AddDate(-1, 0, 0).Format("2006-01-02 15:04:05.000")}); err != nil {
		b.Fatalf("prestore %d events: %v", n, err)
	}
	b.Logf("prestored %d events in %s", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for time.Since(start) < 5*time.Minute {
		var merges []struct {
			N uint64 `ch:"n"`
		}
		if err := store.Conn.Select(ctx, &merges, `SELECT count() AS n FROM system.merges`, nil); err != nil {
			b.Fatal(err)
		}
		if merges[0].N == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	b.Logf("merges settled after %s", time.Since(start).Round(time.Second))
	return n
}
