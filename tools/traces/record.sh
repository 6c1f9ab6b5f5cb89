#!/usr/bin/env bash
# Re-records the backtest traces in tests/traces/ (tests/traces/README.md):
# each pattern is owalloc (tests/alloc), or gcexp (tools/go) for goleak, run
# in a fresh v1/v2 memory cgroup
# under this shell's own, with that cgroup's limit as the static one, sampled
# by `oomwatch collect` every 250 ms for 96 s, then time-compressed x3600
# (one real second is one hour: 96 s are four days) by rescale.py.
#
#   sudo tools/traces/record.sh [PATTERN]...   # default: all of them
#   tools/traces/record.sh --print [PATTERN]... # each pattern's limit (MiB) and command
#
# Run from the repository root after `make build/oomwatch build/tests/owalloc`
# and `tools/go/build.sh build` (goleak's gcexp).
# The patterns run side by side; each cgroup, its processes and the raw
# recording are removed when it ends, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
OW=build/oomwatch
ALLOC=build/tests/owalloc
GCEXP=build/gcexp    # tools/go/build.sh build
GO_PORT=18113
OUT=${OUT:-tests/traces}
REAL_S=${REAL_S:-96}         # seconds recorded: 4 days at x3600
FACTOR=3600
M=1048576

own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
if [[ -d /sys/fs/cgroup/memory ]]; then root=/sys/fs/cgroup/memory; limit_file=memory.limit_in_bytes
else root=/sys/fs/cgroup; limit_file=memory.max; own=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup); fi

# The command each pattern runs (inside its cgroup) and its limit in MiB.
stages() {
  local name=$1
  case $name in
    leak)    # a service leaking ~5.7 MiB/h from 96 MiB, restarted after each OOM kill
      echo 320 "while :; do $ALLOC $((96 * M)):10:2000 $((900 * M)):700:0; done" ;;
    jvm)     # a heap plateau at 320 MiB, a spike to 640-680 MiB for 1.5 h about once a day
      echo 768 "$ALLOC $((320 * M)):10:18000 $((640 * M)):10:1500 $((320 * M)):10:18000 $((640 * M)):10:1500 \
                 $((320 * M)):10:18000 $((680 * M)):10:1500 $((320 * M)):10:18000 --stay" ;;
    batch)   # idle 12 h, a 10 h job growing to 600 MiB, once a day
      local s="" i; for i in 1 2 3 4; do s+=" $((16 * M)):1:12000 $((600 * M)):55:2000 $((16 * M)):1:2000"; done
      echo 1024 "$ALLOC$s --stay" ;;
    diurnal) # 120 MiB at night, 400 MiB by day
      local s="" i; for i in 1 2 3 4; do s+=" $((400 * M)):160:500 $((120 * M)):160:500"; done
      echo 512 "$ALLOC$s --stay" ;;
    steady)  # a cache filled once and held
      echo 512 "$ALLOC $((256 * M)):10:$((REAL_S * 1000)) --stay" ;;
    bursty)  # 128 MiB, bursts of 64-256 MiB more for ~20 min every 1.5-5 h (fixed seed)
      RANDOM=42; local s=" $((128 * M)):5:3000" t=3000
      while ((t < REAL_S * 1000 - 6000)); do
        local b=$((64 + RANDOM % 193)) gap=$((1500 + RANDOM % 3500))
        s+=" $(((128 + b) * M)):5:300 $((128 * M)):1:$gap"; t=$((t + 300 + gap + b / 4 * 5))
      done
      echo 512 "$ALLOC$s --stay" ;;
    goleak)  # a Go HTTP service (gcexp -mode interactive) that keeps 4 MiB an hour and churns 24 MiB
             # of garbage, no GOMEMLIMIT; restarted after each OOM kill (drive_goleak feeds it)
      echo 256 "while :; do $GCEXP -mode interactive -addr 127.0.0.1:$GO_PORT; done" ;;
    *) echo "record.sh: unknown pattern $name (leak goleak jvm batch diurnal steady bursty)" >&2; return 2 ;;
  esac
}

# goleak's requests, once a second (an hour), from outside its cgroup. A
# request to a service being restarted fails: that hour's leak is lost, as
# a real one's would be.
drive_goleak() {
  local end=$((SECONDS + REAL_S)) u=http://127.0.0.1:$GO_PORT
  while ((SECONDS < end)); do
    curl -sf "$u/add?bytes=4MiB" > /dev/null || true
    curl -sf "$u/add?bytes=24MiB" > /dev/null && curl -sf "$u/rel?bytes=24MiB" > /dev/null || true
    sleep 1
  done
}

record() {
  local name=$1 spec limit cmd rel
  cg="" raw="" col="" drv=""  # globals of this subshell: the EXIT trap reads them
  spec=$(stages "$name"); limit=${spec%% *}; cmd=${spec#* }
  rel="$own/ow-trace-$$-$name"; cg="$root$rel"; raw=$(mktemp "/tmp/ow-trace-$name.XXXXXX.csv")
  cleanup() {
    [[ -n $drv ]] && kill "$drv" 2>/dev/null || true
    [[ -n $col ]] && kill -INT "$col" 2>/dev/null && wait "$col" 2>/dev/null || true
    if [[ -d $cg ]]; then
      local p; for p in $(cat "$cg/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
      while [[ -s $cg/cgroup.procs ]]; do sleep 0.05; done
      rmdir "$cg"
    fi
    rm -f "$raw"
  }
  trap cleanup EXIT
  mkdir "$cg"
  echo $((limit * M)) > "$cg/$limit_file"
  "$OW" collect --duration $((REAL_S + 30))s --interval 250ms --cgroup "$rel" --out "$raw" 2>/dev/null & col=$!
  until [[ $(wc -l < "$raw") -ge 2 ]]; do kill -0 "$col"; sleep 0.05; done   # the header and a first sample
  if [[ $name == goleak ]]; then drive_goleak & drv=$!; fi
  timeout "$REAL_S" sh -c "echo \$\$ > $cg/cgroup.procs; exec sh -c '$cmd'" || true
  kill -INT "$col"; wait "$col" || true; col=""
  python3 tools/traces/rescale.py "$raw" "$OUT/$name.csv" "$FACTOR" "$name"
  echo "recorded $OUT/$name.csv: $(($(wc -l < "$OUT/$name.csv") - 1)) samples, limit ${limit}Mi"
}

if [[ ${1:-} == --print ]]; then  # the command and limit of each pattern, nothing run
  shift; for p in "${@:-leak goleak jvm batch diurnal steady bursty}"; do for q in $p; do echo "$q: $(stages "$q")"; done; done
  exit 0
fi
pats=("$@"); ((${#pats[@]})) || pats=(leak goleak jvm batch diurnal steady bursty)
pids=()
for p in "${pats[@]}"; do stages "$p" > /dev/null; (record "$p") & pids+=($!); done
rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
