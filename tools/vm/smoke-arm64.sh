#!/usr/bin/env bash
# Boot the cross-built arm64 oomwatch (make ARCH=arm64) in a qemu-system-aarch64
# guest (TCG) on Debian's 6.12 (or 6.1) cloud-arm64 kernel and run a few of the VM
# tier's scenarios there: not a test tier (nothing calls it), a smoke check
# that the binary runs and its BPF programs load on an arm64 kernel.
#
#   tools/vm/smoke-arm64.sh [BUILD_DIR]        (default build-arm64)
#
# The guest is the VM tier's (tools/vm/init.sh, tests/vm/lib.sh,
# tests/vm/scenarios.sh, cgroup v2 only, an NVMe scratch disk), with
# busybox-static:arm64 as its userland and one extra scenario, arm64_smoke
# (uname -m, `oomwatch --version`, the BTF's sha256, `oomwatch check`).
# Kernel and busybox come with `apt-get download` + `dpkg -x` (arm64 must
# be a dpkg architecture: tools/install-cross-deps.sh arm64), cached in
# BUILD_DIR/vm/cache.
#
# Environment: SMOKE_KERNEL=6.12|6.1 (Debian's cloud-arm64 series),
# SMOKE_SCENARIOS (default below), SMOKE_TIMEOUT=300 (seconds), VM_REFRESH=1
# (fetch the kernel and busybox again).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$REPO/build-arm64}" && pwd)
VMDIR=$BUILD/vm
CACHE=$VMDIR/cache
SMOKE_SCENARIOS=${SMOKE_SCENARIOS:-arm64_smoke oomwatch_check cgroup_v2_oom_kill oomwatch_exec_exit_code oomwatch_exec_oom_kill oomwatch_trace}
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-300}
SMOKE_KERNEL=${SMOKE_KERNEL:-6.12}
case $SMOKE_KERNEL in
6.12) kernel_regex='^linux-image-6\.12\.[0-9]+\+deb12-cloud-arm64(-unsigned)?$' ;;
6.1) kernel_regex='^linux-image-6\.1\.0-[0-9]+-cloud-arm64(-unsigned)?$' ;;
*) echo "SMOKE_KERNEL=$SMOKE_KERNEL: known are 6.12 and 6.1" >&2; exit 2 ;;
esac
mkdir -p "$CACHE"

file -L "$BUILD/oomwatch" | grep -q 'ARM aarch64.*statically linked' ||
	{ echo "$BUILD/oomwatch is not a static aarch64 executable (make ARCH=arm64)" >&2; exit 1; }
if ! command -v qemu-system-aarch64 >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "qemu-system-aarch64 missing: apt-get install qemu-system-arm" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-system-arm >"$VMDIR/apt.log" 2>&1 ||
		{ tail -n 20 "$VMDIR/apt.log" >&2; exit 1; }
fi

# fetch NAME REGEX FILE: the newest package of apt's lists matching REGEX
# (signed or -unsigned twin); of it only FILE (a glob) is kept, as
# $CACHE/NAME/file (the whole tree under BUILD_DIR would put its *.d
# directories into the Makefile's dependency-file search).
fetch() {
	local name=$1 regex=$2 want=$3 pkg dl
	[ "${VM_REFRESH:-0}" != 1 ] && [ -f "$CACHE/$name/package" ] && return 0
	pkg=$(apt-cache search --names-only "$regex" | awk '{ print $1 }' | sed 's/-unsigned$//' | sort -uV | tail -n 1)
	[ -n "$pkg" ] || { echo "apt knows no package matching $regex (is arm64 a dpkg architecture?)" >&2; exit 1; }
	dl=$CACHE/$name.download
	rm -rf "$dl" "${CACHE:?}/$name" && mkdir -p "$dl"
	(cd "$dl" && { apt-get download -q -o APT::Sandbox::User="$(id -un)" "$pkg:arm64" ||
		apt-get download -q -o APT::Sandbox::User="$(id -un)" "$pkg-unsigned:arm64"; }) >"$dl/apt.log" 2>&1 ||
		{ cat "$dl/apt.log" >&2; exit 1; }
	mkdir -p "$CACHE/$name"
	dpkg -x "$dl"/*.deb "$dl/root"
	# shellcheck disable=SC2086  # $want is a glob
	mv $dl/root/$want "$CACHE/$name/file"
	echo "$(dpkg-deb -f "$dl"/*.deb Package) $(dpkg-deb -f "$dl"/*.deb Version)" >"$CACHE/$name/package"
	rm -rf "$dl"
	echo "smoke: fetched $(cat "$CACHE/$name/package")" >&2
}
fetch "kernel-$SMOKE_KERNEL" "$kernel_regex" 'boot/vmlinuz-*'
fetch busybox '^busybox-static$' bin/busybox
KERNEL=$CACHE/kernel-$SMOKE_KERNEL/file
BUSYBOX=$CACHE/busybox/file
file -L "$BUSYBOX" | grep -q 'ARM aarch64.*statically linked' || { echo "$BUSYBOX: not a static aarch64 busybox" >&2; exit 1; }

# Initramfs: the VM tier's layout. The applet links come from the host's
# busybox-static when it is the same version (its applet list cannot be
# asked of an arm64 binary here); otherwise /init makes them at boot.
STAGE=$VMDIR/initramfs-arm64
INITRD=$VMDIR/initrd-arm64.gz
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,build,vmtest}
cp "$BUSYBOX" "$STAGE/bin/busybox"
ln -s busybox "$STAGE/bin/sh"
host_bb=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || true)
if [ "$host_bb" = "$(cut -d' ' -f2 "$CACHE/busybox/package")" ]; then
	for applet in $(/bin/busybox --list-full); do
		case $applet in bin/busybox | linuxrc | */init) continue ;; esac
		[ -e "$STAGE/$applet" ] || ln -s /bin/busybox "$STAGE/$applet"
	done
	install -m 755 "$REPO/tools/vm/init.sh" "$STAGE/init"
else
	{ echo '#!/bin/sh'; echo '/bin/busybox --install -s'; echo 'exec /bin/sh /init.sh "$@"'; } >"$STAGE/init"
	chmod 755 "$STAGE/init"
	install -m 755 "$REPO/tools/vm/init.sh" "$STAGE/init.sh"
fi
echo 'root:x:0:0:root:/root:/bin/sh' >"$STAGE/etc/passwd"
echo 'root:x:0:' >"$STAGE/etc/group"
install -m 644 "$REPO/tests/vm/lib.sh" "$STAGE/vmtest/"
{
	cat "$REPO/tests/vm/scenarios.sh"
	cat <<'EOF'

# tools/vm/smoke-arm64.sh: what the arm64 build is, on the arm64 kernel.
scenario_arm64_smoke() {
	local rc
	echo "uname -m: $(uname -m)" | show
	echo "BTF sha256: $(sha256sum /sys/kernel/btf/vmlinux | cut -d' ' -f1)" | show
	oomwatch --version 2>&1 | show
	oomwatch check >/tmp/check.txt 2>&1
	rc=$?
	show </tmp/check.txt
	echo "oomwatch check: exit $rc" | show
	case $rc in 0 | 1) return 0 ;; esac
	fail "oomwatch check: $(exit_desc "$rc")"
}
EOF
} >"$STAGE/vmtest/scenarios.sh"
aarch64-linux-gnu-strip --strip-debug -o "$STAGE/build/oomwatch" "$BUILD/oomwatch" 2>/dev/null ||
	cp "$BUILD/oomwatch" "$STAGE/build/oomwatch"
chmod 755 "$STAGE/build/oomwatch"
(cd "$STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$INITRD"
rm -rf "$STAGE"

release=$(cut -d' ' -f1 "$CACHE/kernel-$SMOKE_KERNEL/package" | sed 's/^linux-image-//')
LOG=$VMDIR/$release.log
IMG=$VMDIR/scratch-arm64.img
rm -f "$IMG" && truncate -s 1G "$IMG"
/bin/busybox mke2fs -F -m 0 -L owscratch "$IMG" >/dev/null 2>&1
echo "smoke: booting $(cat "$CACHE/kernel-$SMOKE_KERNEL/package") with $(cat "$CACHE/busybox/package") (console: $LOG)"
t0=$(date +%s)
rc=0
# -cpu max with QEMU's cheap pointer-authentication algorithm (the
# architected one is slow under TCG).
timeout -k 10 "$SMOKE_TIMEOUT" qemu-system-aarch64 \
	-M virt -cpu max,pauth-impdef=on -accel tcg,thread=multi -m 1024 -smp 2 \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyAMA0 panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 vmtest.timeout=$SMOKE_TIMEOUT vmtest.only=$(echo "$SMOKE_SCENARIOS" | tr -s ' ' ,)" \
	-drive "file=$IMG,if=none,id=scratch,format=raw,cache=unsafe" -device nvme,drive=scratch,serial=owscratch \
	-nographic -no-reboot -nic none </dev/null >"$LOG" 2>&1 || rc=$?
rm -f "$IMG"
echo "smoke: guest ran $(($(date +%s) - t0))s (qemu exit $rc)"
tr -d '\r' <"$LOG" >"$LOG.clean"
awk -f "$REPO/tools/vm/results.awk" "$LOG.clean" | sed '$d'
grep -q '@@VMDONE' "$LOG.clean" || { echo "smoke: FAIL: no @@VMDONE; last console lines:"; tail -n 30 "$LOG.clean"; exit 1; }
! grep -q '^@@VMTEST .* FAIL' "$LOG.clean"
