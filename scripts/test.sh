#!/usr/bin/env bash
# The one test command (README, `make test`, .ci/run): sets the machine up, checks
# formatting and vet, then runs every test against real PostgreSQL + pgvector, an
# in-process Temporal server, the Discord simulator and the LLM stub.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

bash scripts/setup.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
# -race everywhere: the simulator, the stub and the gateway are concurrent by nature.
go test -race -count=1 -timeout 30m ./... "$@"
echo "test.sh: all checks passed in $(( $(date +%s) - start ))s"
