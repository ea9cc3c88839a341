package benchreport

// Figures are the harness's rows: every benchmark of the issues with a
// target, each against the raw engine doing the same work in the same run.
// Ratios are "fraction of raw": ours/raw for throughputs, raw/ours for
// latencies, so 1.0 is as fast as the engine alone.
func Figures() []Figure {
	atLeast := func(metric string, v float64) func(Metrics) bool {
		return func(m Metrics) bool { return m[metric] >= v }
	}
	atMost := func(metric string, v float64) func(Metrics) bool {
		return func(m Metrics) bool { return m[metric] <= v }
	}
	return []Figure{
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
	}
}
