#!/usr/bin/env bash
# Runs the test tiers this machine can run and ends with the line CI reads:
#   N passed, N failed, N skipped
# Above it: each tier's counts and wall time, each skipped test case with its
# reason, and each failed test case (file:line and name).
#
# Tiers: unit (always), go (tools/go, when Go is installed), bpf and
# integration (root), install (make install into a temp DESTDIR,
# tests/install.sh), rules (promtool on the alerting rules and their unit
# tests, the dashboard's queries; tests/rules.sh), san (unit and integration
# again, built with ASan+UBSan in SAN_BUILD), fuzz (each libFuzzer target
# for FUZZ_SECONDS over the committed corpus), vm (qemu guests with cgroup v2),
# arm64 (ARM64_BUILD cross-built, booted in a qemu-system-aarch64 guest),
# systemd (a Debian guest with systemd as PID 1 running the installed unit), slow (the scale and
# bench-like cases hidden from the other tiers), soak (`make soak` for
# SOAK_DURATION, default 150s here).
# TIERS="unit integration" picks a subset; BUILD names the build directory.
#
# Three lanes run side by side (LANES=1: one after the other). Most tiers
# wait on the kernel (OOM kills, agent start-up, cgroup churn) and leave the
# cores idle; the heavy lane fills them at nice 19:
#   light: unit, go, bpf, integration, install, rules, slow, soak, systemd, then
#          san once its build is done
#   heavy: the sanitizer build, the arm64 build, the fuzz build and tier
#   vm:    the qemu guests, then the arm64 guest once its build is done
# Each tier's output is printed whole when it ends, so lanes never interleave.
# With RUN_BUILDS=1 this script builds SAN_BUILD and the fuzz targets itself
# (`make test` asks it to), so that work overlaps the first tiers; without it
# they must have been built before.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
SAN_BUILD=${SAN_BUILD:-$BUILD-san}
ARM64_BUILD=${ARM64_BUILD:-$BUILD-arm64}
TIERS=${TIERS:-unit go bpf integration install rules slow soak systemd san fuzz vm arm64}
LANES=${LANES:-2}
RUN_BUILDS=${RUN_BUILDS:-0}
T0=$(date +%s)

RES=$(mktemp -d "${TMPDIR:-/tmp}/oomwatch-tiers.XXXXXX") || exit 1
# collect and top cache the kernel's cut-down BTF in /run/oomwatch/btf (their
# default state dir, docs/safety.md): a run that made it removes it, and
# /run/oomwatch when it made that too, so the suite leaves the node as it
# found it.
had_state=0 had_btf=0
[[ -e /run/oomwatch ]] && had_state=1
[[ -e /run/oomwatch/btf ]] && had_btf=1
cleanup() {
  rm -rf "$RES"
  (( had_btf )) || rm -rf /run/oomwatch/btf
  (( had_state )) || rmdir /run/oomwatch 2>/dev/null
  return 0
}
trap cleanup EXIT

want() { [[ " $TIERS " == *" $1 "* ]]; }
is_root() { [[ $(id -u) == 0 ]]; }
now() { date +%s; }

# record <tier> <passed> <failed> <skipped> <seconds>: one tier's counts.
record() { echo "$2 $3 $4 $5" >"$RES/$1.count"; }
# skip_tier <tier> <reason>: a whole tier that cannot run here counts one skip.
skip_tier() {
  echo "$1 (whole tier): $2" >>"$RES/$1.skips"
  record "$1" 0 0 1 0
}
# flush <tier> <log>: prints the tier's output in one piece.
flush() {
  (
    flock 9
    cat "$2"
  ) 9>"$RES/print.lock"
  rm -f "$2"
}

# failed_cases <tier> <output file>: remembers where a Catch2 run failed. The
# summary prints them last, so a log's tail names the failing case.
failed_cases() {
  awk -v tier="$1" '
    # A case header is the name (and sections) between two dashed lines.
    /^--------------------+$/ { if (grab) grab = 0; else { name = ""; grab = 1 }; next }
    grab { sub(/^ +/, ""); name = (name == "" ? $0 : name " " $0); next }
    # The VM report: "test case:", the name, then the case'"'"'s file:line.
    /^ +test case:$/ { name = ""; vgrab = 1; next }
    vgrab && /^ +tests\/.*:[0-9]+$/ { vgrab = 0; next }
    vgrab { t = $0; sub(/^ +/, "", t); name = (name == "" ? t : name " " t); next }
    / FAILED:$/ { loc = $1; sub(/:$/, "", loc); print tier ": " loc "  " name }
  ' "$2" | awk '!seen[$0]++' | head -n 20 >>"$RES/$1.failures"
}

# count_line <tier> <rc> <output> <prefix> <seconds>: reads the tier's
# "<prefix> N passed, N failed[, N skipped]" line. A missing line, or a
# non-zero exit without a failed count, is a failure.
count_line() {
  local tier=$1 rc=$2 out=$3 prefix=$4 secs=$5 line p f s
  line=$(grep -E "^$prefix [0-9]+ passed, [0-9]+ failed" "$out" | tail -n1)
  if [[ -z $line ]]; then
    echo "tier $tier ended (exit $rc) without its count line" >>"$out"
    record "$tier" 0 1 0 "$secs"
    return
  fi
  read -r p f s < <(sed -E "s/^$prefix ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/" <<<"$line")
  s=${s:-0}
  if ((rc != 0 && f == 0)); then f=1; fi
  record "$tier" "$p" "$f" "$s" "$secs"
}

catch_tier() {  # catch_tier <tier> <binary> [catch args...]
  local tier=$1 bin=$2 out rc t
  shift 2
  out=$RES/$tier.log
  t=$(now)
  {
    echo "=== tier $tier: $bin $*"
    if [[ -x $bin ]]; then "$bin" "$@" 2>&1; else echo "$bin is missing (its build failed?)"; false; fi
  } >"$out"
  rc=$?
  failed_cases "$tier" "$out"
  grep -E '^ow-skip: ' "$out" | sed "s/^ow-skip: /$tier: /" >>"$RES/$tier.skips"
  count_line "$tier" "$rc" "$out" "ow-tests:" $(($(now) - t))
  flush "$tier" "$out"
}

script_tier() {  # script_tier <tier> <count prefix> <command...>
  local tier=$1 prefix=$2 out rc t
  shift 2
  out=$RES/$tier.log
  t=$(now)
  {
    echo "=== tier $tier: $*"
    "$@" 2>&1
  } >"$out"
  rc=$?
  if ((rc == 77)); then  # the runner cannot run here at all (vm: no qemu)
    skip_tier "$tier" "$(tail -n 1 "$out")"
    flush "$tier" "$out"
    return
  fi
  # the vm tier lists skipped scenarios and test cases as "  SKIP name: why"
  grep -E '^ +SKIP ' "$out" | sed -E "s/^ +SKIP /$tier: /" >>"$RES/$tier.skips"
  failed_cases "$tier" "$out"
  count_line "$tier" "$rc" "$out" "$prefix" $(($(now) - t))
  flush "$tier" "$out"
}

go_tier() {
  local out=$RES/go.log rc t p f
  if ! command -v go >/dev/null; then skip_tier go "golang-go is not installed"; return; fi
  t=$(now)
  {
    echo "=== tier go: tools/go"
    tools/go/test.sh -v 2>&1
  } >"$out"
  rc=$?
  p=$(grep -cE '^\s*--- PASS' "$out")
  f=$(grep -cE '^\s*--- FAIL' "$out")
  if ((rc != 0 && f == 0)); then f=1; fi
  record go "$p" "$f" 0 $(($(now) - t))
  flush go "$out"
}

# The sanitizer build (and the fuzz targets, which share nothing with it) at
# the lowest priority: the tiers running beside it keep their CPU.
san_build() {
  local t rc
  t=$(now)
  nice -n 19 make --no-print-directory BUILD="$SAN_BUILD" SAN=1 san-tests >"$RES/san-build.log" 2>&1
  rc=$?
  echo "$rc $(($(now) - t))" >"$RES/san-build.done"
}
fuzz_build() {
  local t rc
  t=$(now)
  nice -n 19 make --no-print-directory BUILD="$BUILD" fuzz-build >"$RES/fuzz-build.log" 2>&1
  rc=$?
  echo "$rc $(($(now) - t))" >"$RES/fuzz-build.done"
}
# The arm64 tier's binaries: oomwatch, tests/bpf, owalloc and gcexp, cross-built.
arm64_build() {
  local t rc
  t=$(now)
  nice -n 19 make --no-print-directory ARCH=arm64 BUILD="$ARM64_BUILD" guest-bins >"$RES/arm64-build.log" 2>&1
  rc=$?
  echo "$rc $(($(now) - t))" >"$RES/arm64-build.done"
}
# arm64_missing: why the arm64 tier cannot run here ("" when it can).
arm64_missing() {
  if ! is_root; then echo "needs root"
  elif [[ $(uname -m) != x86_64 ]]; then echo "the arm64 build is cross-built on x86-64 only"
  elif ! command -v aarch64-linux-gnu-g++ >/dev/null || ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "no cross toolchain (as root: make ARCH=arm64 deps)"
  fi
}
# build_ok <name>: its time, or the log's tail when it failed.
build_ok() {
  local rc secs
  read -r rc secs <"$RES/$1.done"
  if ((rc != 0)); then
    echo "=== $1 failed (exit $rc); its last lines:"
    tail -n 40 "$RES/$1.log"
    return 1
  fi
  echo "=== $1: ${secs}s"
}

san_tiers() {
  if [[ ! -x $SAN_BUILD/tests/unit ]]; then
    record san-unit 0 1 0 0
    echo "san-unit: $SAN_BUILD/tests/unit is missing (make BUILD=$SAN_BUILD SAN=1 san-tests)" >>"$RES/san-unit.failures"
    return
  fi
  # halt_on_error: a finding fails the test that hit it; leaks are findings too.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
  catch_tier san-unit "$SAN_BUILD/tests/unit"
  if is_root; then
    # ~[.]: with a test spec Catch2 would also run the hidden scale tests.
    OOMWATCH_BIN=$SAN_BUILD/oomwatch OOMWATCH_GCEXP=$BUILD/gcexp \
      catch_tier san-integration "$SAN_BUILD/tests/integration" '~[nosan]~[.]'
  else
    skip_tier san-integration "needs root"
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS
}

# The heavy lane: the sanitizer, arm64 and fuzz builds, fuzzing.
heavy_lane() {
  if want san && [[ $RUN_BUILDS == 1 ]]; then san_build; fi
  if want arm64 && [[ $RUN_BUILDS == 1 && -z $(arm64_missing) ]]; then arm64_build; fi
  if want fuzz; then
    [[ $RUN_BUILDS == 1 ]] && fuzz_build && build_ok fuzz-build >>"$RES/builds.log"
    # nice 10: time-bound, so only its exec count gives way to the tests beside it
    script_tier fuzz "fuzz:" nice -n 10 env BUILD="$BUILD" tests/fuzz/run.sh
  fi
}

# The qemu guests (side by side; they too mostly wait on their tests).
vm_lane() {
  if ! want vm; then
    :
  elif ! is_root; then
    skip_tier vm "needs root"
  elif [[ ! -x tools/vm/test-vm.sh ]]; then
    skip_tier vm "tools/vm/test-vm.sh missing"
  else
    script_tier vm "vm:" tools/vm/test-vm.sh "$BUILD"
  fi
  want arm64 || return 0
  local why
  why=$(arm64_missing)
  if [[ -n $why ]]; then
    skip_tier arm64 "$why"
    return
  fi
  # Without RUN_BUILDS the build happens here (make is incremental).
  [[ $RUN_BUILDS == 1 ]] || arm64_build
  while [[ ! -e $RES/arm64-build.done ]]; do sleep 2; done
  if ! build_ok arm64-build >>"$RES/builds.log"; then
    record arm64 0 1 0 0
    echo "arm64: the cross build failed (see above)" >>"$RES/arm64.failures"
    return
  fi
  script_tier arm64 "arm64:" env VM_ARCH=arm64 tools/vm/test-vm.sh "$ARM64_BUILD"
}

# The light lane: tiers that mostly wait.
light_lane() {
  want unit && catch_tier unit "$BUILD/tests/unit"
  want go && go_tier
  if want bpf; then
    if is_root; then catch_tier bpf "$BUILD/tests/bpf"; else skip_tier bpf "needs root"; fi
  fi
  if want integration; then
    # INTEGRATION_ARGS: a Catch2 filter (tests/check.sh runs one area's cases)
    # shellcheck disable=SC2086
    if is_root; then catch_tier integration "$BUILD/tests/integration" ${INTEGRATION_ARGS:-}; else skip_tier integration "needs root"; fi
  fi
  want install && script_tier install "install:" env BUILD="$BUILD" tests/install.sh
  want rules && script_tier rules "rules:" tests/rules.sh
  if want slow; then
    # Cases hidden from the other tiers ([.scale], [.fleetbench]): whole-machine
    # work that the VM guests cannot afford; run here once, natively.
    if is_root; then catch_tier slow "$BUILD/tests/integration" '[scale],[fleetbench]'; else skip_tier slow "needs root"; fi
  fi
  if want soak; then
    # A short soak (make soak runs the hour): it fits in the time the light
    # lane would otherwise wait for the sanitizer build.
    if is_root; then
      OWSOAK_DURATION=${SOAK_DURATION:-150s} OWSOAK_SAMPLE=${SOAK_SAMPLE:-25s} catch_tier soak "$BUILD/tests/integration" '[soak]'
    else
      skip_tier soak "needs root"
    fi
  fi
  if want systemd; then
    # After install (both run make install on BUILD): the unit, started by
    # systemd in a Debian guest.
    if is_root; then script_tier systemd "systemd:" tools/vm/systemd-guest.sh "$BUILD"; else skip_tier systemd "needs root"; fi
  fi
  if want san; then
    if [[ $RUN_BUILDS == 1 ]]; then
      while [[ ! -e $RES/san-build.done ]]; do sleep 2; done
      if ! build_ok san-build >>"$RES/builds.log"; then
        record san-unit 0 1 0 0
        echo "san: the sanitizer build failed (see above)" >>"$RES/san-unit.failures"
        return
      fi
    fi
    san_tiers
  fi
}

for t in $TIERS; do
  case $t in unit | go | bpf | integration | install | rules | slow | soak | systemd | san | fuzz | vm | arm64) ;;
  *) echo "unknown tier $t" >&2; record "$t" 0 1 0 0 ;;
  esac
done

if [[ $LANES == 1 ]]; then
  light_lane
  heavy_lane
  vm_lane
else
  vm_lane &
  vm=$!
  heavy_lane &
  heavy=$!
  light_lane
  wait "$heavy" "$vm"
fi

echo
echo "=== summary"
[[ -n ${NATIVE_BUILD_S:-} ]] && echo "=== native build and go: ${NATIVE_BUILD_S}s"
[[ -s $RES/builds.log ]] && cat "$RES/builds.log"
passed=0 failed=0 skipped=0
for t in unit go bpf integration install rules slow soak systemd san-unit san-integration fuzz vm arm64 $TIERS; do
  f=$RES/$t.count
  [[ -f $f ]] || continue
  read -r p q s secs <"$f"
  rm -f "$f"
  printf '%-16s %4d passed, %d failed, %d skipped  %4ds\n' "$t" "$p" "$q" "$s" "$secs"
  passed=$((passed + p)) failed=$((failed + q)) skipped=$((skipped + s))
done
cat "$RES"/*.skips 2>/dev/null | sed 's/^/skipped: /'
cat "$RES"/*.failures 2>/dev/null | sed 's/^/failed at: /'
echo "tiers and the builds beside them: $(($(now) - T0))s"
# .ci/run sets OOMWATCH_CI_T0: the whole run, apt and the first build included.
[[ -n ${OOMWATCH_CI_T0:-} ]] && echo "ci total: $(($(now) - OOMWATCH_CI_T0))s"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
