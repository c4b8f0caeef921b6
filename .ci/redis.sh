# shellcheck shell=bash
# Starts Redis servers for the tests on free loopback ports and stops them.
#
#   source .ci/redis.sh
#   redis_up      # a standalone server, its Sentinel and a Redis Cluster
#   (cd redisstore && CI=true go test ./...)
#   redis_down
#
# redis_up exports REDIS_ADDR ("127.0.0.1:port"), REDIS_CLUSTER_ADDRS
# (comma-separated seed nodes), and REDIS_SENTINEL_ADDR with
# REDIS_SENTINEL_MASTER: a Sentinel that monitors the standalone server. The servers keep nothing on disk and log to a
# temporary directory, which redis_down removes (it prints the logs of a
# start that failed). It needs redis-server and redis-cli on PATH.

REDIS_SH_DIR=${REDIS_SH_DIR:-}
REDIS_SH_PIDS=${REDIS_SH_PIDS:-}

# _redis_port_in_use PORT: true if something accepts connections on it.
_redis_port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _redis_free_port: prints a port that is free, and whose cluster bus port
# (port + 10000) is free too.
_redis_free_port() {
	local port i
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + RANDOM % 25000))
		if ! _redis_port_in_use "$port" && ! _redis_port_in_use $((port + 10000)); then
			echo "$port"
			return 0
		fi
	done
	echo "redis.sh: no free port found" >&2
	return 1
}

# _redis_start NAME CONF [ARGS...]: starts redis-server with the config
# file CONF (none if empty) on a free port, waits for PING, and sets
# _REDIS_PORT to the port. Retries with another port if the start fails
# (another process may take the port in between).
_redis_start() {
	local name=$1 conf=$2 port pid try i
	local confarg=()
	shift 2
	if [[ -n $conf ]]; then
		confarg=("$conf")
	fi
	for ((try = 0; try < 5; try++)); do
		port=$(_redis_free_port) || return 1
		redis-server ${confarg[@]+"${confarg[@]}"} --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--dir "$REDIS_SH_DIR" --logfile "$REDIS_SH_DIR/$name-$port.log" \
			"$@" >/dev/null 2>&1 &
		pid=$!
		for ((i = 0; i < 100; i++)); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; then
				REDIS_SH_PIDS="$REDIS_SH_PIDS $pid"
				_REDIS_PORT=$port
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "redis.sh: could not start redis-server ($name)" >&2
	return 1
}

# redis_up: starts the standalone server, its Sentinel and the cluster, and
# exports the variables above.
redis_up() {
	local p port ok i nodes=() ports=()
	if [[ -n $REDIS_SH_DIR ]]; then
		echo "redis.sh: already up (REDIS_ADDR=$REDIS_ADDR)" >&2
		return 0
	fi
	for p in redis-server redis-cli; do
		command -v "$p" >/dev/null || { echo "redis.sh: $p is not on PATH" >&2; return 1; }
	done
	REDIS_SH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sessions-redis.XXXXXX")
	REDIS_SH_PIDS=

	_redis_start standalone '' || { _redis_fail; return 1; }
	export REDIS_ADDR="127.0.0.1:$_REDIS_PORT"

	printf 'sentinel monitor sessions 127.0.0.1 %s 1\n' "$_REDIS_PORT" >"$REDIS_SH_DIR/sentinel.conf"
	_redis_start sentinel "$REDIS_SH_DIR/sentinel.conf" --sentinel || { _redis_fail; return 1; }
	export REDIS_SENTINEL_ADDR="127.0.0.1:$_REDIS_PORT" REDIS_SENTINEL_MASTER=sessions

	for i in 1 2 3; do
		_redis_start "cluster$i" '' --cluster-enabled yes \
			--cluster-config-file "$REDIS_SH_DIR/nodes-$i.conf" \
			--cluster-node-timeout 5000 || { _redis_fail; return 1; }
		ports+=("$_REDIS_PORT")
		nodes+=("127.0.0.1:$_REDIS_PORT")
	done
	if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
		>"$REDIS_SH_DIR/cluster-create.log" 2>&1; then
		cat "$REDIS_SH_DIR/cluster-create.log" >&2
		_redis_fail
		return 1
	fi
	for ((i = 0; i < 300; i++)); do
		ok=1
		for port in "${ports[@]}"; do
			if ! redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then
				ok=0
			fi
		done
		if ((ok)) && redis-cli --cluster check "${nodes[0]}" >/dev/null 2>&1; then
			break
		fi
		sleep 0.1
	done
	if ((!ok)); then
		echo "redis.sh: the cluster did not reach cluster_state:ok" >&2
		_redis_fail
		return 1
	fi
	export REDIS_CLUSTER_ADDRS
	REDIS_CLUSTER_ADDRS=$(
		IFS=,
		echo "${nodes[*]}"
	)
	echo "redis.sh: REDIS_ADDR=$REDIS_ADDR REDIS_SENTINEL_ADDR=$REDIS_SENTINEL_ADDR REDIS_CLUSTER_ADDRS=$REDIS_CLUSTER_ADDRS"
}

# _redis_fail: prints the server logs and stops what was started.
_redis_fail() {
	local f
	for f in "$REDIS_SH_DIR"/*.log; do
		[[ -e $f ]] || continue
		echo "--- $f" >&2
		tail -n 20 "$f" >&2
	done
	redis_down
}

# redis_down: stops every server redis_up started and removes their files.
redis_down() {
	local pid
	for pid in $REDIS_SH_PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $REDIS_SH_PIDS; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $REDIS_SH_DIR ]]; then
		rm -rf "$REDIS_SH_DIR"
	fi
	REDIS_SH_DIR=
	REDIS_SH_PIDS=
	unset REDIS_ADDR REDIS_CLUSTER_ADDRS REDIS_SENTINEL_ADDR REDIS_SENTINEL_MASTER
}
