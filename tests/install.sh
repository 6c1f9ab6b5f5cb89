#!/usr/bin/env bash
# The `install` tier: `make install DESTDIR=$(mktemp -d)` from the current
# build, then checks what landed: a stripped static binary under 16 MB that
# prints its version and commit, its debug info beside it under lib/debug
# (found through .gnu_debuglink), the unit, the config example (which the
# installed binary's parser accepts) and the man page. Ends with the line
# tests/run.sh reads: "install: N passed, N failed".
set -uo pipefail
BUILD=${BUILD:-build}
dest=$(mktemp -d /tmp/owtest-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
passed=0 failed=0
check() {  # check <what> <command...>
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok: $what"; else failed=$((failed + 1)); echo "FAILED: $what"; fi
}
if ! make --no-print-directory BUILD="$BUILD" install DESTDIR="$dest" >"$dest.log" 2>&1; then
  cat "$dest.log"; rm -f "$dest.log"
  echo "install: 0 passed, 1 failed"
  exit 1
fi
rm -f "$dest.log"
bin=$dest/usr/local/bin/oomwatch
dbg=$dest/usr/local/lib/debug/usr/local/bin/oomwatch.debug
size=$(stat -c %s "$bin" 2>/dev/null || echo 0)
echo "installed binary: $size bytes"
check "binary installed and executable" test -x "$bin"
# 16 MB: about 9.6 MB of agent and tools, and 4.2 MB of static OpenSSL for
# /metrics over TLS.
check "binary under 16 MB" test "$size" -gt 0 -a "$size" -lt $((16 * 1024 * 1024))
check "binary is static" sh -c "ldd '$bin' 2>&1 | grep -q 'not a dynamic executable'"
check "binary is stripped (no .symtab)" sh -c "! readelf -S '$bin' | grep -q '\.symtab'"
check "--version prints version and commit" sh -c \
  "'$bin' --version | grep -Eq '^oomwatch $(cat VERSION) \(commit ([0-9a-f]{7,}|unknown)\)$'"
check "debug info installed under lib/debug" sh -c "readelf -S '$dbg' | grep -q '\.debug_line'"
check "debuglink names it" sh -c "readelf --string-dump=.gnu_debuglink '$bin' | grep -q 'oomwatch.debug'"
check "unit installed with the installed binary's path" \
  grep -q "^ExecStart=/usr/local/bin/oomwatch run --config /etc/oomwatch/oomwatch.toml$" \
  "$dest/usr/local/lib/systemd/system/oomwatch.service"
check "config example installed" cmp deploy/oomwatch.toml "$dest/etc/oomwatch/oomwatch.toml"
man1=$dest/usr/local/share/man/man1/oomwatch.1
check "man page installed" grep -q '^\.TH OOMWATCH "1"' "$man1"
for cmd in $("$bin" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}'); do
  check "man page has 'oomwatch $cmd'" grep -q "^\.SS \"oomwatch $cmd\"" "$man1"
done
# A second install keeps an edited config.
echo "# edited" >> "$dest/etc/oomwatch/oomwatch.toml"
make --no-print-directory BUILD="$BUILD" install DESTDIR="$dest" >/dev/null 2>&1
check "reinstall keeps an edited config" grep -q '^# edited$' "$dest/etc/oomwatch/oomwatch.toml"
echo "install: $passed passed, $failed failed"
(( failed == 0 ))
