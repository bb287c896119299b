#!/usr/bin/env bash
# Makes this machine ready to run and test Tzurot, idempotently: PostgreSQL listening on
# 127.0.0.1:5432 with the pgvector extension available. The Temporal server needs no
# install: it is a Go dependency, embedded in the binary and in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go is not installed (need Go 1.26: https://go.dev/dl/)" >&2
  exit 1
fi

if ! command -v pg_config >/dev/null 2>&1 && ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "setup: installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi

# Start the local cluster if nothing listens on 5432 (Debian layout).
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    echo "setup: starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 50); do
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break
    sleep 0.2
  done
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "setup: PostgreSQL is not listening on 127.0.0.1:5432; start it, or point DATABASE_URL / TZUROT_TEST_DATABASE_URL elsewhere" >&2
  exit 1
fi

bash scripts/setup-pgvector.sh
