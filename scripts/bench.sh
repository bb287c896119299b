#!/usr/bin/env bash
# Runs the Go benchmarks (speed is measured, never asserted in tests). Pass extra
# `go test` flags, e.g. `scripts/bench.sh -benchtime=200x`. Results: docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
go test -run '^$' -bench . -benchmem -count=1 "$@" ./...
