#!/usr/bin/env bash
# Installs what Custody needs to run and test, idempotently and fast when
# warm:
#   - Go modules (go mod download);
#   - chDB's libchdb.so, pinned, from the npm registry, integrity-checked,
#     into a cache outside the repository (never committed);
#   - when root (as in CI) and not yet installed: Debian's clickhouse-server
#     and clickhouse-client, for the native-transport tests.
# Environment: CUSTODY_CHDB_LIB (use this library instead of the cache),
# XDG_CACHE_HOME, CUSTODY_SKIP_APT=1 (skip Debian packages).
set -euo pipefail

CHDB_PACKAGE="@chdb/lib-linux-x64-gnu"
CHDB_VERSION="26.7.3-stable.1" # keep in step with chdb.PinnedVersion
# sha512 integrity of the npm tarball, as the registry publishes it.
CHDB_INTEGRITY="sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw=="

cache="${XDG_CACHE_HOME:-$HOME/.cache}/custody/chdb/$CHDB_VERSION"
lib="$cache/libchdb.so"
marker="$cache/.integrity"

say() { printf 'deps: %s\n' "$*" >&2; }

install_chdb() {
	if [ -n "${CUSTODY_CHDB_LIB:-}" ]; then
		[ -f "$CUSTODY_CHDB_LIB" ] || { say "CUSTODY_CHDB_LIB=$CUSTODY_CHDB_LIB does not exist"; exit 1; }
		say "chDB: using CUSTODY_CHDB_LIB=$CUSTODY_CHDB_LIB"
		return
	fi
	if [ -f "$lib" ] && [ "$(cat "$marker" 2>/dev/null)" = "$CHDB_INTEGRITY" ]; then
		say "chDB $CHDB_VERSION: cached at $lib"
		return
	fi
	command -v npm >/dev/null || { say "npm is needed to fetch chDB (apt-get install -y npm)"; exit 1; }
	local tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	say "chDB $CHDB_VERSION: downloading $CHDB_PACKAGE (~180 MB) from the npm registry"
	(cd "$tmp" && npm pack --silent "$CHDB_PACKAGE@$CHDB_VERSION" >/dev/null 2>npm.log) || {
		cat "$tmp/npm.log" >&2; say "npm pack failed"; exit 1; }
	local tgz got
	tgz=$(ls "$tmp"/*.tgz)
	got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
	if [ "$got" != "$CHDB_INTEGRITY" ]; then
		say "chDB tarball integrity mismatch: got $got, want $CHDB_INTEGRITY"
		exit 1
	fi
	tar -xzf "$tgz" -C "$tmp" package/libchdb.so
	mkdir -p "$cache"
	mv "$tmp/package/libchdb.so" "$lib.tmp" && mv "$lib.tmp" "$lib"
	printf '%s' "$CHDB_INTEGRITY" >"$marker"
	say "chDB $CHDB_VERSION: installed $lib (integrity verified)"
}

install_clickhouse_server() {
	if command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null; then
		say "clickhouse-server: $(clickhouse-client --version 2>/dev/null | head -1)"
		return
	fi
	if [ "${CUSTODY_SKIP_APT:-}" = 1 ]; then
		say "clickhouse-server: skipped (CUSTODY_SKIP_APT=1)"
		return
	fi
	if [ "$(id -u)" != 0 ]; then
		say "clickhouse-server: not installed and not root; native-transport tests will not run (sudo apt-get install clickhouse-server clickhouse-client)"
		return
	fi
	say "clickhouse-server: installing Debian's packages (for the native-transport tests)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null
	say "clickhouse-server: $(clickhouse-client --version 2>/dev/null | head -1)"
}

# helm is only needed by the chart tests (deploy/helm): built once from the
# Go module proxy, pinned, into the cache. `make test` asks for it; `make
# run` does not.
HELM_VERSION="v3.22.0"
helm_dir="${XDG_CACHE_HOME:-$HOME/.cache}/custody/helm-$HELM_VERSION"
install_helm() {
	if [ -x "$helm_dir/helm" ]; then
		say "helm $HELM_VERSION: cached at $helm_dir/helm"
		return
	fi
	say "helm $HELM_VERSION: building from the Go module proxy (about 1.5 min, once)"
	GOBIN="$helm_dir" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
	say "helm $HELM_VERSION: installed $helm_dir/helm"
}

# Tools the report tests read their output with (pdftotext) and render it in
# (headless Chromium): Debian's packages, as root; `make test` asks for them.
install_test_tools() {
	if command -v pdftotext >/dev/null && command -v chromium >/dev/null; then
		return
	fi
	if [ "${CUSTODY_SKIP_APT:-}" = 1 ] || [ "$(id -u)" != 0 ]; then
		say "pdftotext/chromium: not installed (sudo apt-get install poppler-utils chromium); the report render tests will skip (fail with CI=true)"
		return
	fi
	say "installing Debian's poppler-utils and chromium (report render tests)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq poppler-utils chromium >/dev/null
}

case "${1:-all}" in
chdb) install_chdb ;;
server) install_clickhouse_server ;;
helm) install_helm; printf '%s\n' "$helm_dir/helm" ;;
test-tools) install_test_tools ;;
all)
	say "Go modules"
	go mod download
	install_chdb
	install_clickhouse_server
	;;
*) say "usage: deps.sh [all|chdb|server|helm|test-tools]"; exit 2 ;;
esac
