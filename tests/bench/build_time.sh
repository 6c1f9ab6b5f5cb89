#!/usr/bin/env bash
# Clean build of the binary and every test tier from a fresh clone of HEAD
# (what CI pays each run), then one .cpp touched and rebuilt. Prints the
# figures and their summary rows. Uncommitted changes are not in the clone.
set -euo pipefail
top=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d /var/tmp/owbench-build-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$top" "$tmp/src"
cd "$tmp/src"
now() { date +%s.%N; }
t0=$(now)
make -s tests >/dev/null 2>&1
t1=$(now)
touch user/hintsvc/service.cpp
make -s tests >/dev/null 2>&1
t2=$(now)
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v size="$(stat -c %s build/oomwatch)" -v cores="$(nproc)" 'BEGIN {
  clean = t1 - t0; touched = t2 - t1
  printf "clean `make tests` from a fresh clone (%d cores): %.0f s\n", cores, clean
  printf "touch user/hintsvc/service.cpp, rebuild and relink: %.1f s\n", touched
  printf "build/oomwatch: %.1f MB (with -g1 line tables)\n", size / 1e6
  printf "BENCH-ROW|clean build (make tests, fresh clone)|%.0f s|<= 480 s|%s\n", clean, clean <= 480 ? "yes" : "NO"
  printf "BENCH-ROW|one .cpp touched, rebuild|%.1f s|<= 30 s|%s\n", touched, touched <= 30 ? "yes" : "NO"
}'
