#!/usr/bin/env bash
# Installs PostgreSQL's pgvector extension for the local server, idempotently.
#
# Debian bookworm ships no pgvector package for PostgreSQL 15, so we build it from
# Debian's own source package (trixie's), against the local pg_config. Nothing is
# downloaded from outside Debian's archive.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-pg_config}
if ! command -v "$PG_CONFIG" >/dev/null 2>&1; then
  echo "setup-pgvector: pg_config not found; install PostgreSQL (and postgresql-server-dev-*)" >&2
  exit 1
fi
sharedir=$("$PG_CONFIG" --sharedir)
if [ -f "$sharedir/extension/vector.control" ]; then
  exit 0 # already installed
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
pgmajor=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')

echo "setup-pgvector: building pgvector for PostgreSQL $pgmajor from Debian's source package"
list=/etc/apt/sources.list.d/tzurot-trixie-src.sources
if [ ! -f "$list" ]; then
  $SUDO tee "$list" >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends dpkg-dev build-essential "postgresql-server-dev-$pgmajor" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq --download-only pgvector >/dev/null 2>&1 || apt-get source -qq pgvector
dpkg-source -x --no-check ./*.dsc src >/dev/null 2>&1 || true
dir=$(find . -maxdepth 2 -name Makefile -path '*src*' -printf '%h\n' | head -n1)
[ -n "$dir" ] || dir=$(find . -maxdepth 2 -name vector.control.in -printf '%h\n' -o -maxdepth 2 -name 'vector.control' -printf '%h\n' | head -n1)
cd "$dir"
make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
$SUDO make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
echo "setup-pgvector: installed into $sharedir/extension"
