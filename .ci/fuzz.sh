#!/usr/bin/env bash
# Runs every fuzz target of the root package for a bounded time after the
# tests; the seed corpora under testdata/fuzz run with the plain tests too.
# A crash the fuzzer finds is written under testdata/fuzz and fails the run.
# A run that fails without one (the fuzzing engine's own worker timing out
# on a loaded machine) is reported and run once more.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-8s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz() {
	go test -run '^$' -fuzz "^$1\$" -fuzztime "$fuzztime" -parallel 1 . >"$log" 2>&1
}
for target in $(go test -list '^Fuzz' . | grep '^Fuzz'); do
	echo "--- fuzz $target ($fuzztime)"
	before=$(find testdata/fuzz -type f 2>/dev/null | wc -l)
	if fuzz "$target"; then
		continue
	fi
	cat "$log"
	if [[ $(find testdata/fuzz -type f 2>/dev/null | wc -l) -ne $before ]]; then
		echo "fuzz.sh: $target found a failing input (see testdata/fuzz/$target)" >&2
		exit 1
	fi
	echo "fuzz.sh: $target failed without a failing input; running it once more"
	if ! fuzz "$target"; then
		cat "$log"
		exit 1
	fi
done
