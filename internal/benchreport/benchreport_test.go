package benchreport

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkAppend-2   	       3	1700000000 ns/op	     55478 events/s	    138697 insert_select_rows/s	         0.52 ratio	         0.40 ratio_insert_select	    105439 raw_insert_rows/s
BenchmarkReadSide-2 	       1	13797738472 ns/op	        60.54 lineage_p99_ms	         0.6580 lineage_ratio	    301168 raw_copy_rows/s	        39.83 raw_read_p99_ms	    100109 rebuild_events/s	         0.3324 rebuild_ratio	        50.02 record_p99_ms	         0.7963 record_ratio	    200000 stored_events
PASS
`

func TestParseAndJudge(t *testing.T) {
	got, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got["BenchmarkAppend"]["ratio"] != 0.52 || got["BenchmarkReadSide"]["record_p99_ms"] != 50.02 {
		t.Fatalf("parsed %+v", got)
	}
	rows := Judge(Figures(), got)
	want := map[string]string{
		"bulk append (repository, embedded chDB) vs raw bulk insert":   "pass",
		"bulk append vs INSERT … SELECT of the same rows":              "info",
		"end-to-end ingest HTTP → NATS → pipeline → readable":          "missing",
		"per-subject record, 1,000 events, p99":                        "FAIL", // 50.02 > 50
		"lineage depth 5, both ways, p99":                              "pass",
		"projection rebuild (every projection) vs raw copy of the log": "FAIL",
	}
	for _, r := range rows {
		if w, ok := want[r.Figure]; ok && r.Result != w {
			t.Errorf("%s: %s, want %s", r.Figure, r.Result, w)
		}
	}
	var b bytes.Buffer
	if err := WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "50.0 ms") || !strings.Contains(b.String(), "missing") {
		t.Fatalf("table:\n%s", b.String())
	}
}

func TestParseRejectsGarbledMetrics(t *testing.T) {
	if _, err := Parse(strings.NewReader("BenchmarkX-2 1 5 ns/op abc events/s\n")); err == nil {
		t.Fatal("a non-numeric metric was accepted")
	}
}

// Sub-benchmarks are figures of their own (the -GOMAXPROCS suffix comes
// after the sub-benchmark's name), and the ack → readable target needs
// every event readable, not only a low p99 of those that were.
func TestJudgeTrafficFigures(t *testing.T) {
	const out = `BenchmarkIngestSmallRequests/per=100-2   	1	348 ns/op	 209.1 ack_readable_p50_ms	 213.9 ack_readable_p99_ms	 32205 acked_events/s	 8.285 ratio	 1736 raw_insert_rows/s	 54379 readable_events/s	 0 unreadable_events
BenchmarkIngestSmallRequests/per=2-2     	1	519 ns/op	 221.4 ack_readable_p50_ms	 1874.4 ack_readable_p99_ms	 6477 acked_events/s	 49.88 ratio	 77.19 raw_insert_rows/s	 23850 readable_events/s	 12 unreadable_events
BenchmarkReadsBesideIngest-2             	1	9 ns/op	 0.93 ingest_kept	 9310 ingest_with_reads_events/s	 10010 ingest_alone_events/s	 140 reads/s	 620 read_p99_ms	 30 raw_read_p99_ms	 0.048 read_ratio
`
	got, err := Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ingest 100 events/request, 50 clients: readable":              "pass",
		"ingest 2 events/request, 50 clients: readable":                "pass",
		"ingest 2 events/request: ack → readable p99":                  "FAIL", // 12 events never readable
		"ingest 1 event/request, 50 clients: readable":                 "missing",
		"ingest 10 events/request: acknowledged":                       "missing",
		"GraphQL subject reads beside ingest, 20 readers":              "pass",
		"GraphQL subject read beside ingest, p99":                      "FAIL",
		"ingest readable with reads vs alone (baseline: ingest alone)": "pass",
	}
	seen := 0
	for _, r := range Judge(Figures(), got) {
		if w, ok := want[r.Figure]; ok {
			seen++
			if r.Result != w {
				t.Errorf("%s: %s, want %s", r.Figure, r.Result, w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d figures", seen, len(want))
	}
}
