#!/usr/bin/env bash
# Fuzzes every ingest parser and the config loader in-process with
# libFuzzer, each for a bounded time, and prints inputs run and inputs/s
# per target. Any crash stops that target with the input saved under
# .build-fuzz/crashes/<target>/ and makes the script exit non-zero; add
# such an input to Tests/Fuzz/regressions/<target>/ once fixed.
#   scripts/fuzz.sh [seconds per target, default 60] [target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(native huawei alertmanager-api alertmanager-webhook aliyun tencent pagerduty config api-item template worker-frame stored-event)
scripts/setup.sh
echo "building the fuzz targets (instrumented, in .build-fuzz)..."
swift build --scratch-path .build-fuzz --product HeraldFuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING \
  >/tmp/herald-fuzz-build.log 2>&1 || { tail -40 /tmp/herald-fuzz-build.log; exit 1; }
# The config target checks endpoint configs against the C example plugin.
plugins=.build-fuzz/plugins
mkdir -p "$plugins"
cc -shared -fPIC -O1 -I plugin-sdk/include -o "$plugins/libfile_channel.so" plugin-sdk/examples/file_channel.c
failed=()
for target in "${targets[@]}"; do
  work=.build-fuzz/corpus/$target crashes=.build-fuzz/crashes/$target
  mkdir -p "$work" "$crashes"
  log=.build-fuzz/$target.log
  # The corpus grows in .build-fuzz; the seeds in the repo stay as they are.
  # SWIFT_BACKTRACE off: libFuzzer must catch the trap itself to save the input.
  if SWIFT_BACKTRACE=enable=no HERALD_FUZZ_TARGET=$target HERALD_FUZZ_PLUGINS=$plugins .build-fuzz/debug/HeraldFuzz \
       "$work" "Tests/Fuzz/corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
  fi
  awk -v t="$target" -v s="$status" '/stat::number_of_executed_units/ {runs=$2} /stat::average_exec_per_sec/ {rate=$2}
    END {printf "%-22s %-6s %10d inputs  %8d inputs/s\n", t, s, runs, rate}' "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
  for target in "${failed[@]}"; do
    echo "== $target"; grep -E "ERROR|Fatal|Test unit written|SUMMARY|precondition" ".build-fuzz/$target.log" | head -10
  done
  exit 1
fi
