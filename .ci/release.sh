#!/usr/bin/env bash
# The release check: proves that every module of the repository can be
# consumed as published, with `go get` and no replace directive.
#
# It writes each module, from the working tree, into a file-based module
# proxy at the version it will be tagged with (the root at the version the
# nested modules require), then builds and runs a small consumer program of
# each module in a directory of its own, resolving this repository's modules
# from that proxy only. A placeholder version, a nested module that reaches
# into another module's internal/ package, or a missing requirement fails it.
#
# The consumers talk to the servers .ci/run starts (REDIS_ADDR,
# SESSIONS_PG_DSN, SESSIONS_MYSQL_DSN). Run it from anywhere:
# bash .ci/release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# The servers .ci/sql.sh and .ci/redis.sh start, as they name them.
export SESSIONS_PG_DSN=${SESSIONS_PG_DSN:-postgres://postgres:postgres@127.0.0.1:5432/test}
export SESSIONS_MYSQL_DSN=${SESSIONS_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/test}
: "${REDIS_ADDR:?REDIS_ADDR is not set: source .ci/redis.sh and run redis_up first}"

# The modules and the versions a release tags them with (tags: v0.1.0 for
# the root, <dir>/v0.1.0 for a nested module; CONTRIBUTING.md gives the
# order). Each line: directory, version.
modules=(
	". v0.1.0"
	"redisstore v0.1.0"
	"sqlstore v0.1.0"
	"pgstore v0.1.0"
	"mysqlstore v0.1.0"
	"sqlitestore v0.1.0"
	"ginsessions v0.1.0"
)
base=github.com/sessionkit/sessions

echo "--- release check: its tool, .ci/releasecheck"
(
	cd .ci/releasecheck
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
)

work=$(mktemp -d)
proxy=$work/proxy
# The module cache keeps third-party modules; this repository's are dropped
# from it before and after, or a version cached by an earlier run (of other
# contents) would be used instead of the one just written.
cache=$(go env GOMODCACHE)
forget() {
	local d
	for d in "$cache/github.com/sessionkit" "$cache/cache/download/github.com/sessionkit"; do
		if [[ -d $d ]]; then
			chmod -R u+w "$d"
			rm -rf "$d"
		fi
	done
}
forget
trap 'forget; rm -rf "$work"' EXIT
# Third-party modules still come from the configured proxy; this
# repository's come from the file proxy alone, unchecked by the checksum
# database (they are not published).
export GOPROXY="file://$proxy,$(go env GOPROXY)"
export GONOSUMDB=$base GOFLAGS=-mod=mod GOWORK=off

path_of() { if [[ $1 == . ]]; then echo "$base"; else echo "$base/$1"; fi; }

echo "--- release check: the module proxy"
for m in "${modules[@]}"; do
	read -r dir version <<<"$m"
	[[ -f $dir/go.mod ]] || { echo "release check: $dir/go.mod is missing" >&2; exit 1; }
	want=$(path_of "$dir")
	got=$(cd "$dir" && go list -m)
	[[ $got == "$want" ]] || { echo "release check: $dir is module $got, want $want" >&2; exit 1; }
	(cd .ci/releasecheck && go run . -proxy "$proxy" -path "$want" -version "$version" -dir "$repo/$dir")
	echo "$want@$version"
done

# Every requirement of one of this repository's modules must name a version
# the release tags.
for m in "${modules[@]}"; do
	read -r dir _ <<<"$m"
	while read -r path version; do
		found=
		for n in "${modules[@]}"; do
			read -r ndir nversion <<<"$n"
			if [[ $path == "$(path_of "$ndir")" && $version == "$nversion" ]]; then
				found=1
			fi
		done
		[[ -n $found ]] || { echo "release check: $dir requires $path $version, which the release does not tag" >&2; exit 1; }
	done < <(cd "$dir" && GOFLAGS=-mod=readonly go list -m -f '{{if not .Main}}{{.Path}} {{.Version}}{{end}}' all 2>/dev/null | grep "^$base" || true)
done

# quiet CMD...: runs CMD, printing its output only when it fails.
quiet() {
	local out
	if ! out=$("$@" 2>&1); then
		echo "$out" >&2
		return 1
	fi
}

# consume DIR: builds and runs the consumer program .ci/consumers/DIR.go
# against the proxy, requiring each module at its release version.
consume() {
	local name=$1 c=$work/consumer-$1
	mkdir -p "$c"
	cp ".ci/consumers/$name.go" "$c/main.go"
	cp .ci/consumers/roundtrip.go "$c/roundtrip.go"
	(
		cd "$c"
		go mod init example.com/consumer >/dev/null 2>&1
		for m in "${modules[@]}"; do
			read -r dir version <<<"$m"
			if grep -q "\"$(path_of "$dir")\"" main.go; then
				quiet go get "$(path_of "$dir")@$version"
			fi
		done
		quiet go mod tidy
		if grep -q "=> " go.mod; then
			echo "release check: the consumer of $name has a replace directive" >&2
			exit 1
		fi
		go vet . && go run .
	)
}

echo "--- release check: consumers"
for name in root redisstore pgstore mysqlstore sqlitestore ginsessions; do
	echo "consumer: $name"
	consume "$name"
done
echo "release check: every module builds and runs as published"
