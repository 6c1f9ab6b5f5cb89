#!/usr/bin/env bash
# The systemd guest: a Debian root filesystem with systemd as PID 1 and cgroup
# v2 only, built from Debian's packages by mmdebstrap (cached: a second run
# downloads nothing), oomwatch put in with `make install DESTDIR=` as an
# operator would, booted under qemu on Debian's 6.12 cloud kernel; runs
# tests/vm/systemd-scenarios.sh there and reads the results back from the
# serial console (the VM tier's protocol, tools/vm/init.sh).
#
#   tools/vm/systemd-guest.sh BUILD_DIR
#
# BUILD_DIR/oomwatch and BUILD_DIR/tests/owalloc are required.
# Environment: SYSTEMD_TIMEOUT=300 (seconds the guest may run),
# SYSTEMD_SCENARIOS="a b" (only these), SYSTEMD_REFRESH=1 (build the root
# filesystem again), VM_CACHE (kernels and the root filesystem; default
# BUILD_DIR/vm/cache, shared with the VM tier).
# Last line: "systemd: N passed, N failed, N skipped"; exit 0 when nothing
# failed, 77 when it cannot run here (not root, no mmdebstrap and no apt).
set -eEuo pipefail
TIER=systemd
REPO=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tools/vm/host-lib.sh
. "$REPO/tools/vm/host-lib.sh"
[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
BUILD=$(cd "$1" && pwd)
VMDIR=$BUILD/vm-systemd
CACHE=${VM_CACHE:-$BUILD/vm/cache}
SERIES=6.12
KERNEL_FLAVOUR=cloud-amd64 APT_ARCH=""
VM_TIMEOUT=${SYSTEMD_TIMEOUT:-300}
VM_TIER_TIMEOUT=$VM_TIMEOUT
mkdir -p "$VMDIR" "$CACHE"
T_START=$(now)

[ "$(id -u)" = 0 ] || { echo "$TIER: SKIP: needs root (mmdebstrap, the image's owners)"; exit 77; }
for tool in mmdebstrap:mmdebstrap qemu-system-x86_64:qemu-system-x86 mke2fs:e2fsprogs; do
	command -v "${tool%%:*}" >/dev/null || apt_install "${tool#*:}" ||
		{ echo "$TIER: SKIP: ${tool%%:*} is missing and apt-get install ${tool#*:} failed"; exit 77; }
done
for bin in oomwatch tests/owalloc; do
	[ -x "$BUILD/$bin" ] || die "$BUILD/$bin is missing (make BUILD=$1 tests)"
done

# --- the root filesystem, cached ---------------------------------------------
# minbase + systemd as init; curl for /metrics; containerd, runc and a
# static busybox (the containers' userland) for the systemd driver's case. The tarball is kept with the
# list it was made from: another list (or SYSTEMD_REFRESH=1) makes it again.
ROOTFS_PKGS="systemd,systemd-sysv,dbus,curl,ca-certificates,procps,kmod,containerd,runc,busybox-static"
TARBALL=$CACHE/systemd-rootfs.tar
if [ "${SYSTEMD_REFRESH:-0}" = 1 ] || [ ! -s "$TARBALL" ] || [ "$(cat "$TARBALL.pkgs" 2>/dev/null)" != "$ROOTFS_PKGS" ]; then
	t=$(now)
	rm -rf "$TARBALL" "$TARBALL.pkgs" "$CACHE/systemd-rootfs.new.tar"
	# (mmdebstrap picks its output format from the name's extension)
	timeout 600 mmdebstrap --variant=minbase --include="$ROOTFS_PKGS" bookworm "$CACHE/systemd-rootfs.new.tar" \
		>"$VMDIR/mmdebstrap.log" 2>&1 || die "mmdebstrap failed; its last lines:
$(tail -n 20 "$VMDIR/mmdebstrap.log")"
	mv "$CACHE/systemd-rootfs.new.tar" "$TARBALL"
	echo "$ROOTFS_PKGS" >"$TARBALL.pkgs"
	echo "$TIER: built the Debian root filesystem ($(du -h "$TARBALL" | cut -f1), $ROOTFS_PKGS) in $(elapsed "$t")s"
fi
if [ ! -s "$CACHE/$SERIES/vmlinuz" ]; then
	fetch_kernel "$SERIES"
fi

# --- the image: the root filesystem, `make install`, the test runner ----------
t=$(now)
ROOT=$VMDIR/root
IMG=$VMDIR/root.img
rm -rf "$ROOT" "$IMG"
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$TARBALL"
make -s --no-print-directory -C "$REPO" BUILD="$BUILD" install DESTDIR="$ROOT" >"$VMDIR/install.log" 2>&1 ||
	die "make install DESTDIR=$ROOT failed: $(tail -n 5 "$VMDIR/install.log")"
# The operator's settings: enforcement on, the test slice managed.
conf=$ROOT/etc/oomwatch/oomwatch.toml
sed -i -e 's|^enforce = .*|enforce = true|' -e 's|^manage = .*|manage = ["/owtest.slice"]|' \
	-e 's|^donor_min_history = .*|donor_min_history = "2s"|' "$conf"
grep -q '^manage = \["/owtest.slice"\]' "$conf" || die "could not set manage in $conf"
# Not enabled at boot: the scenarios start it themselves.
mkdir -p "$ROOT/vmtest"
install -m 755 "$REPO/tools/vm/systemd/run.sh" "$BUILD/tests/owalloc" "$ROOT/vmtest/"
install -m 644 "$REPO/tests/vm/lib.sh" "$REPO/tests/vm/runner.sh" "$REPO/tests/vm/systemd-scenarios.sh" "$ROOT/vmtest/"
install -m 644 "$REPO/tools/vm/systemd/oomwatch-vmtest.service" "$ROOT/etc/systemd/system/"
ln -sf /etc/systemd/system/oomwatch-vmtest.service "$ROOT/etc/systemd/system/multi-user.target.wants/oomwatch-vmtest.service"
# The console is the runner's: no login prompt on it.
ln -sf /dev/null "$ROOT/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$ROOT/etc/systemd/system/getty@tty1.service"
echo owvm >"$ROOT/etc/hostname"
size=$(($(du -sm "$ROOT" | cut -f1) + 512))
mke2fs -q -t ext4 -d "$ROOT" -L owroot -F "$IMG" "${size}M" >"$VMDIR/mke2fs.log" 2>&1 ||
	die "mke2fs -d $ROOT failed: $(cat "$VMDIR/mke2fs.log")"
rm -rf "$ROOT"
echo "$TIER: image ${size} MiB (Debian bookworm, systemd, oomwatch by make install) built in $(elapsed "$t")s"

# --- boot ----------------------------------------------------------------------
release=$(cat "$CACHE/$SERIES/release")
log=$VMDIR/$release.log
APPEND="root=/dev/nvme0n1 rw rootwait console=ttyS0 panic=-1 systemd.unified_cgroup_hierarchy=1"
APPEND="$APPEND systemd.show_status=0 loglevel=1 vmtest.timeout=$VM_TIMEOUT"
[ -n "${SYSTEMD_SCENARIOS:-}" ] && APPEND="$APPEND vmtest.only=$(echo "$SYSTEMD_SCENARIOS" | tr -s ' ' ,)"
t0=$(now)
rc=0
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -m 1024 -smp 2 \
	-kernel "$CACHE/$SERIES/vmlinuz" -append "$APPEND" \
	-drive "file=$IMG,if=none,id=root,format=raw,cache=unsafe" -device nvme,drive=root,serial=owroot \
	-nographic -no-reboot -nic none </dev/null >"$log" 2>&1 || rc=$?
echo "$rc $(elapsed "$t0") $VM_TIMEOUT" >"$VMDIR/$release.rc"
rm -f "$IMG"
report "$SERIES"
echo
echo "$TIER: tier took $(elapsed "$T_START")s"
trap - ERR
echo "$TIER: $TOTAL_PASS passed, $TOTAL_FAIL failed, $TOTAL_SKIP skipped"
[ "$TOTAL_FAIL" = 0 ]
