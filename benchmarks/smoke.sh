#!/usr/bin/env bash
# The CI smoke run of the comparison benchmarks: vet, then every benchmark
# once. Without REDIS_ADDR the Redis benchmarks run on miniredis, in-process,
# so this needs no server and takes seconds.
set -euo pipefail
cd "$(dirname "$0")"
go vet ./...
go test -run '^$' -bench . -benchtime 1x ./...
