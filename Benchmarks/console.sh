#!/usr/bin/env bash
# The console's load benchmark (part of `make bench`; alone: Benchmarks/console.sh).
# A store of 10,000 incidents (the labelled captures replayed, then copied by
# console-store.py), `hnsensor serve` (release) on a free loopback port, 50 sessions logged in
# through the API, then wrk with 50 connections for DURATION seconds (default 30), each request
# carrying the next session's cookie: once on the queue pages alone (filters, paging), once on
# a mix of queue and incident pages (closed loop: as fast as the server answers). Then open
# loop (console-load.py): the same 50 sessions asking 50 and then 100 pages a second in all,
# latency counted from when each request was due; then the same client closed loop (rate 0),
# for the percentiles of queue and incident pages apart. Prints pages/s and percentiles.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/hnsensor}
DURATION=${DURATION:-30}
SESSIONS=${SESSIONS:-50}
INCIDENTS=${INCIDENTS:-10000}
command -v wrk > /dev/null || { echo "console bench: skipped: wrk is not installed (apt-get install wrk)"; exit 0; }
[ -x "$BIN" ] || { echo "console bench: $BIN is missing (make build)" >&2; exit 1; }
mkdir -p .bench/console
W=.bench/console
STORE=$W/incidents-$INCIDENTS.db
sed -e "s#/var/lib/hnsensor/incidents.db#$PWD/$W/scratch.db#" -e "s#/var/log/hnsensor/eve.json#$PWD/$W/eve.json#" \
    -e "s#/etc/hnsensor/rules#$PWD/Rules#" Config/hnsensor.yaml > $W/hnsensor.yaml
if [ ! -f "$STORE" ]; then
  rm -f $W/base.db*
  for capture in Captures/*.pcap; do
    "$BIN" replay --config $W/hnsensor.yaml --rules Rules --eve $W/eve.json --store $W/base.db "$capture" > /dev/null
  done
  printf 'bench-password-1\n' | "$BIN" users add bench --role analyst --store $W/base.db > /dev/null
  python3 Benchmarks/console-store.py $W/base.db "$INCIDENTS"
  mv $W/base.db "$STORE"
fi
TOP=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT MAX(id) FROM incidents').fetchone()[0])" "$STORE")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" serve --config $W/hnsensor.yaml --store "$STORE" --listen "127.0.0.1:$PORT" > $W/serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break
  sleep 0.1
done
: > $W/cookies
for _ in $(seq 1 "$SESSIONS"); do
  curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench-password-1"}' "http://127.0.0.1:$PORT/api/v1/login" \
    | awk 'tolower($1) == "set-cookie:" {split($2, a, ";"); print a[1]}' >> $W/cookies
done
[ "$(wc -l < $W/cookies)" -eq "$SESSIONS" ] || { echo "console bench: only $(wc -l < $W/cookies) of $SESSIONS logins succeeded" >&2; exit 1; }
echo "console: $INCIDENTS incidents, $SESSIONS sessions, 50 connections, ${DURATION}s per run, serve RSS before: $(ps -o rss= -p $SERVER) KiB"
for mix in queue mixed; do
  echo "== $mix pages"
  HN_COOKIES=$W/cookies HN_MIX=$mix HN_INCIDENTS=$TOP wrk -t 2 -c 50 -d "${DURATION}s" --latency -s Benchmarks/console.lua \
    "http://127.0.0.1:$PORT" | grep -E 'Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx|Socket errors'
done
for rate in ${RATES:-50 100 0}; do
  for mix in queue mixed; do
    python3 Benchmarks/console-load.py "$PORT" $W/cookies "$rate" "$DURATION" "$TOP" --mix $mix
  done
done
echo "serve RSS after: $(ps -o rss= -p $SERVER) KiB"
