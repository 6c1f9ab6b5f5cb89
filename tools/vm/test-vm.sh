#!/usr/bin/env bash
# VM test tier: boot Debian's cloud kernels under qemu (TCG) with
# cgroup v2 only, run tests/vm/scenarios.sh inside, read the results back from
# the serial console.
#
#   tools/vm/test-vm.sh BUILD_DIR
#   VM_ARCH=arm64 tools/vm/test-vm.sh build-arm64   (the arm64 tier)
#
# BUILD_DIR/oomwatch is required; BUILD_DIR/tests/integration,
# BUILD_DIR/tests/bpf (Catch2) and BUILD_DIR/gcexp (Go) are included and run
# when present. All of them must be statically linked: the guest has no libc.
#
# Environment:
#   VM_ARCH=x86|arm64    the guests' architecture: x86 boots the amd64
#                        kernels with qemu-system-x86_64; arm64 boots the
#                        arm64 kernels with qemu-system-aarch64 (-M virt,
#                        TCG) and busybox-static:arm64, runs the scenarios of
#                        ARM64_SCENARIOS and counts as tier "arm64"
#   VM_TIMEOUT=450       seconds one guest may run before it counts as hung
#                        (guests side by side; one after the other, each gets
#                        its share of the tier's 600)
#   VM_TIER_TIMEOUT=600  seconds the whole tier may take (10 minutes);
#                        each guest's bound is cut to its share of what is left
#   VM_KERNELS="6.12 6.1" kernel series to boot (Debian cloud kernels)
#   VM_PARALLEL=1|0      boot the kernels side by side (default) or one after the other
#   VM_SCENARIOS="a b"   run only these scenarios (names from scenarios.sh)
#   VM_REFRESH=1         fetch the newest kernels again instead of the cache
#   VM_CACHE=DIR         kernel cache (default BUILD_DIR/vm/cache)
#   VM_APPEND="..."      extra kernel command-line arguments
#   VM_SCRATCH=1G        size of each guest's scratch disk (/var/tmp, sparse)
#
# Output: per kernel its version, the guest's cgroup layout and one PASS/FAIL
# line per scenario; the last line is "vm: N passed, N failed, N skipped"
# ("arm64: ..." with VM_ARCH=arm64).
# Exit 0 when nothing failed, 1 when something did, 77 when qemu is missing
# and cannot be installed (the caller reports the tier as skipped).
set -eEuo pipefail

VM_ARCH=${VM_ARCH:-x86}
case $VM_ARCH in
x86) TIER=vm ;;
arm64) TIER=arm64 ;;
*) TIER=vm ;;
esac
REPO=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tools/vm/host-lib.sh
. "$REPO/tools/vm/host-lib.sh"

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
[ -d "$1" ] || die "build directory $1 does not exist (run make first)"
BUILD=$(cd "$1" && pwd)
VMDIR=$BUILD/vm
CACHE=${VM_CACHE:-$VMDIR/cache}
VM_TIMEOUT=${VM_TIMEOUT:-450}
VM_TIER_TIMEOUT=${VM_TIER_TIMEOUT:-600}
case $VM_ARCH in
x86)
	QEMU=qemu-system-x86_64 QEMU_PKG=qemu-system-x86 KERNEL_FLAVOUR=cloud-amd64 CONSOLE=ttyS0 STRIP=strip
	QEMU_MACHINE=()
	DEFAULT_KERNELS="6.12 6.1"
	APT_ARCH=""
	;;
arm64)
	# -cpu max with QEMU's cheap pointer-authentication algorithm (the
	# architected one is slow under TCG).
	QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm KERNEL_FLAVOUR=cloud-arm64 CONSOLE=ttyAMA0
	STRIP=aarch64-linux-gnu-strip
	QEMU_MACHINE=(-M virt -cpu max,pauth-impdef=on)
	DEFAULT_KERNELS="6.12 6.1"
	# apt-get download of another architecture's package (arm64 must be a
	# dpkg architecture: tools/install-cross-deps.sh arm64 adds it)
	APT_ARCH=":arm64"
	;;
*) die "VM_ARCH=$VM_ARCH: known are x86 and arm64" ;;
esac
VM_KERNELS=${VM_KERNELS:-$DEFAULT_KERNELS}
# Measured on 2 cores: see tools/vm/README.md. Side by side is the default:
# the guests spend most of their time waiting on their own tests (OOM kills,
# agent start-up), and the tier took 237 s side by side against about 430 s
# one after the other, every scenario passing either way.
VM_PARALLEL=${VM_PARALLEL:-1}
VM_SCENARIOS=${VM_SCENARIOS:-}
# The arm64 guest runs its own list (tests/vm/scenarios.sh: ARM64_SCENARIOS).
if [ "$VM_ARCH" = arm64 ] && [ -z "$VM_SCENARIOS" ]; then
	# shellcheck disable=SC1091  # scenarios.sh only defines functions and lists
	VM_SCENARIOS=$(. "$REPO/tests/vm/scenarios.sh" && echo "$ARM64_SCENARIOS")
fi
VM_REFRESH=${VM_REFRESH:-0}
VM_APPEND=${VM_APPEND:-}
VM_SCRATCH=${VM_SCRATCH:-1G}

T_START=$(now)
# tier_left: whole seconds left of VM_TIER_TIMEOUT.
tier_left() { awk -v a="$T_START" -v b="$(now)" -v t="$VM_TIER_TIMEOUT" 'BEGIN { printf "%d", t - (b - a) }'; }
mkdir -p "$VMDIR" "$CACHE"

if ! command -v "$QEMU" >/dev/null; then
	echo "$TIER: $QEMU not found, installing $QEMU_PKG" >&2
	if ! apt_install "$QEMU_PKG" || ! command -v "$QEMU" >/dev/null; then
		echo "$TIER: SKIP: $QEMU is not installed and apt-get install $QEMU_PKG failed"
		exit 77
	fi
fi
for tool in cpio:cpio file:file gzip:gzip timeout:coreutils; do
	command -v "${tool%%:*}" >/dev/null || apt_install "${tool#*:}" ||
		die "${tool%%:*} is missing and apt-get install ${tool#*:} failed"
done
# The guest's userland is busybox, so it must be the static build (package
# busybox-static); Debian's plain "busybox" package ships a dynamic one.
HOST_BUSYBOX=/bin/busybox
if ! file -L "$HOST_BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
	apt_install busybox-static || die "apt-get install busybox-static failed"
	file -L "$HOST_BUSYBOX" | grep -q 'statically linked' ||
		die "$HOST_BUSYBOX is not statically linked even after installing busybox-static"
fi
BUSYBOX=$HOST_BUSYBOX

# ---------------------------------------------------------------------------
# Binaries from the build, checked before anything is downloaded.

# is_static FILE: an ELF that needs no dynamic loader. `file` says
# "statically linked" (static, Go) or "static-pie linked" (-static-pie).
is_static() {
	local desc
	desc=$(file -L "$1")
	case $VM_ARCH:$desc in
	x86:*ELF*x86-64*"statically linked"* | x86:*ELF*x86-64*"static-pie linked"*) return 0 ;;
	arm64:*ELF*aarch64*"statically linked"* | arm64:*ELF*aarch64*"static-pie linked"*) return 0 ;;
	esac
	case $desc in
	*ELF*"statically linked"* | *ELF*"static-pie linked"*) die "$1 is not built for $VM_ARCH: ${desc#*: }" ;;
	esac
	die "$1 is not a static executable; the guest has no shared libraries.
vm:   file says: ${desc#*: }
vm:   link it with -static (C/C++) or CGO_ENABLED=0 (Go)."
}

[ -e "$BUILD/oomwatch" ] || die "$BUILD/oomwatch is missing: build it first (make BUILD=$1$([ "$VM_ARCH" = x86 ] || echo " ARCH=$VM_ARCH"))"
BINARIES="oomwatch"
for opt in tests/integration tests/bpf tests/owalloc gcexp bench/bench_birth; do
	[ -f "$BUILD/$opt" ] && BINARIES="$BINARIES $opt"
done
for bin in $BINARIES; do
	is_static "$BUILD/$bin"
done

# ---------------------------------------------------------------------------
# Kernels: Debian's cloud kernels have 8250 serial, cgroups, BPF, BTF,
# tracefs, debugfs, NVMe and ext4 built in (no modules needed: the only disk
# is an NVMe scratch disk, there is no network).

for series in $VM_KERNELS; do
	case $series in 6.12 | 6.1) ;; *) die "unknown kernel series $series in VM_KERNELS (known: 6.12 6.1)" ;; esac
	if [ "$VM_REFRESH" = 1 ] || [ ! -s "$CACHE/$series/vmlinuz" ]; then
		fetch_kernel "$series"
	fi
done

# The arm64 guest's userland: Debian's busybox-static:arm64, unpacked into
# the cache like the kernels.
if [ "$VM_ARCH" = arm64 ]; then
	if [ "$VM_REFRESH" = 1 ] || [ ! -s "$CACHE/busybox/busybox" ]; then
		dl=$CACHE/busybox.download
		rm -rf "$dl" && mkdir -p "$dl"
		(cd "$dl" && timeout "$APT_TIMEOUT" apt-get download -q -o APT::Sandbox::User=root busybox-static:arm64) >"$dl/apt.log" 2>&1 ||
			{ apt_update_once && (cd "$dl" && timeout "$APT_TIMEOUT" apt-get download -q -o APT::Sandbox::User=root busybox-static:arm64) >>"$dl/apt.log" 2>&1; } ||
			die "could not download busybox-static:arm64 (is arm64 a dpkg architecture? tools/install-cross-deps.sh arm64); apt said:
$(sed 's/^/  /' "$dl/apt.log")"
		dpkg -x "$dl"/*.deb "$dl/root"
		rm -rf "${CACHE:?}/busybox" && mkdir -p "$CACHE/busybox"
		mv "$dl/root/bin/busybox" "$CACHE/busybox/busybox"
		dpkg-deb -f "$dl"/*.deb Version >"$CACHE/busybox/version"
		rm -rf "$dl"
	fi
	BUSYBOX=$CACHE/busybox/busybox
	file -L "$BUSYBOX" | grep -q 'ARM aarch64.*statically linked' || die "$BUSYBOX: not a static aarch64 busybox"
fi

# ---------------------------------------------------------------------------
# Initramfs, rebuilt every run: busybox, /init, the scenarios, the binaries.

T_INITRD=$(now)
STAGE=$VMDIR/initramfs
INITRD=$VMDIR/initrd.gz
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,build/tests,build/bench,vmtest}
cp "$BUSYBOX" "$STAGE/bin/busybox"
# Applet links at build time (not `busybox --install` at boot) so that
# #!/bin/sh and /usr/bin/env work from the first instruction of /init. The
# list comes from running busybox, here the host's: for arm64 only when it
# is the same version as the guest's; otherwise a first /init makes the
# links at boot and then runs the real one.
applets_from=$BUSYBOX
if [ "$VM_ARCH" != x86 ]; then
	applets_from=""
	[ "$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null)" = "$(cat "$CACHE/busybox/version")" ] &&
		applets_from=$HOST_BUSYBOX
fi
if [ -n "$applets_from" ]; then
	for applet in $("$applets_from" --list-full); do
		case $applet in bin/busybox | linuxrc | */init) continue ;; esac
		[ -e "$STAGE/$applet" ] || ln -s /bin/busybox "$STAGE/$applet"
	done
	install -m 755 "$REPO/tools/vm/init.sh" "$STAGE/init"
else
	ln -s busybox "$STAGE/bin/sh"
	printf '#!/bin/sh\n/bin/busybox --install -s\nexec /bin/sh /init.sh "$@"\n' >"$STAGE/init"
	chmod 755 "$STAGE/init"
	install -m 755 "$REPO/tools/vm/init.sh" "$STAGE/init.sh"
fi
echo 'root:x:0:0:root:/root:/bin/sh' >"$STAGE/etc/passwd"
echo 'root:x:0:' >"$STAGE/etc/group"
install -m 644 "$REPO/tests/vm/lib.sh" "$REPO/tests/vm/scenarios.sh" "$REPO/tests/vm/runner.sh" "$STAGE/vmtest/"
# The recorded traces the backtest cases read (found by walking up from
# /build/tests, as in a checkout).
mkdir -p "$STAGE/tests" && cp -r "$REPO/tests/traces" "$STAGE/tests/"
# Debug info would multiply the initramfs (and the guest RAM it occupies);
# the symbol table stays for backtraces. A plain copy if strip is missing.
for bin in $BINARIES; do
	"$STRIP" --strip-debug -o "$STAGE/build/$bin" "$BUILD/$bin" 2>/dev/null ||
		cp "$BUILD/$bin" "$STAGE/build/$bin"
	chmod 755 "$STAGE/build/$bin"
done
(cd "$STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$INITRD"
rm -rf "$STAGE"
echo "$TIER: initramfs $(du -h "$INITRD" | cut -f1) (busybox, $BINARIES) built in $(elapsed "$T_INITRD")s"

# ---------------------------------------------------------------------------
# Boot. The kernel command line makes cgroup v2 the only hierarchy;
# panic=-1 + -no-reboot turns a panic into qemu exiting.

# Each guest adds vmtest.timeout=<its bound> after APPEND, before APPEND_TAIL
# (VM_APPEND comes last: it may end with "-- ARGS" for init).
APPEND="console=$CONSOLE panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
APPEND_TAIL=""
[ -n "$VM_SCENARIOS" ] && APPEND_TAIL="$APPEND_TAIL vmtest.only=$(echo "$VM_SCENARIOS" | tr -s ' ' ,)"
[ -n "$VM_APPEND" ] && APPEND_TAIL="$APPEND_TAIL $VM_APPEND"

# scratch_disk SERIES: a fresh, empty ext2 file system in a sparse image for
# one guest, which mounts it on /var/tmp. The file strategies of test-memory
# and stress-memory need a disk-backed directory (page cache that can be
# written back and reclaimed); the initramfs is tmpfs. It is an NVMe disk
# because the cloud kernels have NVMe built in (virtio-blk is a module).
scratch_disk() {
	local img=$VMDIR/scratch-$1.img
	rm -f "$img"
	truncate -s "$VM_SCRATCH" "$img"
	"$HOST_BUSYBOX" mke2fs -F -m 0 -L owscratch "$img" >"$VMDIR/mke2fs.log" 2>&1 ||
		die "mke2fs of the scratch disk $img failed: $(cat "$VMDIR/mke2fs.log")"
}

# guest_timeout N: the bound of the next guest when N guests (it included)
# still share what is left of VM_TIER_TIMEOUT: at most VM_TIMEOUT, less
# qemu's kill grace (10 s) and a margin for the report (5 s).
guest_timeout() {
	local per=$((($(tier_left) - 5) / $1 - 10))
	if [ "$per" -lt "$VM_TIMEOUT" ]; then echo "$per"; else echo "$VM_TIMEOUT"; fi
}
# A guest with less than this is not booted (a failure of its own).
MIN_GUEST_TIMEOUT=60

# boot SERIES LIMIT: run one guest for at most LIMIT seconds; console to
# $VMDIR/<release>.log; qemu's exit code, wall time and LIMIT to
# $VMDIR/<release>.rc ("notrun" instead of an exit code when LIMIT is too
# small to boot at all).
boot() {
	local series=$1 limit=$2 release log t0 rc=0
	release=$(cat "$CACHE/$series/release")
	log=$VMDIR/$release.log
	rm -f "$log"
	if [ "$limit" -lt "$MIN_GUEST_TIMEOUT" ]; then
		: >"$log"
		echo "notrun 0 $limit" >"$VMDIR/$release.rc"
		return 0
	fi
	rm -f "$log.boot1" "$VMDIR/$release.reboot"
	local attempt took
	for attempt in 1 2; do
		scratch_disk "$series"
		t0=$(now)
		rc=0
		timeout -k 10 "$limit" "$QEMU" "${QEMU_MACHINE[@]}" \
			-accel tcg,thread=multi -m 1024 -smp 2 \
			-kernel "$CACHE/$series/vmlinuz" -initrd "$INITRD" -append "$APPEND vmtest.timeout=$limit$APPEND_TAIL" \
			-drive "file=$VMDIR/scratch-$series.img,if=none,id=scratch,format=raw,cache=unsafe" \
			-device nvme,drive=scratch,serial=owscratch \
			-nographic -no-reboot -nic none </dev/null >"$log" 2>&1 || rc=$?
		took=$(elapsed "$t0")
		rm -f "$VMDIR/scratch-$series.img"
		# A panic before init printed anything ("@@| " lines) is the guest
		# kernel failing its own boot under TCG (seen once: an int3 oops in
		# sched_clock_cpu while the kernel patched its text), not a test:
		# boot it once more if its bound leaves room, and say so in the report.
		if [ "$attempt" = 1 ] && grep -q 'Kernel panic' "$log" && ! tr -d '\r' <"$log" | grep -q '^@@| '; then
			local left=$((limit - ${took%.*} - 1))
			if [ "$left" -ge "$MIN_GUEST_TIMEOUT" ]; then
				mv "$log" "$log.boot1"
				grep -m1 'Kernel panic' "$log.boot1" | tr -d '\r' >"$VMDIR/$release.reboot"
				limit=$left
				continue
			fi
		fi
		break
	done
	echo "$rc $took $limit" >"$VMDIR/$release.rc"
}

if [ "$VM_PARALLEL" = 1 ]; then
	pids=""
	limit=$(guest_timeout 1)
	for series in $VM_KERNELS; do
		boot "$series" "$limit" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
fi

# ---------------------------------------------------------------------------
# Results, read back from each console log.

nleft=$(wc -w <<<"$VM_KERNELS")
for series in $VM_KERNELS; do
	[ "$VM_PARALLEL" = 1 ] || boot "$series" "$(guest_timeout "$nleft")"
	nleft=$((nleft - 1))
	report "$series"
done

echo
echo "$TIER: tier took $(elapsed "$T_START")s"
trap - ERR
echo "$TIER: $TOTAL_PASS passed, $TOTAL_FAIL failed, $TOTAL_SKIP skipped"
[ "$TOTAL_FAIL" = 0 ]
