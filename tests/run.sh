#!/usr/bin/env bash
# Runs the test tiers this machine can run and ends with the line CI reads:
#   N passed, N failed
# Tiers: unit (always), go (tools/go, when Go is installed), bpf and integration
# (root), vm (qemu with cgroup v2 kernels, when qemu is installed).
# TIERS="unit integration" picks a subset; BUILD names the build directory.
set -uo pipefail
BUILD=${BUILD:-build}
TIERS=${TIERS:-unit go bpf integration vm}
passed=0 failed=0 skipped=()
summary=()

add() {  # add <tier> <passed> <failed>
  passed=$((passed + $2)); failed=$((failed + $3))
  summary+=("$(printf '%-12s %4d passed, %d failed' "$1" "$2" "$3")")
}

catch_tier() {  # catch_tier <tier> <binary>
  local tier=$1 bin=$2 out rc line
  echo "=== tier $tier: $bin"
  out=$(mktemp)
  "$bin" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^ow-tests: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)
  rm -f "$out"
  if [[ -z $line ]]; then
    echo "tier $tier crashed (exit $rc) before reporting" >&2
    add "$tier" 0 1
    return
  fi
  read -r p f < <(sed -E 's/^ow-tests: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$line")
  # a non-zero exit with no failed test case still counts as a failure
  if (( rc != 0 && f == 0 )); then f=1; fi
  add "$tier" "$p" "$f"
}

is_root() { [[ $(id -u) == 0 ]]; }

for tier in $TIERS; do
  case $tier in
    unit) catch_tier unit "$BUILD/tests/unit" ;;
    bpf|integration)
      if is_root; then catch_tier "$tier" "$BUILD/tests/$tier"; else skipped+=("$tier (needs root)"); fi ;;
    go)
      if command -v go >/dev/null; then
        echo "=== tier go: tools/go"
        out=$(mktemp)
        tools/go/test.sh -v 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
        p=$(grep -cE '^\s*--- PASS' "$out"); f=$(grep -cE '^\s*--- FAIL' "$out")
        if (( rc != 0 && f == 0 )); then f=1; fi
        rm -f "$out"
        add go "$p" "$f"
      else
        skipped+=("go (golang-go not installed)")
      fi ;;
    vm)
      if ! is_root; then skipped+=("vm (needs root)"); continue; fi
      if [[ ! -x tools/vm/test-vm.sh ]]; then skipped+=("vm (tools/vm/test-vm.sh missing)"); continue; fi
      echo "=== tier vm: qemu guests with cgroup v2"
      out=$(mktemp)
      tools/vm/test-vm.sh "$BUILD" 2>&1 | tee "$out"
      rc=${PIPESTATUS[0]}
      if (( rc == 77 )); then skipped+=("vm (qemu unavailable)"); rm -f "$out"; continue; fi
      line=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)
      rm -f "$out"
      if [[ -z $line ]]; then add vm 0 1; continue; fi
      read -r p f < <(sed -E 's/^vm: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$line")
      if (( rc != 0 && f == 0 )); then f=1; fi
      add vm "$p" "$f" ;;
    *) echo "unknown tier $tier" >&2; add "$tier" 0 1 ;;
  esac
done

echo
echo "=== summary"
for s in "${summary[@]}"; do echo "$s"; done
for s in "${skipped[@]+"${skipped[@]}"}"; do echo "skipped: $s"; done
echo "$passed passed, $failed failed"
(( failed == 0 ))
