#!/usr/bin/env bash
# The benchmark harness (`make bench`). Runs every benchmark that has a
# target, each measuring the raw engine doing the same work in the same run,
# then prints one table (figure, value, raw baseline, ratio, target,
# pass/fail) and writes it as JSON to bench-results.json. Then runs the
# micro-benchmarks for reference.
#   scripts/bench.sh [small|large]   (BENCH_SIZE; small is the CI smoke size)
# small finishes in a few minutes here (at most ~6); large stores ≥
# 10,000,000 events.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-small}
# traffic: events/request:events for BenchmarkIngestSmallRequests (issue 20);
# people, phase_seconds: BenchmarkReadsBesideIngest's people read (50 events
# each) and the length of each of its three phases; deadline: seconds each
# traffic measurement (and each backlog drain) may take before it reports
# what was readable by then.
case "$size" in
small)
	append_events=50000 append_iterations=3 ingest_events=100000 stored=200000 prestored=0
	traffic=100:50000,10:50000,2:20000,1:20000 people=2000 phase_seconds=15 deadline=45 ;;
large)
	append_events=10000000 append_iterations=1 ingest_events=1000000 stored=10000000 prestored=10000000
	traffic=100:500000,10:500000,2:200000,1:200000 people=20000 phase_seconds=60 deadline=300 ;;
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
# large: into a log already holding $prestored events (see prestore).
run ./test/e2e/ BenchmarkIngestHTTP 1x CUSTODY_BENCH_EVENTS=$ingest_events CUSTODY_BENCH_PRESTORED=$prestored
run ./test/e2e/ BenchmarkIngestSmallRequests 1x CUSTODY_BENCH_PER_REQUEST=$traffic CUSTODY_BENCH_CLIENTS=50 \
	CUSTODY_BENCH_DEADLINE=$deadline CUSTODY_BENCH_BASELINE_SECONDS=5
run ./test/e2e/ BenchmarkReadsBesideIngest 1x CUSTODY_BENCH_PEOPLE=$people CUSTODY_BENCH_PERSON_EVENTS=50 \
	CUSTODY_BENCH_INGEST_RATE=10000 CUSTODY_BENCH_PHASE_SECONDS=$phase_seconds CUSTODY_BENCH_READERS=20 CUSTODY_BENCH_DEADLINE=$deadline
run ./internal/projectionstore/ BenchmarkReadSide 1x CUSTODY_BENCH_STORED=$stored

echo >&2
go run ./cmd/benchreport -size "$size" -machine "$machine" -out bench-results.json <"$out"
echo "bench: wrote bench-results.json" >&2

echo "bench: micro-benchmarks (no baseline)" >&2
go test -run '^$' -bench . -benchtime 200ms -count 1 ./internal/clickhouse/rowbinary/ ./internal/keyring/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)' >&2
