#!/usr/bin/env bash
# The fuzz tier: runs every libFuzzer target (built by `make fuzz-build` into
# $BUILD/fuzz/) for a bounded time over a copy of its committed seed corpus,
# and ends with the line
#   fuzz: N passed, N failed
# (one count per target). Exits non-zero when any target failed: a crash, a
# sanitizer report, a broken invariant (trap), a leak, a slow input, or a
# target that was not built.
#
#   FUZZ_SECONDS=30 tests/fuzz/run.sh            # seconds per target (default 10)
#   FUZZ_TARGETS="fuzz_units fuzz_config" tests/fuzz/run.sh
#
# New inputs libFuzzer finds go to a temporary copy of the corpus, never to
# tests/fuzz/corpus/. A crashing input is kept in $BUILD/fuzz/artifacts/<target>/
# (reproduce: $BUILD/fuzz/<target> <file>; add it to the corpus once fixed).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
SECONDS_PER=${FUZZ_SECONDS:-10}
RSS_MB=2048
TIMEOUT_S=${FUZZ_TIMEOUT:-10}  # one input running longer than this is a finding
ARTIFACTS=$BUILD/fuzz/artifacts

if ! [[ $SECONDS_PER =~ ^[1-9][0-9]*$ ]]; then
  echo "FUZZ_SECONDS must be a positive integer, got '$SECONDS_PER'" >&2
  exit 2
fi

if [[ -n ${FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for f in tests/fuzz/fuzz_*.cpp; do
    t=${f##*/}
    targets+=("${t%.cpp}")
  done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oomwatch-fuzz.XXXXXX") || exit 1
child=
cleanup() {
  if [[ -n $child ]]; then kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Symbolized reports (clang's libFuzzer runtime looks for llvm-symbolizer).
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]]; then
  for s in llvm-symbolizer llvm-symbolizer-14; do
    if p=$(command -v "$s"); then export ASAN_SYMBOLIZER_PATH=$p; break; fi
  done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0
for t in "${targets[@]}"; do
  bin=$BUILD/fuzz/$t
  if [[ ! -x $bin ]]; then
    echo "fuzz $t: FAIL not built ($bin missing: run 'make fuzz-build')"
    failed=$((failed + 1))
    continue
  fi
  corpus=$tmp/corpus/$t art=$tmp/artifacts/$t/ log=$tmp/$t.log
  mkdir -p "$corpus" "$art"
  seeds=0
  if [[ -d tests/fuzz/corpus/$t ]]; then
    cp -R tests/fuzz/corpus/"$t"/. "$corpus"/
    seeds=$(find "$corpus" -type f | wc -l)
  fi
  start=$(date +%s.%N)
  # In the background so that a signal to this script runs the trap at once
  # (bash defers traps until a foreground child exits).
  "$bin" -max_total_time="$SECONDS_PER" -rss_limit_mb="$RSS_MB" -timeout="$TIMEOUT_S" \
    -print_final_stats=1 -artifact_prefix="$art" "$corpus" >"$log" 2>&1 </dev/null &
  child=$!
  wait "$child"
  rc=$?
  child=
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
  units=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$art" -type f | wc -l)
  figures="${execs:-?} execs in ${secs} s (${rate:-?}/s), corpus $seeds -> $units, peak rss ${rss:-?} MB"
  if (( rc == 0 && crashes == 0 )) && [[ -n $execs ]]; then
    echo "fuzz $t: ok $figures, no crash"
    passed=$((passed + 1))
    continue
  fi
  failed=$((failed + 1))
  # The first line of the log that says what went wrong.
  what=$(grep -m1 -oE 'invariant failed: .*|[^ ]*: runtime error: .*|terminate called .*|Assertion .* failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z -]+' "$log")
  echo "fuzz $t: FAIL exit $rc, ${what:-no final stats} ($figures)"
  if (( crashes > 0 )); then
    mkdir -p "$ARTIFACTS/$t"
    cp "$art"* "$ARTIFACTS/$t/" 2>/dev/null
    for a in "$art"*; do echo "  crashing input kept: $ARTIFACTS/$t/${a##*/}  (reproduce: $bin $ARTIFACTS/$t/${a##*/})"; done
  fi
  echo "  --- last lines of the libFuzzer log:"
  grep -vE '^(#[0-9]+|INFO:|\s*$)' "$log" | tail -n 30 | sed 's/^/  | /'
done

echo "fuzz: $passed passed, $failed failed"
(( failed == 0 ))
