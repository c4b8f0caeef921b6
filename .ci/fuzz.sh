#!/usr/bin/env bash
# Runs every fuzz target of the root package for a bounded time after the
# tests. The seed corpora under testdata/fuzz run with the plain tests too.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-8s}
for target in $(go test -list '^Fuzz' . | grep '^Fuzz'); do
	echo "--- fuzz $target ($fuzztime)"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" . >/dev/null
done
