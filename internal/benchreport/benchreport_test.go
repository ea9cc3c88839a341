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
