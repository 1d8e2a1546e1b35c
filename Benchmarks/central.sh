#!/usr/bin/env bash
# The central store's ingest (part of `make bench`): SENSORS sensors (default 3) replay at
# once into one PostgreSQL on this machine while `hnsensor correlate` runs beside them. Each
# sensor replays a capture of ALERTS TCP connections with a rule alerting on every SYN (one
# alert per connection, every alert its own source and destination: the heaviest case for the
# correlator, one security event per alert). Prints: alerts stored per second (from the first
# sensor's start to the last sensor's spool drained), alerts correlated per second (from the
# start to the last alert correlated), and the correlator's lag (how long after the last
# alert was stored the last one was correlated); then the correlator's own pace: the
# correlation emptied, a fresh `correlate --once` over the stored alerts. The cluster is the benchmark's own (initdb
# and pg_ctl in .bench/pg, loopback, a free port, PostgreSQL's default durability settings),
# removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release
SENSORS=${SENSORS:-3}
ALERTS=${ALERTS:-100000}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "central store ingest: skipped: PostgreSQL is not installed (make bench installs Debian's postgresql)"
  exit 0
fi
mkdir -p .bench
CAP=.bench/flows-$ALERTS.pcap
[ -f "$CAP" ] || $BIN/hncapgen flows --count "$ALERTS" --out "$CAP" > /dev/null
RULES=.bench/syn.rules
echo 'alert tcp any any -> any any (msg:"BENCH SYN"; flags:S; classtype:misc-activity; sid:9990001; rev:1;)' > "$RULES"

PG=$PWD/.bench/pg
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m fast -w stop > /dev/null 2>&1 || true; rm -rf "$PG"; }
trap cleanup EXIT
rm -rf "$PG" && mkdir -p "$PG"
[ "$(id -u)" = 0 ] && chown postgres "$PG"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$PG/data" -U hn --auth=trust -E UTF8 > /dev/null
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -o "-p $PORT -k $PG -c listen_addresses=127.0.0.1" start > /dev/null
URL="postgresql://hn@127.0.0.1:$PORT/postgres?sslmode=disable"
psql() { "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U hn -d postgres -Atc "$1"; }

now() { date +%s.%N; }
TOTAL=$((SENSORS * ALERTS))
# The bench capture spans 40 s of packet time, less than the default max_lateness (60 s): with
# it every alert would wait for the idle rule. A 1 s bound measures the correlator's own pace.
printf 'correlation:\n  max_lateness: 1s\n' > "$PG/correlate.yaml"
$BIN/hnsensor correlate --config "$PG/correlate.yaml" --store "$URL" --rules Rules > "$PG/correlate.out" 2>&1 &
CORRELATOR=$!
sleep 1
START=$(now)
pids=()
for i in $(seq "$SENSORS"); do
  printf 'sensor:\n  name: bench-%s\n' "$i" > "$PG/sensor-$i.yaml"
  $BIN/hnsensor replay --config "$PG/sensor-$i.yaml" --rules "$RULES" --store "$URL" --spool "$PG/spool-$i.db" \
    --workers 1 "$CAP" > "$PG/sensor-$i.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
STORED=$(now)
stored=$(psql "SELECT count(*) FROM alerts")
while [ "$(psql "SELECT count(*) FROM alert_events")" -lt "$TOTAL" ]; do
  sleep 0.2
  if ! kill -0 $CORRELATOR 2>/dev/null; then echo "the correlator stopped: $(cat "$PG/correlate.out")"; exit 1; fi
done
CORRELATED=$(now)
kill $CORRELATOR; wait $CORRELATOR || true
incidents=$(psql "SELECT count(*) FROM events")
# The correlator's own pace, without the sensors beside it on the same two cores: the
# correlation is emptied and a fresh correlator works through the stored alerts (--once).
psql "TRUNCATE alert_events, incident_events, audit, incidents, events, correlator_state" > /dev/null
ALONE_START=$(now)
$BIN/hnsensor correlate --once --config "$PG/correlate.yaml" --store "$URL" --rules Rules > "$PG/correlate-once.out" 2>&1
ALONE_END=$(now)
again=$(psql "SELECT count(*) FROM alert_events")
[ "$again" = "$TOTAL" ] || { echo "the correlator alone correlated $again alerts of $TOTAL"; exit 1; }
awk -v s="$START" -v t="$STORED" -v c="$CORRELATED" -v as="$ALONE_START" -v ae="$ALONE_END" -v n="$TOTAL" -v stored="$stored" -v k="$SENSORS" -v e="$incidents" 'BEGIN {
  printf "central store ingest: %d sensors at once, %d alerts each (one per TCP connection), one PostgreSQL on this machine\n\n", k, n / k
  print "| figure | value |"
  print "|---|---:|"
  printf "| alerts stored | %d |\n", stored
  printf "| stored per second (all sensors) | %.0f |\n", stored / (t - s)
  printf "| correlated per second (max_lateness 1 s) | %.0f |\n", n / (c - s)
  printf "| correlator lag after the last alert stored | %.1f s |\n", c - t
  printf "| security events written | %d |\n", e
  printf "| correlator alone on the stored alerts (--once) | %.0f alerts/s |\n", n / (ae - as)
}'
