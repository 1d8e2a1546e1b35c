#!/usr/bin/env bash
# `make bench`: whole-process timings of hnsensor replay against the read floor
# (tcpdump -r FILE -w /dev/null), on a generated capture cached in .bench/ (outside git).
# Each configuration runs RUNS times (default 3); the median wall time is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SIZE=${SIZE:-300}
BIN=.build/release
mkdir -p .bench
CAP=.bench/bench-$SIZE.pcap
[ -f "$CAP" ] || $BIN/hncapgen bench --size "$SIZE" --out "$CAP"
[ -f .bench/rules-2000.rules ] || $BIN/hncapgen rules --count 2000 --out .bench/rules-2000.rules
# The default rules folder plus one million generated indicators.
if [ ! -f .bench/intel-1m/indicators/bench.intel ]; then
  rm -rf .bench/intel-1m && mkdir -p .bench/intel-1m/indicators
  cp -r Rules/signatures Rules/anomalies Rules/correlation Rules/classification.config Rules/threshold.config .bench/intel-1m/
  cp Rules/indicators/*.intel Rules/indicators/sources.yaml .bench/intel-1m/indicators/
  $BIN/hncapgen indicators --count 1000000 --out .bench/intel-1m/indicators/bench.intel
fi
BYTES=$(stat -c %s "$CAP")
PACKETS=$($BIN/hnsensor replay "$CAP" | awk '/^packets/ {print $2}')

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() { # name, command...
  local name=$1; shift
  local walls=() rss=() alerts="-"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -o .bench/time.out -f "TIME %e %M" "$@" > .bench/last.out 2>/dev/null
    out=$(grep '^TIME' .bench/time.out)
    walls+=("$(echo "$out" | awk '{print $2}')")
    rss+=("$(echo "$out" | awk '{print $3}')")
  done
  alerts=$(awk '/^alerts/ {print $2}' .bench/last.out 2>/dev/null || true)
  local w m
  w=$(printf '%s\n' "${walls[@]}" | median)
  m=$(printf '%s\n' "${rss[@]}" | median)
  awk -v n="$name" -v w="$w" -v m="$m" -v b="$BYTES" -v p="$PACKETS" -v a="${alerts:--}" -v f="${FLOOR:-0}" 'BEGIN {
    g = (w > 0) ? b * 8 / w / 1e9 : 0; pps = (w > 0) ? p / w : 0; r = (f > 0) ? w / f : 1
    printf "| %-34s | %7.3f s | %6.2f Gbit/s | %9.0f pkt/s | %6.1f MiB | %8s | %5.2fx |\n", n, w, g, pps, m / 1024, a, r }'
  LAST_WALL=$w
}

echo "capture: $CAP ($BYTES bytes, $PACKETS packets); $RUNS runs each, medians; $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "| configuration                      | wall      | throughput    | packets/s       | peak RSS   | alerts   | /floor |"
echo "|---|---:|---:|---:|---:|---:|---:|"
FLOOR=0
measure "read floor: tcpdump -w /dev/null" tcpdump -r "$CAP" -w /dev/null
FLOOR=$LAST_WALL
measure "decode + flows" $BIN/hnsensor replay "$CAP"
measure "decode + flows + EVE" $BIN/hnsensor replay --eve .bench/eve.json "$CAP"
measure "+ default rules (Rules/)" $BIN/hnsensor replay --rules Rules "$CAP"
measure "+ 1M indicators (Rules/ + feed)" $BIN/hnsensor replay --rules .bench/intel-1m "$CAP"
measure "+ Rules/, config, store (incidents)" $BIN/hnsensor replay --config Config/hnsensor.yaml --rules Rules --eve .bench/eve-store.json --store .bench/store.db "$CAP"
rm -f .bench/store.db*
measure "+ 2,000 generated rules" $BIN/hnsensor replay --rules .bench/rules-2000.rules "$CAP"
# Loading alone: the 1M-indicator folder against the default one, on a tiny capture.
measure "load: Rules/ on a 72-packet capture" $BIN/hnsensor replay --rules Rules Captures/benign-small.pcap
measure "load: Rules/ + 1M indicators" $BIN/hnsensor replay --rules .bench/intel-1m Captures/benign-small.pcap
if [ -d ../shared/rulesets/et-open ]; then
  measure "+ ET Open (24,767 rules)" $BIN/hnsensor replay --rules ../shared/rulesets/et-open "$CAP"
fi
