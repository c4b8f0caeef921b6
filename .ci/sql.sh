#!/usr/bin/env bash
# The SQL stores: makes sure PostgreSQL and MariaDB run on 127.0.0.1
# (installing and starting them when needed), then vets, checks and tests
# under the race detector the nested module sqlstore, the code the stores
# share, and the stores' modules pgstore, mysqlstore and sqlitestore. With
# CI=true the tests fail, never skip, when a server is unreachable. Run it
# from anywhere: bash .ci/sql.sh
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=
if [[ $(id -u) -ne 0 ]]; then
	sudo=sudo
fi
apt_updated=

# apt_install PKG...: installs the packages (once per run updating the index).
apt_install() {
	if [[ -z $apt_updated ]]; then
		$sudo apt-get update
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@"
}

# wait_for WHAT CMD...: runs CMD until it succeeds, for 60 seconds at most.
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < 120; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	echo "$what is not reachable after 60 s" >&2
	return 1
}

pg_up() {
	local fresh=
	if ! command -v pg_ctlcluster >/dev/null || [[ ! -d /etc/postgresql ]]; then
		apt_install postgresql postgresql-client
		fresh=1
	fi
	if ! pg_isready -q -h 127.0.0.1 -p 5432; then
		$sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
	fi
	wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
	if [[ -n $fresh ]]; then
		# A fresh install asks for a password over TCP: give postgres one.
		$sudo runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'"
	fi
	export PGPASSWORD=${PGPASSWORD:-postgres}
	if [[ -z $(psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]; then
		psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
	fi
	export SESSIONS_PG_DSN=${SESSIONS_PG_DSN:-postgres://postgres:postgres@127.0.0.1:5432/test}
}

mysql_up() {
	local fresh=
	if [[ ! -x /usr/sbin/mariadbd ]]; then
		apt_install mariadb-server mariadb-client
		fresh=1
	fi
	if ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
		$sudo mkdir -p /run/mysqld
		$sudo chown mysql:mysql /run/mysqld 2>/dev/null || true
		$sudo start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	fi
	if [[ -n $fresh ]]; then
		# A fresh install lets root in over the socket only: allow an
		# empty password over TCP as well, for the tests.
		wait_for MariaDB $sudo mysqladmin -u root ping
		$sudo mysql -u root -e "ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')"
	fi
	wait_for MariaDB mysqladmin -h 127.0.0.1 -u root ping
	mysql -h 127.0.0.1 -u root -e "CREATE DATABASE IF NOT EXISTS test"
	export SESSIONS_MYSQL_DSN=${SESSIONS_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/test}
}

pg_up
mysql_up

# The code the stores share, which needs no database, then its fuzz
# targets for a bounded time each (as .ci/fuzz.sh runs the root's); a run
# that fails is run once more, which fails again on a failing input the
# first one wrote under sqlstore/testdata/fuzz.
echo "--- sqlstore"
(
	cd sqlstore
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	go test -race -count=1 ./...
	for target in $(go test -list '^Fuzz' . | grep '^Fuzz'); do
		echo "--- fuzz sqlstore $target"
		go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-8s}" -parallel 1 . ||
			go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-8s}" -parallel 1 .
	done
)

# The modules to test come from the arguments (.ci/run names all three).
mods=("$@")
if ((${#mods[@]} == 0)); then
	mods=(pgstore mysqlstore sqlitestore)
fi
for mod in "${mods[@]}"; do
	echo "--- $mod"
	(
		cd "$mod"
		go vet ./...
		go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
		go test -race -count=1 ./...
	)
done

# The SQL benchmarks next to scs's stores, once each, on the same servers.
echo "--- benchmarks (SQL smoke)"
(cd benchmarks && go test -run '^$' -bench 'SQL' -benchtime 1x .)

# The load test on each database, briefly, this library only: a real HTTP
# server under 32 clients, and every acknowledged write read back (the
# command exits 1 if one is lost or a request fails).
for store in postgres mysql sqlite; do
	echo "--- load test ($store)"
	(cd benchmarks && go run ./cmd/load -store "$store" -libs ours -duration 2s -clients 32 -sessions 200)
done
