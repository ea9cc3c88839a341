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
small) events=50000 ;;
large) events=1000000 ;;
*) echo "bench: size must be small or large" >&2; exit 2 ;;
esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "bench: size $size ($events events), $(nproc) cores, $(go version | cut -d' ' -f3)" >&2
CUSTODY_BENCH_EVENTS=$events go test -run '^$' -bench 'BenchmarkAppend$' -benchtime 1x -count 1 ./internal/eventlog/ | tee "$out" >&2

# Lines look like: BenchmarkAppend-2  1  2043864413 ns/op  33409 events/s  0.3656 ratio  91392 raw_rows/s
awk -v size="$size" -v events="$events" '
/^BenchmarkAppend/ {
	for (i = 1; i <= NF; i++) {
		if ($(i+1) == "events/s") v = $i
		if ($(i+1) == "raw_rows/s") raw = $i
		if ($(i+1) == "ratio") ratio = $i
	}
	target = 0.5
	result = (ratio >= target) ? "pass" : "FAIL"
	printf "%-44s %14s %16s %7s %7s  %s\n", "FIGURE", "VALUE", "RAW BASELINE", "RATIO", "TARGET", "RESULT" > "/dev/stderr"
	printf "%-44s %10.0f ev/s %11.0f rows/s %7.2f %7s  %s\n", "bulk append, repository on embedded chDB", v, raw, ratio, ">=0.50", result > "/dev/stderr"
	printf "{\"size\":\"%s\",\"events\":%d,\"figures\":[{\"figure\":\"bulk append, repository on embedded chDB\",\"value\":%.0f,\"unit\":\"events/s\",\"baseline\":%.0f,\"baseline_unit\":\"rows/s (INSERT ... SELECT, same rows, same table)\",\"ratio\":%.4f,\"target\":%.2f,\"result\":\"%s\"}]}\n", size, events, v, raw, ratio, target, result
}' "$out" >bench-results.json
echo "bench: wrote bench-results.json" >&2

echo "bench: micro-benchmarks (no baseline)" >&2
go test -run '^$' -bench . -benchtime 200ms -count 1 ./internal/clickhouse/rowbinary/ ./internal/keyring/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)' >&2
