#!/usr/bin/env bash
# make bench: performance figures measured side by side in one run. Never a
# pass/fail on absolute time; each bench prints its own ratios and goals.
set -euo pipefail
BUILD=${BUILD:-build}
for b in "$BUILD"/bench/*; do
  [[ -x $b ]] || continue
  echo "=== $(basename "$b")"
  "$b"
  echo
done
