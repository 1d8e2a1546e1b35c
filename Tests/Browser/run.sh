#!/usr/bin/env bash
# End-to-end test of the analysts' console in a real browser (run by `make test`).
# Fills a store by replaying the labelled captures, creates an analyst and a viewer, starts
# `hnsensor serve` on a free loopback port and runs console_e2e.py (Python selenium driving
# Debian's chromium through chromium-driver). Screenshots go to .build/browser/.
# Skips, with the reason, only where chromium or chromium-driver is not installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${HNSENSOR:-.build/debug/hnsensor}
VENV=.build/venv
OUT=.build/browser

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "browser tests: skipped: chromium or chromium-driver is not installed (apt-get install chromium chromium-driver)"
  exit 0
fi
[ -x "$BIN" ] || { echo "browser tests: $BIN is missing (swift build first)" >&2; exit 1; }
[ -d "$VENV" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import selenium" 2>/dev/null || "$VENV/bin/pip" install -q selenium

rm -rf "$OUT" && mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

STORE=$WORK/incidents.db
# The config as installed, with the store and EVE in the scratch folder.
sed -e "s#/var/lib/hnsensor/incidents.db#$STORE#" -e "s#/var/log/hnsensor/eve.json#$WORK/eve.json#" \
    -e "s#/etc/hnsensor/rules#$PWD/Rules#" Config/hnsensor.yaml > "$WORK/hnsensor.yaml"
for capture in Captures/*.pcap; do
  "$BIN" replay --config "$WORK/hnsensor.yaml" --rules Rules --eve "$WORK/eve.json" --store "$STORE" "$capture" > /dev/null
done
echo "browser tests: store filled from $(ls Captures/*.pcap | wc -l) labelled captures"
printf 'analyst-password-1\n' | "$BIN" users add analyst1 --role analyst --store "$STORE" > /dev/null
printf 'viewer-password-1\n' | "$BIN" users add viewer1 --role viewer --store "$STORE" > /dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" serve --config "$WORK/hnsensor.yaml" --listen "127.0.0.1:$PORT" > "$OUT/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { echo "browser tests: hnsensor serve exited:" >&2; cat "$OUT/serve.log" >&2; exit 1; }
  sleep 0.1
done

status=0
"$VENV/bin/python" Tests/Browser/console_e2e.py "http://127.0.0.1:$PORT" "$OUT" "$BIN" "$STORE" "$WORK/hnsensor.yaml" || status=$?
if grep -qi 'password-1' "$OUT/serve.log"; then echo "FAIL  the console's log contains a password" >&2; status=1; fi
echo "browser tests: screenshots in $OUT/ (queue.png, incident.png); server log $OUT/serve.log"
exit $status
