#!/usr/bin/env bash
# The OpenTelemetry example lives in a nested module, examples/otel/, with its
# own go.mod: vet, staticcheck and the tests under the race detector.
set -euo pipefail
cd "$(dirname "$0")/../examples/otel"

echo "--- examples/otel: go vet"
go vet ./...

echo "--- examples/otel: staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "--- examples/otel: go test"
go test -race -count=1 ./...
