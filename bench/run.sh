#!/usr/bin/env bash
# Runs every benchmark against Kiln and workerd on this machine and prints the tables
# (see bench/README.md). Installs what it needs: wrk (apt), Python's websockets (pip), and the
# workerd npm package into a temporary folder. Builds Kiln in release mode unless KILN_BIN is
# set (WORKERD_BIN likewise skips the npm install). Arguments go to bench.py, for example
#   bench/run.sh --only a,b --duration 5
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
tmp=$(mktemp -d /tmp/kiln-bench-tools.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  timeout 600 $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 600 $sudo apt-get install -y -qq wrk >/dev/null
fi

if ! python3 -c 'import websockets.asyncio.client' 2>/dev/null; then
  echo "installing websockets (pip)" >&2
  timeout 600 python3 -m pip install --quiet 'websockets>=13'
fi

if [ -z "${WORKERD_BIN:-}" ]; then
  echo "installing workerd (npm) into $tmp" >&2
  timeout 600 npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error workerd >/dev/null
  for candidate in "$tmp/node_modules/@cloudflare/workerd-linux-64/bin/workerd" \
                   "$tmp/node_modules/.bin/workerd"; do
    if [ -x "$candidate" ]; then WORKERD_BIN=$candidate; break; fi
  done
  if [ -z "${WORKERD_BIN:-}" ]; then
    echo "the workerd npm package has no binary for this machine" >&2
    exit 1
  fi
fi

if [ -z "${KILN_BIN:-}" ]; then
  echo "building kiln (release)" >&2
  (cd "$repo" && cargo build --release -p kiln)
  KILN_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/kiln"
  kiln_from="built from commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    kiln_from="$kiln_from with uncommitted changes"
  fi
else
  kiln_from="given by KILN_BIN"
fi

echo "# Kiln vs workerd, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "- kiln: $KILN_BIN ($("$KILN_BIN" --version 2>&1 | head -1), $kiln_from)"
echo "- workerd: $WORKERD_BIN ($("$WORKERD_BIN" --version 2>&1 | head -1))"
echo "- wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); python websockets $(python3 -c 'import websockets; print(websockets.__version__)')"

ulimit -n "$(ulimit -Hn)"
timeout 1140 python3 "$here/bench.py" --kiln "$KILN_BIN" --workerd "$WORKERD_BIN" "$@"
