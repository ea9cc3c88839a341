#!/usr/bin/env bash
# The test command README gives (`make test`, which runs `make deps` first).
# Starts Debian's clickhouse-server (if installed) for the native-transport
# suite, checks formatting and vet, then runs every Go test. With CI=true a
# test that cannot find a dependency fails instead of skipping.
# Extra arguments go to `go test` (e.g. -run Conformance).
# Environment:
#   CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR  use this server for the native suite
#                                        instead of starting Debian's
#   CUSTODY_TEST_CLICKHOUSE_ADDR         a modern server: run the full product
#                                        suite on the native transport too
#   HELM                                 use this helm for the chart tests
#                                        instead of building the pinned one
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test: %s\n' "$*" >&2; }

server_dir=""
cleanup() {
	if [ -n "$server_dir" ]; then
		scripts/clickhouse-server.sh stop "$server_dir" >/dev/null 2>&1 || true
		rm -rf "$server_dir"
	fi
}
trap cleanup EXIT

if [ -z "${CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR:-}" ] && command -v clickhouse-server >/dev/null; then
	server_dir=$(mktemp -d)
	port=${CUSTODY_TEST_CLICKHOUSE_PORT:-19000}
	say "starting Debian clickhouse-server on 127.0.0.1:$port for the native suite"
	CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR=$(scripts/clickhouse-server.sh start "$server_dir" "$port" 0)
	export CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR
fi
if [ -z "${CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR:-}" ]; then
	say "no ClickHouse server: native-transport tests will skip (fail with CI=true)"
fi

scripts/deps.sh test-tools
if [ -z "${HELM:-}" ]; then
	HELM=$(scripts/deps.sh helm)
	export HELM
fi

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	say "gofmt would change:"; echo "$unformatted" >&2; exit 1
fi
say "go vet"
go vet ./...
say "generated GraphQL code is up to date"
gql_sum() { cat internal/graphql/generated/*.go internal/graphql/model/models_gen.go | sha256sum; }
before=$(gql_sum)
go generate ./internal/graphql/...
if [ "$before" != "$(gql_sum)" ]; then
	say "go generate ./internal/graphql/... changed the generated code: review and commit it"
	exit 1
fi
say "go test"
go test -count=1 -timeout 30m "$@" ./...
