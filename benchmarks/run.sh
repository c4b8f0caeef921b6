#!/usr/bin/env bash
# The full comparison run, as published in ../BENCHMARKS.md: COUNT passes of the
# benchmarks, benchstat of ours against scs, the Markdown tables with the
# targets checked, and the load tests on Redis and on the memory stores.
#
#   cd benchmarks && ./run.sh
#
# Without REDIS_ADDR it starts a private redis-server (no persistence) on a
# free loopback port and stops it at the end; with REDIS_ADDR it uses that
# server and deletes only the keys it wrote. Settings, from the environment:
#   COUNT=6 BENCHTIME=300ms LOAD_DURATION=20s OUT=results
#   BENCH=. (a -test.bench pattern: '^BenchmarkRedis' re-measures Redis only)
#   LOAD_STORES="redis memory sqlite", with postgres and mysql added when
#   SESSIONS_PG_DSN and SESSIONS_MYSQL_DSN are set (the load tests to run;
#   "" for none). BenchmarkSQL also runs on the databases those name.
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-300ms}
LOAD_DURATION=${LOAD_DURATION:-20s}
OUT=${OUT:-results}
BENCH=${BENCH:-.}
default_load="redis memory sqlite"
[[ -n ${SESSIONS_PG_DSN:-} ]] && default_load+=" postgres"
[[ -n ${SESSIONS_MYSQL_DSN:-} ]] && default_load+=" mysql"
LOAD_STORES=${LOAD_STORES-$default_load}
mkdir -p "$OUT"

redis_pid=
cleanup() {
	if [[ -n $redis_pid ]]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

if [[ -z ${REDIS_ADDR:-} ]]; then
	for ((try = 0; try < 20; try++)); do
		port=$((20000 + RANDOM % 20000))
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue
		fi
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--logfile "$OUT/redis.log" >/dev/null 2>&1 &
		redis_pid=$!
		for ((i = 0; i < 50; i++)); do
			[[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && break
			sleep 0.1
		done
		if [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; then
			export REDIS_ADDR=127.0.0.1:$port
			break
		fi
		kill "$redis_pid" 2>/dev/null || true
		redis_pid=
	done
	if [[ -z ${REDIS_ADDR:-} ]]; then
		echo "run.sh: could not start redis-server" >&2
		exit 1
	fi
fi
echo "Redis: $REDIS_ADDR ($(redis-cli -u "redis://$REDIS_ADDR" info server | tr -d '\r' | grep '^redis_version:'))"

benchstat=benchstat
if ! command -v benchstat >/dev/null; then
	if [[ -x $(go env GOPATH)/bin/benchstat ]]; then
		benchstat=$(go env GOPATH)/bin/benchstat
	else
		go install golang.org/x/perf/cmd/benchstat@latest
		benchstat=$(go env GOPATH)/bin/benchstat
	fi
fi

{
	grep -m1 'model name' /proc/cpuinfo
	echo "cores: $(nproc)"
	echo "go: $(go version)"
	echo "load before the run: $(cat /proc/loadavg)"
} | tee "$OUT/machine.txt"

# COUNT passes over the whole suite, one run of each benchmark per pass, so
# that a burst of load on the machine spreads over every library instead of
# landing on the consecutive runs of one.
go test -c -o "$OUT/benchmarks.test" .
: >"$OUT/bench.txt"
for ((pass = 1; pass <= COUNT; pass++)); do
	echo "--- pass $pass of $COUNT" >&2
	"$OUT/benchmarks.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 | tee -a "$OUT/bench.txt"
done
echo "load after the benchmarks: $(cat /proc/loadavg)" | tee -a "$OUT/machine.txt"

"$benchstat" -col '/lib@(scs ours)' -filter '/lib:(scs OR ours)' "$OUT/bench.txt" | tee "$OUT/benchstat.txt"
go run ./cmd/benchtable "$OUT/bench.txt" | tee "$OUT/table.md" || true

for store in $LOAD_STORES; do
	go run ./cmd/load -store "$store" -redis "$REDIS_ADDR" -duration "$LOAD_DURATION" | tee "$OUT/load-$store.md"
done
