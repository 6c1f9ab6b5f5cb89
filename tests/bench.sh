#!/usr/bin/env bash
# make bench: performance figures measured side by side in one run. Never a
# pass/fail on absolute time; each bench prints its own figures, ratios and
# goals, and a "BENCH-ROW|measure|figure|goal|met" line per row of the
# performance table, which this script prints together at the end.
# BENCH_SKIP_BUILD=1 skips the clean-build measurement (about 4 minutes);
# BENCH_SKIP_VM=1 the cgroup v2 benches in a VM guest (about 2 minutes).
set -uo pipefail
BUILD=${BUILD:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0

run() {  # run <name> <command...>
  echo "=== $1"
  shift
  "$@" 2>&1 | tee -a "$log"
  local r=${PIPESTATUS[0]}
  if (( r != 0 )); then
    echo "(exited $r)"
    rc=1
  fi
  echo
}

# A base binary for the rows measured side by side with an older build
# (collect start-up, rescue latency): OOMWATCH_BIN_BASE if given, else
# BENCH_BASE_REV (default: the tree before the CPU budget and the snapshot
# fold) built once from this clone's history into $BUILD/base-REV.
# BENCH_SKIP_BASE=1 measures the new binary alone.
if [[ -z ${OOMWATCH_BIN_BASE:-} && ${BENCH_SKIP_BASE:-0} != 1 ]]; then
  rev=${BENCH_BASE_REV:-51d26d5}
  if short=$(git rev-parse -q --short --verify "$rev^{commit}" 2>/dev/null); then
    dir=$BUILD/base-$short
    if [[ ! -x $dir/src/build/oomwatch ]]; then
      echo "=== building the base binary ($short) for the side-by-side rows"
      rm -rf "$dir" && mkdir -p "$dir/src"
      if ! { git archive "$short" | tar -x -C "$dir/src" && make -C "$dir/src" -j"$(nproc)" BUILD=build build/oomwatch >"$dir/build.log" 2>&1; }; then
        echo "(the base build failed, see $dir/build.log: rows measured without it)"
      fi
    fi
    [[ -x $dir/src/build/oomwatch ]] && export OOMWATCH_BIN_BASE=$(cd "$dir/src/build" && pwd)/oomwatch
  else
    echo "(no commit $rev in this clone: rows measured without a base binary)"
  fi
fi

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  run build_time tests/bench/build_time.sh
fi
run bench_snapshot "$BUILD/bench/bench_snapshot"
run bench_collect "$BUILD/bench/bench_collect"
run bench_realloc "$BUILD/bench/bench_realloc"
run bench_agent "$BUILD/bench/bench_agent"
# 10,000 cgroups x 24 h, one sample a minute: the same 1,440 one-minute buckets
# per cgroup a 1 s interval gives, which is what a 24 h window reads.
run "bench_stats (10,000 cgroups)" "$BUILD/bench/bench_stats" --cgroups 10000 --step 60 --dir /var/tmp
for b in "$BUILD"/bench/*; do  # any other bench, with its defaults
  case $(basename "$b") in bench_snapshot|bench_collect|bench_realloc|bench_agent|bench_stats) continue ;; esac
  [[ -x $b ]] && run "$(basename "$b")" "$b"
done

# Benches that need cgroup v2 run in a VM guest (tools/vm/test-vm.sh, the
# BENCH_SCENARIOS of tests/vm/scenarios.sh); their lines come from its console.
if [[ ${BENCH_SKIP_VM:-0} != 1 ]] && command -v qemu-system-x86_64 >/dev/null && [[ -x $BUILD/bench/bench_birth ]]; then
  echo "=== bench_birth on cgroup v2 (VM guest, kernel ${BENCH_VM_KERNEL:=6.12})"
  if VM_SCENARIOS=bench_birth VM_KERNELS=$BENCH_VM_KERNEL tools/vm/test-vm.sh "$BUILD" >"$log.vm" 2>&1; then
    grep -h -a 'birth-to-armed\|^  armed\|never armed\|^BENCH-ROW' "$BUILD"/vm/"$BENCH_VM_KERNEL"*.log | tr -d '\r' |
      sed 's/^BENCH-ROW|birth-to-armed p99, v2/BENCH-ROW|birth-to-armed p99, v2 (VM guest)/' | tee -a "$log"
  else
    tail -n 20 "$log.vm"
    echo "(the VM guest failed)"
    rc=1
  fi
  rm -f "$log.vm"
  echo
fi

echo "=== summary: every row of the performance table, measured in this run"
printf '%-64s %-22s %-22s %s\n' "measure" "figure" "goal" "met"
grep '^BENCH-ROW|' "$log" | while IFS='|' read -r _ m f g ok; do
  printf '%-64s %-22s %-22s %s\n' "$m" "$f" "$g" "$ok"
done
exit $rc
