package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/storage"
)

// prestoredEvents fills the log with n events of tenant "stored", 1,000-odd
// people per 100,000 events over the last year, written by the engine
// itself (internal/projectionstore's BenchmarkReadSide does the same): the
// mass a long-running node's log holds, not what is measured. They go into
// events and through its materialized views, event_ids among them, so the
// duplicate check of every ingested batch looks among them too. Ids are
// random (generateUUIDv4), as stored ids are to a new batch's.
const prestoredEvents = `INSERT INTO events (tenant, subject_key, occurred_at, event_id, type, source, spec_version,
    recorded_at, identifier_kinds, identifier_namespaces, identifier_hashes, data, sealed_key_id, sealed_values)
SELECT 'stored', lower(hex(SHA256(toString(number % {people:UInt64})))) AS sk,
       now64(3, 'UTC') - toIntervalSecond(number % 31536000) AS at,
       generateUUIDv4(), if(number % 4 = 0, 'data.shared', 'data.collected'), 'bench', '1.0', at + toIntervalMinute(5),
       ['email'], [''], [sk],
       if(number % 4 = 0,
          '{"recipient":{"name":"AdNet","kind":"advertising_network","role":"third_party"},"elements":[{"name":"email","category":"contact.email"}],"purposes":["targeted_advertising"],"disclosure":"sale","system":"crm"}',
          '{"elements":[{"name":"email","category":"contact.email"}],"origin":{"kind":"consumer","name":"form"},"purposes":["marketing"],"system":"crm"}'),
       '', ''
FROM numbers({n:UInt64})`

// prestore writes CUSTODY_BENCH_PRESTORED events (default 0: none) into
// the log before a benchmark ingests, and waits (5 minutes at most) until
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
	if err := store.Conn.Exec(ctx, prestoredEvents, clickhouse.Params{"n": uint64(n), "people": uint64(max(n/100, 1))}); err != nil {
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
