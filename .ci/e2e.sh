#!/usr/bin/env bash
# The browser tests: Debian's Chromium drives the demo application (e2e/, a
# nested module) on the memory store and on the Redis at REDIS_ADDR, which
# .ci/run starts first. With CI=true a missing browser or Redis fails the
# tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
	sudo=
	if [[ $(id -u) -ne 0 ]]; then
		sudo=sudo
	fi
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
fi

echo "--- e2e (browser tests)"
cd e2e
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
CI=true go test -race -count=1 ./...
