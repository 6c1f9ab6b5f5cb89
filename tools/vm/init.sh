#!/bin/sh
# shellcheck shell=dash
# /init of the VM test tier's guest: PID 1, busybox sh. Mounts what oomwatch
# expects on a cgroup v2 node, prints the layout, runs the scenarios of
# /vmtest/scenarios.sh one by one under a time bound, then powers off.
#
# Console protocol, read back by tools/vm/test-vm.sh:
#   @@| TEXT                           shown in the host's report
#   --- scenario NAME ...              a scenario starts
#   @@VMTEST NAME PASS
#   @@VMTEST NAME FAIL REASON
#   @@VMTEST NAME SKIP REASON          reported, counted as skipped
#   @@VMCOUNT NAME PASSED FAILED SKIPPED  test cases of a Catch2 binary
#   @@VMSKIP NAME CASE: REASON         a skipped test case of it
#   @@VMDONE                           every scenario has reported
#
# No `set -e`: if PID 1 exits the kernel panics, and a half-run guest is
# reported as a failure without @@VMDONE anyway.

export PATH=/build:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp
# Where test binaries find the build: /build mirrors BUILD_DIR's layout.
export OOMWATCH_BUILD=/build OOMWATCH=/build/oomwatch
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
chmod 1777 /tmp
# cgroup v2 only (the kernel runs with cgroup_no_v1=all), mounted the way
# systemd mounts it on production nodes; plain if the options are refused.
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf -o mode=700 bpffs /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security
# Loopback only (qemu runs with -nic none): the tests read the agent's
# /metrics at 127.0.0.1 to know how many snapshots it has handled.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
# The host's scratch disk (NVMe, empty ext2) on /var/tmp: a disk-backed
# directory for the file strategies, where the initramfs has only tmpfs.
# NVMe probes asynchronously, so its device may appear a moment after /init.
mkdir -p /var/tmp
SCRATCH=""
for _ in $(seq 1 100); do
	[ -b /dev/nvme0n1 ] && break
	sleep 0.1
done
if [ -b /dev/nvme0n1 ]; then
	for fs in ext4 ext2; do
		mount -t "$fs" /dev/nvme0n1 /var/tmp 2>/dev/null && SCRATCH=$fs && break
	done
fi
chmod 1777 /var/tmp
# Children of the root get the memory controller; PID 1 stays in the root
# cgroup (exempt from the no-internal-processes rule), so every scenario's
# own cgroup is "/" and its test cgroups are /sys/fs/cgroup/<name>.
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
# Only emergencies on the console from here on, so kernel messages (OOM
# reports) do not interleave with the markers; a failing scenario prints
# the tail of dmesg instead.
echo 1 >/proc/sys/kernel/printk

info() { echo "@@| $*"; }
info "uname -r: $(uname -r)"
info "/init started at uptime $(cut -d' ' -f1 /proc/uptime)s; $(nproc) CPUs, $(awk '/^MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"
info "cmdline: $(cat /proc/cmdline)"
info "/proc/self/cgroup: $(cat /proc/self/cgroup)"
grep -E 'cgroup|bpf|tracefs|debugfs' /proc/mounts | while read -r _ dir type opts _; do
	info "mount: $type on $dir ($opts)"
done
info "/sys/fs/cgroup/cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
info "/sys/fs/cgroup/cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
if [ -f /sys/kernel/btf/vmlinux ]; then
	info "BTF: /sys/kernel/btf/vmlinux present, $(wc -c </sys/kernel/btf/vmlinux) bytes"
else
	info "BTF: /sys/kernel/btf/vmlinux MISSING"
fi
info "lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null || echo unknown)"
if [ -n "$SCRATCH" ]; then
	info "scratch disk: /dev/nvme0n1 ($SCRATCH, $(df -m /var/tmp | awk 'NR == 2 { print $2 }') MiB) on /var/tmp"
else
	info "scratch disk: MISSING ($(ls /dev/nvme0n1 2>&1)); /var/tmp is tmpfs, file-strategy tests will fail"
fi
info "binaries:" $(cd /build && find . -type f | sed 's|^\./||')

# vmtest.only=a,b on the kernel command line (VM_SCENARIOS on the host)
# restricts the run to those scenarios.
ONLY=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmtest\.only=//p' | tr ',' ' ')
# The host kills the guest after vmtest.timeout seconds (VM_TIMEOUT); each
# scenario's bound is cut to what is left of that, less a margin, so that a
# slow scenario is reported by name and the guest still reaches @@VMDONE.
GUEST_TIMEOUT=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmtest\.timeout=//p')
GUEST_MARGIN=15
VMTEST_TIMEOUT=120

. /vmtest/lib.sh
. /vmtest/scenarios.sh
. /vmtest/runner.sh

# kill_leftovers: what a scenario left behind must not disturb the next one.
# Processes in child cgroups die through cgroup.kill, stray processes in the
# root cgroup by pid (PID 1's only child at this point is none); the
# cgroups are removed deepest first.
kill_leftovers() {
	local d p comm left=""
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		# Kernel threads have no exe; neither do zombies. busybox timeout's
		# watcher outlives the command by up to a second, harmlessly.
		[ "$p" != 1 ] && [ -e "$d/exe" ] || continue
		read -r comm <"$d/comm" 2>/dev/null
		[ "$comm" = timeout ] && continue
		kill -KILL "$p" 2>/dev/null && left="$left pid $p ($comm)"
	done
	for d in $(find /sys/fs/cgroup -mindepth 1 -type d); do
		echo 1 >"$d/cgroup.kill" 2>/dev/null
	done
	for d in $(find /sys/fs/cgroup -mindepth 1 -depth -type d); do
		left="$left cgroup ${d#/sys/fs/cgroup}"
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$d" 2>/dev/null && break
			sleep 0.2
		done
	done
	[ -n "$left" ] && info "warning: $1 left behind (now removed):$left"
}

# vmtest.only may also name scenarios outside SCENARIOS (the benches of
# BENCH_SCENARIOS, which `make bench` runs and the test tier does not).
for name in ${ONLY:-$SCENARIOS}; do
	run_scenario "$name"
done
echo "@@VMDONE"
sync
poweroff -f
# poweroff -f does not return; if it did, exiting PID 1 panics the kernel,
# which (panic=-1, -no-reboot) also ends qemu.
