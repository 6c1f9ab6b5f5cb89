# shellcheck shell=dash
# run_scenario, shared by the VM guests' runners: the busybox /init
# (tools/vm/init.sh) and the systemd guest's service (tools/vm/systemd/run.sh).
# The caller sets GUEST_TIMEOUT, GUEST_MARGIN, VMTEST_TIMEOUT and
# VMTEST_SCENARIOS (the scenario file, default /vmtest/scenarios.sh), and
# defines kill_leftovers NAME (what a scenario left behind must not disturb
# the next one) and info TEXT.
VMTEST_SCENARIOS=${VMTEST_SCENARIOS:-/vmtest/scenarios.sh}

# run_scenario NAME: run scenario_NAME in its own shell under a time bound
# (timeout_NAME seconds if the scenario sets it, else VMTEST_TIMEOUT).
run_scenario() {
	local name=$1 limit left capped="" res start rc reason timed_out
	eval "limit=\${timeout_$name:-$VMTEST_TIMEOUT}"
	if [ -n "$GUEST_TIMEOUT" ]; then
		left=$((GUEST_TIMEOUT - GUEST_MARGIN - $(cut -d. -f1 /proc/uptime)))
		[ "$left" -lt "$limit" ] && limit=$left capped=" (all that VM_TIMEOUT=${GUEST_TIMEOUT}s left)"
	fi
	echo "--- scenario $name (time bound ${limit}s$capped)"
	if [ "$limit" -le 0 ]; then
		echo "@@VMTEST $name FAIL not run: VM_TIMEOUT=${GUEST_TIMEOUT}s is used up"
		return
	fi
	res=/tmp/vmtest/$name
	rm -rf "$res" && mkdir -p "$res"
	start=$(date +%s)
	# VMTEST_DEADLINE (uptime seconds) lets a scenario stop its own long
	# runner in time to report what it was doing (see run_catch2).
	VMTEST_RESULT=$res VMTEST_DEADLINE=$(($(cut -d. -f1 /proc/uptime) + limit)) timeout -s KILL "$limit" \
		sh -uc '. /vmtest/lib.sh; . "$2"; "scenario_$1"' "vmtest-$name" "$name" "$VMTEST_SCENARIOS" </dev/null
	rc=$?
	[ $(($(date +%s) - start)) -ge "$limit" ] && timed_out=1 || timed_out=0
	# Before the marker, so that its warning is reported with this scenario.
	kill_leftovers "$name"
	reason=$(head -n 1 "$res/reason" 2>/dev/null)
	[ -f "$res/count" ] && echo "@@VMCOUNT $name $(cat "$res/count")"
	case $rc in
	0) echo "@@VMTEST $name PASS" ;;
	77) echo "@@VMTEST $name SKIP ${reason:-skipped}" ;;
	*)
		[ "$timed_out" = 1 ] && reason="timed out after ${limit}s$capped${reason:+ ($reason)}"
		echo "@@VMTEST $name FAIL ${reason:-exit status $rc}"
		echo "--- last kernel messages:"
		dmesg | tail -n 25
		;;
	esac
}

