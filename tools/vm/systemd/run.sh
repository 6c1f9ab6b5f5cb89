#!/bin/sh
# shellcheck shell=dash
# The systemd guest's test runner (tools/vm/systemd-guest.sh): started by
# oomwatch-vmtest.service once the guest is up, with systemd as PID 1. Runs
# the scenarios of /vmtest/systemd-scenarios.sh one by one under a time
# bound with the console protocol of tools/vm/init.sh (@@VMTEST, @@VMDONE
# ...), then powers the guest off.
export PATH=/vmtest:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp

info() { echo "@@| $*"; }
info "uname -r: $(uname -r)"
info "PID 1: $(cat /proc/1/comm), $(systemctl --version | head -n 1)"
info "runner started at uptime $(cut -d' ' -f1 /proc/uptime)s; $(nproc) CPUs, $(awk '/^MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"
info "system state: $(systemctl is-system-running)"
info "cmdline: $(cat /proc/cmdline)"
info "/proc/self/cgroup: $(cat /proc/self/cgroup)"
grep -E 'cgroup|bpf' /proc/mounts | while read -r _ dir type opts _; do
	info "mount: $type on $dir ($opts)"
done
info "oomwatch: $(command -v oomwatch) ($(oomwatch --version 2>&1 | head -n 1))"

ONLY=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmtest\.only=//p' | tr ',' ' ')
GUEST_TIMEOUT=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmtest\.timeout=//p')
GUEST_MARGIN=15
VMTEST_TIMEOUT=120
VMTEST_SCENARIOS=/vmtest/systemd-scenarios.sh

. /vmtest/lib.sh
. "$VMTEST_SCENARIOS"
. /vmtest/runner.sh

# kill_leftovers NAME: the agent and the scenario units a failed scenario
# left running are stopped, so the next scenario starts from a quiet node.
kill_leftovers() {
	local u left=""
	for u in $(systemctl list-units --all --plain --no-legend 'ow*' 'oomwatch.service' | awk '{ print $1 }'); do
		case $u in oomwatch-vmtest.service) continue ;; esac
		systemctl is-active -q "$u" || continue
		systemctl stop "$u" && left="$left $u"
	done
	systemctl reset-failed 2>/dev/null
	[ -n "$left" ] && info "warning: $1 left running (now stopped):$left"
}

for name in ${ONLY:-$SCENARIOS}; do
	run_scenario "$name"
done
echo "@@VMDONE"
sync
systemctl poweroff --no-block || poweroff -f
