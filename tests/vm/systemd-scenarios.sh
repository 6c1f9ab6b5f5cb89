# shellcheck shell=dash disable=SC2034  # SCENARIOS, timeout_*: read by the runner
# Scenarios of the systemd guest (tools/vm/systemd-guest.sh): a Debian root
# filesystem with systemd as PID 1 and cgroup v2, oomwatch put in by `make
# install DESTDIR=` and started as the unit it ships
# (deploy/systemd/oomwatch.service), its config managing owtest.slice.
# Same conventions as tests/vm/scenarios.sh (fail, skip, show; helpers in
# tests/vm/lib.sh); each scenario stops the units it started.

SCENARIOS="unit_start slice_rescue kill_restart stop_restores containerd_systemd_driver"
timeout_unit_start=90
timeout_slice_rescue=90
timeout_kill_restart=120
timeout_stop_restores=90
timeout_containerd_systemd_driver=120

METRICS=http://127.0.0.1:9721/metrics
SLICE_CG=/sys/fs/cgroup/owtest.slice
AUDIT=/var/log/oomwatch/audit.jsonl

# ms: milliseconds since boot.
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# agent_up: the managed slice and the agent started (systemctl start returns
# once the agent sent READY=1: Type=notify).
agent_up() {
	systemctl start owtest.slice || fail "systemctl start owtest.slice failed"
	systemctl is-active -q oomwatch && return 0
	systemctl start oomwatch || {
		journalctl -u oomwatch --no-pager | tail -n 20 | show
		fail "systemctl start oomwatch failed"
	}
}

# guarded CGDIR: the agent put its memory.high guard below memory.max.
guarded() { [ "$(cat "$1/memory.high" 2>/dev/null)" != max ] && [ -e "$1/memory.high" ]; }
unguarded() { [ "$(cat "$1/memory.high" 2>/dev/null)" = max ]; }

# holder UNIT: a transient service in owtest.slice holding 16 MiB (64M limit)
# until stopped; waits until the agent has guarded it.
holder() {
	systemd-run --quiet --unit="$1" --slice=owtest.slice -p MemoryMax=64M /vmtest/owalloc --stay 16777216:0:0 ||
		fail "systemd-run --unit=$1 failed"
	wait_for 20 guarded "$SLICE_CG/$1.service" ||
		fail "the agent did not guard $1.service within 20 s (memory.high $(cat "$SLICE_CG/$1.service/memory.high"))"
}

# `systemctl start oomwatch` under the shipped unit: active through
# Type=notify (the agent's "ready" line comes before systemd's "Started"),
# /metrics answers, and the journal has the agent's lines at their
# priorities (the "<N>" prefix parsed by journald, never shown).
scenario_unit_start() {
	local t0 took ready started rc
	systemctl start owtest.slice || fail "systemctl start owtest.slice failed"
	t0=$(ms)
	systemctl start oomwatch || { journalctl -u oomwatch --no-pager | tail -n 20 | show; fail "systemctl start oomwatch failed"; }
	took=$(($(ms) - t0))
	systemctl status oomwatch --no-pager -n 0 | show
	echo "systemctl start oomwatch returned after ${took} ms" | show
	[ "$(systemctl is-active oomwatch)" = active ] || fail "oomwatch is $(systemctl is-active oomwatch) after start"
	[ "$(systemctl show -p Type --value oomwatch)" = notify ] || fail "the unit is not Type=notify"
	# READY=1 came from the agent: its "ready" line is in the journal before
	# systemd's "Started" (a start that timed out would have failed above).
	journalctl -u oomwatch -o cat --no-pager >/tmp/journal.txt
	ready=$(grep -n -m1 '^info ready' /tmp/journal.txt | cut -d: -f1)
	started=$(grep -n -m1 '^Started oomwatch.service' /tmp/journal.txt | cut -d: -f1)
	[ -n "$ready" ] || { show </tmp/journal.txt; fail "no 'ready' line from the agent in the journal"; }
	[ -n "$started" ] && [ "$ready" -lt "$started" ] ||
		{ show </tmp/journal.txt; fail "systemd's Started line is not after the agent's ready line"; }
	curl -sf "$METRICS" >/tmp/metrics.txt || fail "$METRICS did not answer"
	grep -E '^oomwatch_(up|build_info|snapshots_total|cgroups)' /tmp/metrics.txt | head -n 4 | show
	grep -q '^oomwatch_' /tmp/metrics.txt || fail "/metrics has no oomwatch_ series"
	# Priorities: the agent's info lines at 6, nothing at warning or above
	# that is an info line, and no raw "<N>" prefix anywhere.
	journalctl -u oomwatch _COMM=oomwatch -p 6..6 -o cat --no-pager >/tmp/j6.txt
	journalctl -u oomwatch _COMM=oomwatch -p 0..4 -o cat --no-pager >/tmp/j4.txt
	echo "journal: $(wc -l </tmp/j6.txt) lines at priority 6 (info), $(wc -l </tmp/j4.txt) at 4 or above" | show
	head -n 3 /tmp/j6.txt | show
	grep -q '^info ' /tmp/j6.txt || fail "no agent line at priority 6 starts with 'info'"
	! grep -q '^info ' /tmp/j4.txt || fail "an info line is at warning priority or above"
	! grep -q '^<[0-9]>' /tmp/journal.txt || fail "a raw <N> prefix reached the journal"
	# A second agent, refused at the state dir's lock: its one line is an
	# error (priority 3) in its own unit's journal.
	systemd-run --quiet --wait --unit=owsecond /usr/local/bin/oomwatch run --config /etc/oomwatch/oomwatch.toml
	rc=$?
	journalctl -u owsecond -p 3..3 -o cat --no-pager >/tmp/j3.txt
	show </tmp/j3.txt
	systemctl stop oomwatch owtest.slice
	[ "$rc" = 1 ] || fail "a second agent: $(exit_desc "$rc"), expected exit 1 (refused)"
	grep -q '^oomwatch: pid [0-9]* (oomwatch) holds /run/oomwatch/lock' /tmp/j3.txt ||
		fail "the second agent's refusal is not in the journal at error priority"
}

# A rescue under the unit's own sandbox: a service started with systemd-run
# in the managed slice with MemoryMax=32M grows to 64 MiB and must finish
# (exit 0), raised, not killed; the grant is in the audit log.
scenario_slice_rescue() {
	local rc line
	agent_up
	systemd-run --quiet --wait --unit=owgrow --slice=owtest.slice -p MemoryMax=32M -p MemorySwapMax=0 \
		/vmtest/owalloc 67108864:100:0
	rc=$?
	line=$(grep '"oom_cgroup":"/owtest.slice/owgrow.service"' "$AUDIT" | grep -m1 '"result":"applied"')
	echo "${line:-no applied grant in $AUDIT}" | show
	journalctl -u oomwatch -o cat --no-pager | grep -E 'grant|raised|owgrow' | tail -n 3 | show
	systemctl stop oomwatch owtest.slice
	[ "$rc" = 0 ] || fail "owgrow.service (64 MiB in MemoryMax=32M): $(exit_desc "$rc"), expected exit 0 (raised, not killed)"
	[ -n "$line" ] || fail "no applied grant for /owtest.slice/owgrow.service in $AUDIT"
}

# `systemctl kill -s KILL oomwatch` kills the agent and its guardian: the
# unit's ExecStopPost (oomwatch restore) must put the guard back within 1 s,
# and Restart=on-failure bring the agent back, which guards again.
scenario_kill_restart() {
	local cg n0 r0 t0 t1 took
	agent_up
	holder owhold
	cg=$SLICE_CG/owhold.service
	n0=$(systemctl show -p NRestarts --value oomwatch)
	r0=$(journalctl -u oomwatch -o cat --no-pager | grep -c '^restored 1 setting(s)')
	t0=$(ms)
	systemctl kill -s KILL oomwatch || fail "systemctl kill failed"
	t1=$(ms)
	while ! unguarded "$cg" && [ $(($(ms) - t0)) -lt 5000 ]; do sleep 0.01; done
	took=$(($(ms) - t0))
	echo "guard of owhold.service put back ${took} ms after systemctl kill was called, $(($(ms) - t1)) ms after it returned (memory.high $(cat "$cg/memory.high"))" | show
	journalctl -u oomwatch -o short-monotonic --no-pager | tail -n 8 | show
	unguarded "$cg" || fail "owhold.service still guarded 5 s after SIGKILL"
	# Put back by the unit's ExecStopPost (oomwatch restore), before the
	# agent came back. The time it took is shown, not asserted: a TCG guest
	# on a shared machine is no place for a latency bound (make bench).
	[ "$(journalctl -u oomwatch -o cat --no-pager | grep -c '^restored 1 setting(s)')" -gt "$r0" ] ||
		fail "ExecStopPost's oomwatch restore did not put the guard back"
	wait_for 30 sh -c "[ \"\$(systemctl show -p NRestarts --value oomwatch)\" -gt $n0 ] && systemctl is-active -q oomwatch" ||
		fail "Restart=on-failure did not bring the agent back within 30 s ($(systemctl is-active oomwatch))"
	systemctl status oomwatch --no-pager -n 0 | show
	echo "NRestarts=$(systemctl show -p NRestarts --value oomwatch) (before the kill: $n0)" | show
	journalctl -u oomwatch -o cat --no-pager | grep -E 'restore|restored|Main process exited' | tail -n 4 | show
	wait_for 20 guarded "$cg" || fail "the restarted agent did not guard owhold.service again"
	systemctl stop oomwatch owhold.service owtest.slice
}

# `systemctl stop oomwatch`: the agent puts everything back (its stop line),
# ExecStopPost's restore finds nothing left, no pin stays.
scenario_stop_restores() {
	local cg
	agent_up
	holder owkeep
	cg=$SLICE_CG/owkeep.service
	systemctl stop oomwatch || fail "systemctl stop oomwatch failed"
	journalctl -u oomwatch -o cat --no-pager | grep -E 'stopped:|restore' | tail -n 3 | show
	unguarded "$cg" || fail "owkeep.service still guarded after stop (memory.high $(cat "$cg/memory.high"))"
	[ "$(systemctl is-active oomwatch)" = inactive ] || fail "oomwatch is $(systemctl is-active oomwatch) after stop"
	journalctl -u oomwatch -o cat --no-pager | grep -q 'stopped: .*nothing left changed' ||
		fail "no 'stopped: ... nothing left changed' line in the journal"
	[ ! -e /sys/fs/bpf/oomwatch ] || fail "pins left in /sys/fs/bpf/oomwatch: $(ls /sys/fs/bpf/oomwatch)"
	[ "$(cat "$cg/memory.max")" = 67108864 ] || fail "owkeep.service's memory.max changed: $(cat "$cg/memory.max")"
	systemctl stop owkeep.service owtest.slice
}

# containerd and runc with the systemd cgroup driver, as a kubelet configured
# for systemd asks: a container in
# kubepods-burstable-pod<uid>.slice:cri-containerd:<id> (systemd makes the
# slices and the scope) with a 32M limit and its log in the kubelet's
# /var/log/pods/<ns>_<pod>_<uid>/<container>/ tree; its OOM kill is reported
# by the agent running under its unit with namespace, pod and container.
scenario_containerd_systemd_driver() {
	local uid id root log rc line clog ns=owtest
	command -v ctr >/dev/null || skip "ctr is not installed in the guest"
	uid=8e1b7c0a-5d2f-4c3b-9a6e-1f2d3c4b5a69
	id=$(printf 'owvm%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 | sha256sum | cut -c1-64)
	systemctl start containerd || fail "systemctl start containerd failed"
	wait_for 30 test -S /run/containerd/containerd.sock || fail "containerd's socket did not appear"
	agent_up
	root=/var/lib/owctr-rootfs
	rm -rf "$root" && mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/sys" "$root/tmp"
	cp /bin/busybox /vmtest/owalloc "$root/bin/"
	ln -s busybox "$root/bin/sh"
	log=/var/log/pods/shop_web-1_$uid/app
	mkdir -p "$log" /var/log/containers
	ln -sf "$log/0.log" "/var/log/containers/web-1_shop_app-$id.log"
	ctr -n "$ns" run --rootfs --runc-systemd-cgroup \
		--cgroup "kubepods-burstable-pod$(echo "$uid" | tr - _).slice:cri-containerd:$id" \
		--memory-limit 33554432 --env PATH=/bin --log-uri "file://$log/0.log" \
		"$root" "$id" sh -c 'echo started; owalloc 134217728:10:0; echo owalloc=$?' >/tmp/ctr.out 2>&1
	rc=$?
	show </tmp/ctr.out
	clog=$(tr '\n' ' ' <"$log/0.log")
	echo "ctr run: $(exit_desc "$rc"); container log: $clog" | show
	wait_for 30 sh -c "journalctl -u oomwatch -o cat --no-pager | grep -q '\"type\":\"oom_kill\".*$id'" ||
		{ ctr -n "$ns" containers rm "$id"; fail "no oom_kill line for the container in the agent's journal within 30 s"; }
	line=$(journalctl -u oomwatch -o cat --no-pager | grep -m1 "\"type\":\"oom_kill\".*$id")
	echo "$line" | cut -c1-330 | show
	echo "... $(echo "$line" | sed -n 's/.*\("kubernetes":{[^}]*}\).*/\1/p')" | show
	ctr -n "$ns" tasks rm -f "$id" >/dev/null 2>&1
	ctr -n "$ns" containers rm "$id" >/dev/null 2>&1
	systemctl stop oomwatch owtest.slice containerd
	rm -rf "$root" /var/log/pods/shop_web-1_$uid "/var/log/containers/web-1_shop_app-$id.log"
	case $clog in *owalloc=137*) ;; *) fail "the container's log (0.log) does not say owalloc was killed: $clog" ;; esac
	echo "$line" | grep -q '"namespace":"shop","pod":"web-1","container":"app"' ||
		fail "the kill line does not name shop/web-1/app"
	echo "$line" | grep -q "\"cgroup\":\"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo "$uid" | tr - _).slice/cri-containerd-$id.scope\"" ||
		fail "the kill's cgroup is not the systemd driver's scope"
	echo "$line" | grep -q '"qos":"burstable"' || fail "the kill line does not say qos burstable"
}
