#!/usr/bin/env bash
# The fast loop (`make check`): the unit and bpf tiers, and the integration
# cases of the areas a change touches, in a few minutes instead of the whole
# suite's half hour.
#
#   tests/check.sh                 areas from `git status` (changes since HEAD)
#   tests/check.sh recommend trace these areas
#
# An area is a folder under user/ (user/recommend/x.cpp -> recommend) or an
# integration test file (tests/integration/test_trace.cpp -> trace). Its cases
# are those of tests/integration/test_<area>*.cpp. Areas without such a file
# (util, cgroup, ..., and the tests' own helpers in tests/common and
# tests/alloc) are used by everything: the whole integration tier runs.
# Ends with run.sh's "N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}

areas=("$@")
if ((${#areas[@]} == 0)); then
  while IFS= read -r f; do
    case $f in
    user/*/*) a=${f#user/}; areas+=("${a%%/*}") ;;
    tests/integration/test_*.cpp) a=${f#tests/integration/test_}; areas+=("${a%.cpp}") ;;
    tests/common/* | tests/alloc/*) areas+=("tests/common") ;;  # every integration case uses them
    esac
  done < <(git status --porcelain 2>/dev/null | awk '{ print $NF }')
fi

# Areas whose cases are in files of other names: user/k8s names containers
# in OOM events (test_containerd, on a real containerd), in recommend's rows
# and on /metrics (test_prometheus).
mapped=()
for a in "${areas[@]+"${areas[@]}"}"; do
  case $a in
  k8s) mapped+=(containerd recommend prometheus) ;;
  *) mapped+=("$a") ;;
  esac
done
areas=("${mapped[@]+"${mapped[@]}"}")

files=() whole=0
for a in $(printf '%s\n' "${areas[@]+"${areas[@]}"}" | sort -u); do
  found=0
  [[ $a == */* ]] && { echo "check: $a changed: the whole integration tier runs"; whole=1; continue; }
  for f in tests/integration/test_"$a"*.cpp; do
    [[ -e $f ]] || continue
    files+=("$(basename "$f" .cpp)")
    found=1
  done
  if ((found == 0)); then
    echo "check: area '$a' has no tests/integration/test_$a*.cpp: the whole integration tier runs"
    whole=1
  fi
done

export BUILD TIERS="unit bpf" LANES=1
if ((whole == 1)); then
  TIERS="unit bpf integration" exec tests/run.sh
fi
if ((${#files[@]} == 0)); then
  echo "check: nothing under user/ or tests/integration/ changed: unit and bpf only"
  exec tests/run.sh
fi
spec=$(printf '[#%s],' "${files[@]}")
echo "check: integration cases of ${files[*]}"
TIERS="unit bpf integration" INTEGRATION_ARGS="-# ${spec%,}" exec tests/run.sh
