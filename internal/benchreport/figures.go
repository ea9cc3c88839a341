package benchreport

// Figures are the harness's rows: every benchmark of the issues with a
// target, each against the raw engine doing the same work in the same run
// (one exception, named in its figure: ingest beside reads is against the
// same ingest alone). Ratios are "fraction of raw": ours/raw for
// throughputs, raw/ours for latencies, so 1.0 is as fast as the engine
// alone.
func Figures() []Figure {
	atLeast := func(metric string, v float64) func(Metrics) bool {
		return func(m Metrics) bool { return m[metric] >= v }
	}
	atMost := func(metric string, v float64) func(Metrics) bool {
		return func(m Metrics) bool { return m[metric] <= v }
	}
	figs := []Figure{
		{Name: "bulk append (repository, embedded chDB) vs raw bulk insert", Benchmark: "BenchmarkAppend",
			Value: "events/s", Unit: "ev/s", Baseline: "raw_insert_rows/s", BaseUnit: "rows/s", Ratio: "ratio",
			Target: Target{Text: "ratio ≥ 0.50", Pass: atLeast("ratio", 0.5)}},
		{Name: "bulk append vs INSERT … SELECT of the same rows", Benchmark: "BenchmarkAppend",
			Value: "events/s", Unit: "ev/s", Baseline: "insert_select_rows/s", BaseUnit: "rows/s", Ratio: "ratio_insert_select"},
		{Name: "end-to-end ingest HTTP → NATS → pipeline → readable", Benchmark: "BenchmarkIngestHTTP",
			Value: "events/s", Unit: "ev/s", Baseline: "raw_insert_rows/s", BaseUnit: "rows/s", Ratio: "ratio",
			Target: Target{Text: "≥ 50000 ev/s, ≥ 0.30", Pass: func(m Metrics) bool { return m["events/s"] >= 50_000 && m["ratio"] >= 0.30 }}},
		{Name: "end-to-end ingest vs INSERT … SELECT of the same rows", Benchmark: "BenchmarkIngestHTTP",
			Value: "events/s", Unit: "ev/s", Baseline: "insert_select_rows/s", BaseUnit: "rows/s", Ratio: "ratio_insert_select"},
		{Name: "single node peak RSS during end-to-end ingest", Benchmark: "BenchmarkIngestHTTP",
			Value: "peak_rss_MiB", Unit: "MiB"},
		{Name: "per-subject record, 1,000 events, p99", Benchmark: "BenchmarkReadSide",
			Value: "record_p99_ms", Unit: "ms", Baseline: "raw_read_p99_ms", BaseUnit: "ms", Ratio: "record_ratio",
			Target: Target{Text: "p99 ≤ 50 ms", Pass: atMost("record_p99_ms", 50)}},
		{Name: "lineage depth 5, both ways, p99", Benchmark: "BenchmarkReadSide",
			Value: "lineage_p99_ms", Unit: "ms", Baseline: "raw_read_p99_ms", BaseUnit: "ms", Ratio: "lineage_ratio",
			Target: Target{Text: "p99 ≤ 100 ms", Pass: atMost("lineage_p99_ms", 100)}},
		{Name: "projection rebuild (every projection) vs raw copy of the log", Benchmark: "BenchmarkReadSide",
			Value: "rebuild_events/s", Unit: "ev/s", Baseline: "raw_copy_rows/s", BaseUnit: "rows/s", Ratio: "rebuild_ratio",
			Target: Target{Text: "≥ 300000 ev/s", Pass: atLeast("rebuild_events/s", 300_000)}},
		{Name: "events stored beside the subject read", Benchmark: "BenchmarkReadSide", Value: "stored_events", Unit: "events"},
		{Name: "events stored before the end-to-end ingest", Benchmark: "BenchmarkIngestHTTP", Value: "prestored_events", Unit: "events"},
	}
	// Issue 20: the traffic users send. Small requests from 50 clients,
	// per request size: events readable per second against the engine
	// inserting the same rows in batches of that size from as many
	// inserters, the ack → readable latency, and the acknowledged rate.
	for _, s := range []struct {
		per        string
		readable   Target
		ackLatency Target
	}{
		{per: "1"},
		{per: "2", readable: Target{Text: "≥ 20000 ev/s", Pass: atLeast("readable_events/s", 20_000)},
			ackLatency: Target{Text: "p99 ≤ 2 s", Pass: func(m Metrics) bool {
				return m["ack_readable_p99_ms"] <= 2000 && m["unreadable_events"] == 0
			}}},
		{per: "10"},
		{per: "100", readable: Target{Text: "≥ 50000 ev/s", Pass: atLeast("readable_events/s", 50_000)}},
	} {
		bench, what := "BenchmarkIngestSmallRequests/per="+s.per, s.per+" events/request"
		if s.per == "1" {
			what = "1 event/request"
		}
		figs = append(figs,
			Figure{Name: "ingest " + what + ", 50 clients: readable", Benchmark: bench,
				Value: "readable_events/s", Unit: "ev/s", Baseline: "raw_insert_rows/s", BaseUnit: "rows/s", Ratio: "ratio", Target: s.readable},
			Figure{Name: "ingest " + what + ": ack → readable p99", Benchmark: bench,
				Value: "ack_readable_p99_ms", Unit: "ms", Target: s.ackLatency},
			Figure{Name: "ingest " + what + ": acknowledged", Benchmark: bench, Value: "acked_events/s", Unit: "ev/s"})
	}
	return append(figs,
		// The process's peak so far, read by the size that runs last.
		Figure{Name: "single node peak RSS during small-request ingest", Benchmark: "BenchmarkIngestSmallRequests/per=1",
			Value: "peak_rss_MiB", Unit: "MiB"},
		Figure{Name: "GraphQL subject reads beside ingest, 20 readers", Benchmark: "BenchmarkReadsBesideIngest",
			Value: "reads/s", Unit: "reads/s", Baseline: "raw_reads/s", BaseUnit: "reads/s",
			Target: Target{Text: "≥ 100 reads/s", Pass: atLeast("reads/s", 100)}},
		Figure{Name: "GraphQL subject read beside ingest, p99", Benchmark: "BenchmarkReadsBesideIngest",
			Value: "read_p99_ms", Unit: "ms", Baseline: "raw_read_p99_ms", BaseUnit: "ms", Ratio: "read_ratio",
			Target: Target{Text: "p99 ≤ 500 ms", Pass: atMost("read_p99_ms", 500)}},
		Figure{Name: "ingest readable with reads vs alone (baseline: ingest alone)", Benchmark: "BenchmarkReadsBesideIngest",
			Value: "ingest_with_reads_events/s", Unit: "ev/s", Baseline: "ingest_alone_events/s", BaseUnit: "ev/s", Ratio: "ingest_kept",
			Target: Target{Text: "kept ≥ 0.90", Pass: atLeast("ingest_kept", 0.9)}},
	)
}
