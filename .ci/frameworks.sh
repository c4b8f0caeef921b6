#!/usr/bin/env bash
# The gin adapter (ginsessions/) and the framework examples
# (examples/frameworks/) are nested modules, each with its own go.mod: vet,
# staticcheck and the tests under the race detector, in each.
set -euo pipefail
cd "$(dirname "$0")/.."

for module in ginsessions examples/frameworks; do
	(
		cd "$module"
		echo "--- $module: go vet"
		go vet ./...

		echo "--- $module: staticcheck"
		go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

		echo "--- $module: go test"
		go test -race -count=1 ./...
	)
done
