# shellcheck shell=dash
# Helpers for tests/vm/scenarios.sh: busybox sh, sourced in the guest (see
# tools/vm/init.sh) by the shell that runs one scenario. VMTEST_RESULT is
# that scenario's result directory.

# fail REASON: end the scenario as failed; REASON is its report line.
fail() {
	echo "$*" >"$VMTEST_RESULT/reason"
	echo "  FAIL: $*"
	exit 1
}

# skip REASON: end the scenario as skipped (reported, not counted).
skip() {
	echo "$*" >"$VMTEST_RESULT/reason"
	exit 77
}

# say TEXT: progress on the console (the log only).
say() { echo "  $*"; }

# show: copy stdin to the host's report, indented under the kernel.
show() { sed 's/^/@@|   /'; }

# own_cgroup: cgroupfs directory of the calling process's cgroup (v2), the
# place where a test creates its child cgroups. "/sys/fs/cgroup" in the guest.
own_cgroup() {
	echo "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)" | sed 's|/$||'
}

# memory_event CGDIR KEY: a counter of CGDIR/memory.events (oom, oom_kill, ...).
memory_event() {
	awk -v k="$2" '$1 == k { print $2 }' "$1/memory.events"
}

# in_cgroup CGDIR CMD [ARG]...: run CMD as a member of CGDIR; returns its status.
in_cgroup() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$@"
}

# The memory hog: busybox tail keeps the current line in memory, and
# /dev/zero has no newline, so its (charged, anonymous) memory grows until
# something stops it. Hundreds of MiB per second even under TCG.
HOG="tail /dev/zero"

# exit_desc STATUS: "exit status N" or "killed by signal N".
exit_desc() {
	if [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128))"; else echo "exit status $1"; fi
}

# run_catch2 NAME BINARY [ARG]...: run a Catch2 (2.13) test binary from /build
# and report its test-case counts (written to $VMTEST_RESULT/count, which
# counts instead of the scenario's 1). Fails if a test case failed, the
# binary crashed, or it printed no Catch2 summary line.
run_catch2() {
	local name=$1 bin=$2 out rc summary total passed failed
	shift 2
	out=/tmp/$name.out
	say "running $bin${*:+ $*}"
	# Through a pipe, Catch2 does not colour its output.
	{
		(cd /build && "$bin" "$@")
		echo $? >"$out.rc"
	} 2>&1 | tee "$out"
	rc=$(cat "$out.rc")
	summary=$(tr -d '\033' <"$out" | sed 's/\[[0-9;]*m//g' |
		grep -E '^(All tests passed|test cases:|No tests ran)' | tail -n 1)
	passed=0 failed=0
	case $summary in
	"All tests passed"*)
		# All tests passed (12 assertions in 3 test cases)
		passed=$(echo "$summary" | sed -nE 's/.* in ([0-9]+) test cases?\).*/\1/p')
		;;
	"test cases:"*)
		# test cases: 5 | 3 passed | 2 failed [| 1 failed as expected]
		total=$(echo "$summary" | sed -nE 's/^test cases: *([0-9]+).*/\1/p')
		failed=$(echo "$summary" | sed -nE 's/.*\| *([0-9]+) failed( \|.*)?$/\1/p')
		failed=${failed:-0}
		passed=$((${total:-0} - failed))
		;;
	esac
	echo "${passed:-0} $failed" >"$VMTEST_RESULT/count"
	echo "$bin: ${summary:-no summary line} ($(exit_desc "$rc"))" | show
	[ "$rc" -gt 128 ] && fail "$bin $(exit_desc "$rc")"
	[ -n "$summary" ] || fail "$bin printed no Catch2 summary line ($(exit_desc "$rc"))"
	case $summary in "No tests ran"*) fail "$bin ran no test" ;; esac
	[ "$failed" = 0 ] || fail "$failed test case(s) failed"
	[ "$rc" = 0 ] || fail "$bin $(exit_desc "$rc") although no test case failed"
	return 0
}
