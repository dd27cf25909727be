#!/usr/bin/env bash
# Instructions per request on Kiln's Durable Object path, counted by callgrind: unlike
# requests/s on a shared VM, the count does not move between runs, so it tells whether a change
# to the request path made it cheaper. Kiln only (no workerd); user-space instructions only
# (system calls and the kernel's work are not counted).
#
#   KILN_BIN=/tmp/kiln-bench-target/release/kiln bench/instructions.sh
#
# Prints, for 2,000 requests from 8 clients each: POST /hot (one object), POST /obj-N (1,000
# objects in rotation), GET /hot (no write). Needs valgrind (apt-get install valgrind).
# KEEP=DIR keeps the callgrind files (callgrind_annotate DIR/... shows where they go).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${KILN_BIN:?set KILN_BIN to a release build of kiln}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
port=${PORT:-18788}
requests=2000
work=$(mktemp -d)
keep=${KEEP:-}
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$work/cg.out.%p" \
  "$bin" dev "$here/workers/objects" --port "$port" --persist-to "$work/state" \
  >"$work/log" 2>&1 &
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 1
done
pid=$(pgrep -f "valgrind.*--port $port" | head -n 1)
[ -n "$pid" ] || { echo "kiln did not start under valgrind: $(tail -5 "$work/log")" >&2; exit 1; }
# Warm-up: the hot object and the 1,000 objects exist and the code is compiled.
python3 "$here/load.py" "$port" 400 8 /hot POST
python3 "$here/load.py" "$port" 1000 8 rotate POST
for what in "/hot POST" "rotate POST" "/hot GET"; do
  set -- $what
  callgrind_control -z "$pid" >/dev/null 2>&1
  python3 "$here/load.py" "$port" "$requests" 8 "$1" "$2"
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  total=$(grep -h "^summary:" "$work"/cg.out."$pid".* | awk '{s += $2} END {print s}')
  echo "$2 $1: $((total / requests)) instructions per request"
  if [ -n "$keep" ]; then
    mkdir -p "$keep"
    for f in "$work"/cg.out."$pid".*; do mv "$f" "$keep/$(basename "$f").$2_${1//\//}"; done
  else
    rm -f "$work"/cg.out."$pid".*
  fi
done
