#!/usr/bin/env bash
# The enterprise mix (part of `make bench`): `hncapgen mix` (about 336 MB: 20,000 flows over
# 300 s of HTTP on ports 80 and 8080 with request and response bodies, TLS, SSH, DNS, ICMP),
# replayed by hnsensor with an empty rules file, with Benchmarks/mix.rules (fifty rules of the
# usual kinds), and with the shipped configuration (Rules/, correlation, store, EVE), against
# the read floor (tcpdump -r FILE -w /dev/null). Runs interleaved (one of each in turn, RUNS
# times, default 5); medians of wall time and peak RSS; alerts from the last run; each wall
# time as a multiple of the floor's. Then two workers against the machine's own ceiling (two
# independent one-worker processes at once).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release
RUNS=${RUNS:-5}
SIZE=${SIZE:-336}
mkdir -p .bench
CAP=.bench/mix-$SIZE.pcap
[ -f "$CAP" ] || $BIN/hncapgen mix --size "$SIZE" --out "$CAP"
: > .bench/empty.rules
PACKETS=$($BIN/hnsensor replay --workers 1 --depth read "$CAP" | awk '/^packets/ {print $2}')
FLOWS=$($BIN/hnsensor replay --workers 1 --depth flows "$CAP" | awk '/^flows/ {print $2}')

names=("read floor: tcpdump -r FILE -w /dev/null" "hnsensor, an empty rules file" "hnsensor, Benchmarks/mix.rules (50 rules)"
       "hnsensor, Rules/ with correlation, store, EVE (Config/)" "hnsensor, Benchmarks/mix.rules, two workers"
       "two one-worker processes at once (mix.rules)")
workers=("-" 1 1 1 2 "1+1")
timed() { # index: runs it under /usr/bin/time (its output in .bench/mix-last.out)
  local t=(/usr/bin/time -o .bench/time.out -f "TIME %e %M")
  rm -f .bench/mix-store.db* .bench/mix-eve.json
  case $1 in
    0) "${t[@]}" tcpdump -r "$CAP" -w /dev/null ;;
    1) "${t[@]}" $BIN/hnsensor replay --workers 1 --rules .bench/empty.rules "$CAP" ;;
    2) "${t[@]}" $BIN/hnsensor replay --workers 1 --rules Benchmarks/mix.rules "$CAP" ;;
    3) "${t[@]}" $BIN/hnsensor replay --workers 1 --config Config/hnsensor.yaml --rules Rules --eve .bench/mix-eve.json --store .bench/mix-store.db "$CAP" ;;
    4) "${t[@]}" $BIN/hnsensor replay --workers 2 --rules Benchmarks/mix.rules "$CAP" ;;
    5) "${t[@]}" sh -c "$BIN/hnsensor replay --workers 1 --rules Benchmarks/mix.rules $CAP > /dev/null & $BIN/hnsensor replay --workers 1 --rules Benchmarks/mix.rules $CAP; wait" ;;
  esac > .bench/mix-last.out 2>/dev/null
}
declare -A wall rss alerts
for r in $(seq "$RUNS"); do
  for i in "${!names[@]}"; do
    timed "$i"
    read -r _ w m < <(grep '^TIME' .bench/time.out)
    wall[$i]+="$w "; rss[$i]+="$m "
    alerts[$i]=$(awk '/^alerts/ {print $2}' .bench/mix-last.out)
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
floor=$(echo "${wall[0]}" | median)
one=$(echo "${wall[2]}" | median)
echo "capture: $CAP ($(stat -c %s "$CAP") bytes, $PACKETS packets, $FLOWS flows); $RUNS interleaved runs, medians; $(nproc) cores; $(date -u +%Y-%m-%d)"
echo
echo "| run | workers | wall | vs the read floor | peak RSS | alerts |"
echo "|---|---:|---:|---:|---:|---:|"
for i in "${!names[@]}"; do
  w=$(echo "${wall[$i]}" | median); m=$(echo "${rss[$i]}" | median)
  awk -v n="${names[$i]}" -v k="${workers[$i]}" -v w="$w" -v m="$m" -v f="$floor" -v a="${alerts[$i]:--}" 'BEGIN {
    printf "| %s | %s | %.2f s | %.1fx | %.0f MiB | %s |\n", n, k, w, w / f, m / 1024, (a == "" ? "-" : a) }'
done
pair=$(echo "${wall[5]}" | median); two=$(echo "${wall[4]}" | median)
echo
awk -v o="$one" -v p="$pair" -v t="$two" 'BEGIN {
  printf "two workers (mix.rules): %.2fx one worker; the machine'"'"'s ceiling for two (2 x one alone / two at once): %.2fx; two workers reach %.0f %% of it\n", o / t, 2 * o / p, 100 * (o / t) / (2 * o / p) }'

# Memory: DOWNLOADS (default 1,000) HTTP downloads of DOWNLOAD_MB (default 50) MB at once,
# streamed from the generator (50 GB is not written to disk), replayed with the fifty rules
# (which read bodies, so bodies are kept for inspection): peak RSS of hnsensor.
DOWNLOADS=${DOWNLOADS:-1000}
DOWNLOAD_MB=${DOWNLOAD_MB:-50}
$BIN/hncapgen downloads --count "$DOWNLOADS" --megabytes "$DOWNLOAD_MB" --out - \
  | /usr/bin/time -o .bench/time.out -f "TIME %e %M" $BIN/hnsensor replay --workers 1 --rules Benchmarks/mix.rules /dev/stdin > .bench/mix-last.out 2>/dev/null
read -r _ w m < <(grep '^TIME' .bench/time.out)
echo
awk -v n="$DOWNLOADS" -v s="$DOWNLOAD_MB" -v w="$w" -v m="$m" -v p="$(awk '/^packets/ {print $2}' .bench/mix-last.out)" 'BEGIN {
  printf "%d downloads of %d MB at once (%d packets, streamed from the generator), Benchmarks/mix.rules, one worker: peak RSS %.0f MiB (%.0f s)\n", n, s, p, m / 1024, w }'
