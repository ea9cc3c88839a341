#!/usr/bin/env bash
# The benchmark harness (`make bench`). Runs every benchmark that has a
# target, each measuring the raw engine doing the same work in the same run,
# then prints one table (figure, value, raw baseline, ratio, target,
# pass/fail) and writes it as JSON to bench-results.json. Then runs the
# micro-benchmarks for reference.
#   scripts/bench.sh [small|large]   (BENCH_SIZE; small is the CI smoke size)
# small finishes in a few minutes here; large stores ≥ 10,000,000 events.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-small}
case "$size" in
small) append_events=50000 append_iterations=3 ingest_events=100000 stored=200000 ;;
large) append_events=10000000 append_iterations=1 ingest_events=1000000 stored=10000000 ;;
*) echo "bench: size must be small or large" >&2; exit 2 ;;
esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3)"

echo "bench: size $size, $machine" >&2
run() { # package, benchmark, env...
	local pkg=$1 bench=$2 times=$3
	shift 3
	echo "bench: $bench ($pkg)" >&2
	env "$@" go test -run '^$' -bench "^$bench\$" -benchtime "$times" -count 1 -timeout 60m "$pkg" | tee -a "$out" >&2
}
run ./internal/eventlog/ BenchmarkAppend "${append_iterations}x" CUSTODY_BENCH_EVENTS=$append_events
run ./test/e2e/ BenchmarkIngestHTTP 1x CUSTODY_BENCH_EVENTS=$ingest_events
run ./internal/projectionstore/ BenchmarkReadSide 1x CUSTODY_BENCH_STORED=$stored

echo >&2
go run ./cmd/benchreport -size "$size" -machine "$machine" -out bench-results.json <"$out"
echo "bench: wrote bench-results.json" >&2

echo "bench: micro-benchmarks (no baseline)" >&2
go test -run '^$' -bench . -benchtime 200ms -count 1 ./internal/clickhouse/rowbinary/ ./internal/keyring/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)' >&2
