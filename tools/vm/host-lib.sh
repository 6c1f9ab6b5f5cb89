# shellcheck shell=bash
# Host-side helpers of the VM tiers (tools/vm/test-vm.sh, tools/vm/systemd-guest.sh):
# the tier's failure (die, and an ERR trap), apt, Debian's cloud kernels, and
# reading a guest's console back. Sourced first (set -eE); the caller sets
# TIER before, and REPO, VMDIR, CACHE, KERNEL_FLAVOUR, APT_ARCH, VM_TIMEOUT
# and VM_TIER_TIMEOUT before calling the helpers.

# die MESSAGE: the tier fails (before any guest ran, or on an unexpected
# error); the closing count line still comes last so the caller's tally sees
# the failure.
die() {
	trap - ERR
	echo "$TIER: FAIL: $*" >&2
	echo "$TIER: ${TOTAL_PASS:-0} passed, $((${TOTAL_FAIL:-0} + 1)) failed, ${TOTAL_SKIP:-0} skipped"
	exit 1
}
# Any other command that fails (dpkg -x, cpio, a full disk ...) ends the tier
# the same way, naming the command, instead of a bare exit status.
trap 'die "line $LINENO: \"$BASH_COMMAND\" failed (exit status $?)"' ERR

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# apt gets a bound of its own (a stalled mirror must not eat the tier's time).
APT_TIMEOUT=240

# ---------------------------------------------------------------------------
# Host tools. CI starts from a fresh machine, so install what is missing.

APT_UPDATED=0
apt_update_once() {
	[ "$APT_UPDATED" = 1 ] && return 0
	APT_UPDATED=1
	timeout "$APT_TIMEOUT" apt-get update -q >"$VMDIR/apt-update.log" 2>&1 ||
		{ cat "$VMDIR/apt-update.log" >&2; return 1; }
}

# apt_install PKG...: install, refreshing the package lists once if needed.
apt_install() {
	[ "$(id -u)" = 0 ] || { echo "$TIER: not root, cannot apt-get install $*" >&2; return 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "$@" >"$VMDIR/apt-install.log" 2>&1 && return 0
	apt_update_once || return 1
	apt-get install -y -q "$@" >"$VMDIR/apt-install.log" 2>&1 ||
		{ tail -n 20 "$VMDIR/apt-install.log" >&2; return 1; }
}

# pkg_regex SERIES: the package names of one kernel series, signed or not.
pkg_regex() {
	case $1 in
	6.12) echo "^linux-image-6\\.12\\.[0-9]+\\+deb12-$KERNEL_FLAVOUR(-unsigned)?\$" ;;
	6.1) echo "^linux-image-6\\.1\\.0-[0-9]+-$KERNEL_FLAVOUR(-unsigned)?\$" ;;
	esac
}

# newest_pkg SERIES: newest package name of the series in apt's lists,
# without the -unsigned suffix ("" when apt knows none).
newest_pkg() {
	apt-cache search --names-only "$(pkg_regex "$1")" 2>/dev/null |
		awk '{ print $1 }' | sed 's/-unsigned$//' | sort -uV | tail -n 1
}

# fetch_kernel SERIES: apt-get download + dpkg -x into $CACHE/SERIES, keeping
# vmlinuz, the config (to check features later) and what was fetched.
fetch_kernel() {
	local series=$1 pkg dl log deb release
	pkg=$(newest_pkg "$series")
	if [ -z "$pkg" ]; then
		apt_update_once || die "apt-get update failed (see above)"
		pkg=$(newest_pkg "$series")
	fi
	[ -n "$pkg" ] || die "apt knows no package matching $(pkg_regex "$series")"
	dl=$CACHE/$series.download
	rm -rf "$dl" && mkdir -p "$dl"
	log=$dl/apt.log
	# Signed first (what nodes run), the unsigned twin if only that exists.
	# A stale package list (404) gets one apt-get update and another try.
	local try name ok=0
	for try in 1 2; do
		for name in "$pkg$APT_ARCH" "$pkg-unsigned$APT_ARCH"; do
			if (cd "$dl" && timeout "$APT_TIMEOUT" apt-get download -q -o APT::Sandbox::User=root "$name") >>"$log" 2>&1; then
				ok=1
				break 2
			fi
		done
		[ "$try" = 1 ] && { apt_update_once || break; }
	done
	if [ "$ok" != 1 ]; then
		die "could not download $pkg (nor $pkg-unsigned); apt said:
$(sed 's/^/  /' "$log")"
	fi
	deb=$(ls "$dl"/*.deb)
	dpkg -x "$deb" "$dl/root"
	release=$(find "$dl/root/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//')
	[ -n "$release" ] || die "$deb has no /boot/vmlinuz-*"
	rm -rf "${CACHE:?}/$series"
	mkdir -p "$CACHE/$series"
	mv "$dl/root/boot/vmlinuz-$release" "$CACHE/$series/vmlinuz"
	mv "$dl/root/boot/config-$release" "$CACHE/$series/config"
	echo "$release" >"$CACHE/$series/release"
	echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)" >"$CACHE/$series/package"
	rm -rf "$dl"
	echo "$TIER: fetched $(cat "$CACHE/$series/package") into $CACHE/$series" >&2
}

TOTAL_PASS=0
TOTAL_FAIL=0
TOTAL_SKIP=0

# report SERIES: print one kernel's section and add to the totals.
report() {
	local series=$1 release log rc wall limit clean pass fail skip running
	release=$(cat "$CACHE/$series/release")
	log=$VMDIR/$release.log
	read -r rc wall limit <"$VMDIR/$release.rc"
	if [ "$rc" = notrun ]; then
		echo
		echo "=== kernel $series: $(cat "$CACHE/$series/package")"
		echo "  FAIL guest: not booted: only ${limit}s of VM_TIER_TIMEOUT=${VM_TIER_TIMEOUT}s were left for it (the tier must end within its bound)"
		echo "  summary for $series: 0 passed / 1 failed"
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		return 0
	fi
	clean=$VMDIR/$release.clean
	# Serial console lines end in \r\n.
	tr -d '\r' <"$log" >"$clean"
	echo
	echo "=== kernel $series: $(cat "$CACHE/$series/package") (console: $log)"
	echo "  guest ran ${wall}s wall of its ${limit}s bound (qemu exit $rc)"
	[ -f "$VMDIR/$release.reboot" ] &&
		echo "  NOTE booted twice: the first boot panicked before init ran ($(cat "$VMDIR/$release.reboot")); its console: $log.boot1"
	# The guest's header (version, cgroup layout), one line per scenario with
	# what it chose to show, then the counts "PASSED FAILED [RUNNING]".
	awk -f "$REPO/tools/vm/results.awk" "$clean" >"$VMDIR/$release.results"
	# A skip names its kernel: the summary lists skips of both guests together.
	sed '$d' "$VMDIR/$release.results" | sed "s/^  SKIP /  SKIP $series: /"
	read -r pass fail skip running < <(tail -n 1 "$VMDIR/$release.results")
	if ! grep -q '@@VMDONE' "$clean"; then
		# Hung, panicked or died: that is a failure of its own, with the
		# console's last lines to show where.
		local why="guest did not finish${running:+ (during scenario $running)}: no @@VMDONE on its console (init died, the guest powered off early, or its console output was lost)"
		[ "$rc" = 124 ] && why="guest hung${running:+ in scenario $running}: no @@VMDONE within its bound of ${limit}s (VM_TIMEOUT=${VM_TIMEOUT}s, VM_TIER_TIMEOUT=${VM_TIER_TIMEOUT}s)"
		grep -q 'Kernel panic' "$clean" && why="guest kernel panicked: $(grep -m1 'Kernel panic' "$clean")"
		echo "  FAIL guest: $why; last 30 console lines:"
		tail -n 30 "$clean" | sed 's/^/    | /'
		fail=$((fail + 1))
	elif [ "$((pass + fail))" = 0 ]; then
		echo "  FAIL guest: no scenario reported a result"
		fail=$((fail + 1))
	fi
	echo "  summary for $series: $pass passed / $fail failed / $skip skipped"
	TOTAL_PASS=$((TOTAL_PASS + pass))
	TOTAL_FAIL=$((TOTAL_FAIL + fail))
	TOTAL_SKIP=$((TOTAL_SKIP + skip))
}

