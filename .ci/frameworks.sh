#!/usr/bin/env bash
# The framework examples live in a nested module, examples/frameworks/, with
# its own go.mod: vet, staticcheck and the tests under the race detector.
set -euo pipefail
cd "$(dirname "$0")/../examples/frameworks"

echo "--- examples/frameworks: go vet"
go vet ./...

echo "--- examples/frameworks: staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "--- examples/frameworks: go test"
go test -race -count=1 ./...
