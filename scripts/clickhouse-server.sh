#!/usr/bin/env bash
# clickhouse-server.sh — run Debian's clickhouse-server (18.16) as a private
# daemon whose config, data, tmp, logs and pid all live in one directory.
#
#   scripts/clickhouse-server.sh start DIR [PORT [HTTP_PORT]]
#   scripts/clickhouse-server.sh stop DIR
#   scripts/clickhouse-server.sh status DIR
#
# PORT is the native TCP port (default 9000). HTTP_PORT defaults to
# 8123 + (PORT - 9000); 0 disables HTTP. The server listens on 127.0.0.1 only,
# user "default" with an empty password, server time zone UTC.
#
# start waits (up to CLICKHOUSE_START_TIMEOUT seconds, default 60) until
# `clickhouse-client --port PORT -q 'SELECT 1'` answers, then prints the
# native address (host:port) on stdout. start on a running server is a no-op
# that prints the address again. systemd is not needed.
#
# The server runs as the calling user; 18.16 does not refuse root (checked),
# so no su/runuser is needed.
set -euo pipefail

SERVER=${CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}
CLIENT=${CLICKHOUSE_CLIENT:-clickhouse-client}
TIMEOUT=${CLICKHOUSE_START_TIMEOUT:-60}

die() { echo "clickhouse-server.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start DIR [PORT [HTTP_PORT]] | stop DIR | status DIR"; }

# running DIR: true when DIR/clickhouse-server.pid names a live process.
running() {
	local pidfile=$1/clickhouse-server.pid pid
	[[ -s $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null
}

# port_busy PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

client_ok() {
	"$CLIENT" --host 127.0.0.1 --port "$1" -q 'SELECT 1' >/dev/null 2>&1
}

write_config() {
	local dir=$1 port=$2 http=$3 http_xml=""
	if [[ $http != 0 ]]; then
		http_xml="<http_port>$http</http_port>"
	fi
	cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by scripts/clickhouse-server.sh; based on /etc/clickhouse-server/config.xml. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$port</tcp_port>
    $http_xml
    <max_connections>4096</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
    <dictionaries_config>*_dictionary.xml</dictionaries_config>
</yandex>
EOF
	cat >"$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Written by scripts/clickhouse-server.sh; based on /etc/clickhouse-server/users.xml. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>10000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

log_tail() {
	local dir=$1 f
	for f in "$dir/log/clickhouse-server.err.log" "$dir/log/stderr.log"; do
		if [[ -s $f ]]; then
			echo "--- tail of $f ---" >&2
			tail -n 30 "$f" >&2
		fi
	done
}

start() {
	local dir=$1 port=${2:-9000} http=${3:-}
	[[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "bad PORT $port"
	if [[ -z $http ]]; then
		http=$((8123 + port - 9000))
		((http > 0 && http < 65536 && http != port)) || http=0
	fi
	[[ $http =~ ^[0-9]+$ ]] && ((http < 65536)) || die "bad HTTP_PORT $http"
	[[ -x $SERVER ]] || die "$SERVER not found (apt-get install clickhouse-server clickhouse-client)"
	command -v "$CLIENT" >/dev/null || die "$CLIENT not found (apt-get install clickhouse-client)"

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if running "$dir"; then
		local cur
		cur=$(sed -n 's:.*<tcp_port>\([0-9]*\)</tcp_port>.*:\1:p' "$dir/config.xml" 2>/dev/null || true)
		if [[ -n $cur && $cur != "$port" ]]; then
			echo "clickhouse-server.sh: already running in $dir on port $cur (not $port)" >&2
		fi
		echo "127.0.0.1:${cur:-$port}"
		return 0
	fi

	# Another server on the port would answer the readiness check for us.
	local p
	for p in "$port" "$http"; do
		if [[ $p != 0 ]] && port_busy "$p"; then
			die "127.0.0.1:$p is already in use (another server?); pick another PORT"
		fi
	done

	mkdir -p "$dir"/{data,tmp,log,user_files,format_schemas}
	rm -f "$dir/clickhouse-server.pid"
	write_config "$dir" "$port" "$http"

	# Run in the foreground of a new session, in the background of this
	# shell. This subshell is not a process-group leader, so setsid execs
	# without forking and $! is the server's pid.
	(
		cd "$dir"
		exec setsid "$SERVER" --config-file="$dir/config.xml" \
			</dev/null >"$dir/log/stdout.log" 2>"$dir/log/stderr.log"
	) &
	local pid=$!
	echo "$pid" >"$dir/clickhouse-server.pid"

	local deadline=$((SECONDS + TIMEOUT))
	until client_ok "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/clickhouse-server.pid"
			echo "clickhouse-server.sh: server exited during startup" >&2
			log_tail "$dir"
			exit 1
		fi
		if ((SECONDS >= deadline)); then
			echo "clickhouse-server.sh: server did not answer on 127.0.0.1:$port within ${TIMEOUT}s" >&2
			log_tail "$dir"
			kill "$pid" 2>/dev/null || true
			rm -f "$dir/clickhouse-server.pid"
			exit 1
		fi
		sleep 0.5
	done
	echo "127.0.0.1:$port"
}

stop() {
	local dir=$1 pid i
	[[ -d $dir ]] || return 0
	if ! running "$dir"; then
		rm -f "$dir/clickhouse-server.pid"
		return 0
	fi
	pid=$(<"$dir/clickhouse-server.pid")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "clickhouse-server.sh: server $pid ignored SIGTERM for 30s; killing" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/clickhouse-server.pid"
}

case ${1:-} in
start)
	(($# >= 2 && $# <= 4)) || usage
	start "$2" "${3:-}" "${4:-}"
	;;
stop)
	(($# == 2)) || usage
	stop "$2"
	;;
status)
	(($# == 2)) || usage
	if running "$2"; then echo running; else echo stopped; exit 1; fi
	;;
*) usage ;;
esac
