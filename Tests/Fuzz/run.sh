#!/usr/bin/env bash
# `make fuzz`: builds hnfuzz with libFuzzer and AddressSanitizer, then runs every target for
# FUZZ_SECONDS (default 60) from the committed seeds in Tests/Fuzz/corpus (copied, so the
# seeds stay as committed). Any crash, leak or timeout fails the run; libFuzzer writes the
# reproducer to .build/fuzz-artifacts/TARGET/. Replay one with: .build/debug/hnfuzz TARGET FILE
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
BIN=.build/fuzz/debug/hnfuzz
swift build --product hnfuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --build-path .build/fuzz 2>&1 \
  | grep -E "error:|Compiling hnfuzz|Build complete" || true
[ -x "$BIN" ] || { echo "fuzz: the fuzz build failed"; exit 1; }
TARGETS=$($BIN 2>&1 | sed -n 's/.*targets: //p')
export SWIFT_BACKTRACE=enable=no
failed=0
printf '| target | runs | exec/s | corpus | result |\n|---|---:|---:|---:|---|\n'
for t in $TARGETS; do
  work=.build/fuzz-corpus/$t artifacts=.build/fuzz-artifacts/$t
  mkdir -p "$work" "$artifacts"
  cp -n Tests/Fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  log=.build/fuzz-artifacts/$t.log
  $BIN "$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$work" > "$log" 2>&1
  status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  files=$(ls "$work" | wc -l)
  if [ $status -eq 0 ]; then result=ok; else result="FAILED (exit $status, see $log)"; failed=1; fi
  printf '| %s | %s | %s | %s | %s |\n' "$t" "${runs:--}" "${speed:--}" "$files" "$result"
done
exit $failed
