#!/usr/bin/env bash
# The benchmark harness (`make bench`). Runs the benchmarks that have a
# raw-engine baseline measured in the same run, prints one table (figure,
# value, baseline, ratio, target, pass/fail) and writes it as JSON to
# bench-results.json. Then runs the other micro-benchmarks for reference.
#   scripts/bench.sh [small|large]   (BENCH_SIZE; small is the CI smoke size)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-small}
case "$size" in
small) events=50000 append_iterations=3 ;;
large) events=1000000 append_iterations=1 ;;
*) echo "bench: size must be small or large" >&2; exit 2 ;;
esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "bench: size $size ($events events), $(nproc) cores, $(go version | cut -d' ' -f3)" >&2
CUSTODY_BENCH_EVENTS=$events go test -run '^$' -bench 'BenchmarkAppend$' -benchtime ${append_iterations}x -count 1 ./internal/eventlog/ | tee "$out" >&2
ingest_events=$((events < 100000 ? 100000 : events))
CUSTODY_BENCH_EVENTS=$ingest_events go test -run '^$' -bench 'BenchmarkIngestHTTP$' -benchtime 1x -count 1 ./test/e2e/ | tee -a "$out" >&2

# A line looks like: BenchmarkAppend-2 1 1.7e9 ns/op 55478 events/s
#   138697 insert_select_rows/s 0.52 ratio 0.37 ratio_insert_select 105439 raw_insert_rows/s
awk -v size="$size" -v events="$events" '
/^BenchmarkAppend/ {
	for (i = 1; i < NF; i++) m[$(i+1)] = $i
	v = m["events/s"]; raw = m["raw_insert_rows/s"]; ratio = m["ratio"]
	sel = m["insert_select_rows/s"]; rsel = m["ratio_insert_select"]
	target = 0.5
	result = (ratio >= target) ? "pass" : "FAIL"
	f1 = "bulk append, repository on embedded chDB, vs raw bulk insert"
	f2 = "bulk append, repository on embedded chDB, vs INSERT ... SELECT"
	printf "\n%-64s %11s %13s %6s %7s  %s\n", "FIGURE", "VALUE", "RAW BASELINE", "RATIO", "TARGET", "RESULT" > "/dev/stderr"
	printf "%-64s %7.0f ev/s %8.0f row/s %6.2f %7s  %s\n", f1, v, raw, ratio, ">=0.50", result > "/dev/stderr"
	printf "%-64s %7.0f ev/s %8.0f row/s %6.2f %7s  %s\n\n", f2, v, sel, rsel, "-", "info" > "/dev/stderr"
	printf "{\"size\":\"%s\",\"events\":%d,\"figures\":[", size, events
	printf "{\"figure\":\"%s\",\"value\":%.0f,\"unit\":\"events/s\",\"baseline\":%.0f,\"baseline_unit\":\"rows/s\",\"ratio\":%.4f,\"target\":%.2f,\"result\":\"%s\"},", f1, v, raw, ratio, target, result
	printf "{\"figure\":\"%s\",\"value\":%.0f,\"unit\":\"events/s\",\"baseline\":%.0f,\"baseline_unit\":\"rows/s\",\"ratio\":%.4f,\"target\":null,\"result\":\"info\"}]}\n", f2, v, sel, rsel
}' "$out" >bench-results.json
awk '
/^BenchmarkIngestHTTP/ {
	for (i = 1; i < NF; i++) m[$(i+1)] = $i
	v = m["events/s"]; raw = m["raw_rows/s"]; ratio = m["ratio"]
	result = (v >= 50000 && ratio >= 0.30) ? "pass" : "FAIL"
	f = "end-to-end ingest: HTTP -> NATS -> pipeline -> readable (single node)"
	printf "%-64s %7.0f ev/s %8.0f row/s %6.2f %7s  %s\n\n", f, v, raw, ratio, ">=0.30", result > "/dev/stderr"
	printf "{\"figure\":\"%s\",\"value\":%.0f,\"unit\":\"events/s\",\"baseline\":%.0f,\"baseline_unit\":\"rows/s (INSERT ... SELECT)\",\"ratio\":%.4f,\"target\":\"50000 events/s and ratio 0.30\",\"result\":\"%s\"}\n", f, v, raw, ratio, result
}' "$out" >bench-ingest.json
echo "bench: wrote bench-results.json and bench-ingest.json" >&2

echo "bench: micro-benchmarks (no baseline)" >&2
go test -run '^$' -bench . -benchtime 200ms -count 1 ./internal/clickhouse/rowbinary/ ./internal/keyring/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)' >&2
