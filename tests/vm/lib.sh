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

# skip REASON: end the scenario as skipped (reported and counted as skipped).
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

# wait_for SECONDS CMD [ARG]...: run CMD every 0.1 s until it succeeds
# (return 0) or SECONDS have passed (return 1). For conditions the guest
# must reach, never as a delay.
wait_for() {
	local end=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	until "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# exit_desc STATUS: "exit status N" or "killed by signal N".
exit_desc() {
	if [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128))"; else echo "exit status $1"; fi
}

# catch2_failures FILE [names]: from a Catch2 console-reporter output (colour
# codes removed), the test cases that failed: each one's name and section,
# its source line, and its failed assertions with their expansions and
# messages (no passed assertions, no warnings of passing test cases). Cut to
# 30 lines per test case and 150 in all, after which only the names follow,
# so that one runaway message cannot bury the report; the whole output stays
# in the console log. With "names": only the names, one a line (a name
# Catch2 wrapped is joined again).
catch2_failures() {
	awk -v names_only="${2:-}" '
	function flush(   k, n, cut) {
		if (nb && failed) {
			if (names_only == "names") {
				if (!(name in seen)) print name
				seen[name] = 1
			} else if (total >= 150) {
				if (!(name in seen)) { if (!more++) print "also failed (details in the console log):"; print "  " name }
				seen[name] = 1
			} else {
				n = 0
				for (k = 1; k <= nb && n < 30 && total < 150; k++) { print b[k]; n++; total++ }
				if (k <= nb) { cut = 0; for (; k <= nb; k++) cut++; print "  [... " cut " more lines of this test case in the console log]" }
				seen[name] = 1
			}
		}
		nb = 0; failed = 0; keep = 0
	}
	# (No regex intervals: not every awk has them.)
	length($0) == 79 && /^-+$/ {
		# A dashes line opens a header (name, sections) and closes it again.
		if (!inhdr) { flush(); inhdr = 1; hl = 0; insec = 0; name = ""; b[++nb] = "test case:"; next }
		inhdr = 0; next
	}
	length($0) == 79 && /^=+$/ { flush(); stop = 1; next }
	stop { next }
	inhdr {
		b[++nb] = "  " $0
		# Line 1 is the name; lines indented by exactly 2 are sections; any
		# other line before the first section continues a wrapped name.
		if (++hl == 1) name = $0
		else if ($0 ~ /^  [^ ]/) insec = 1
		else if (!insec) { sub(/^ +/, ""); name = name " " $0 }
		next
	}
	length($0) == 79 && /^\.+$/ { next }
	/^[0-9]+\.[0-9]+ s: / { next }  # -d yes
	nb == 0 { next }
	# An assertion starts with "file:line: FAILED:" (or "passed:" with -s,
	# "warning:", "info:"); only failed ones and what follows them are kept.
	/^[^ ].*:[0-9]+: [A-Za-z ]+:$/ || /^[^ ].*:[0-9]+: FAILED:$/ { keep = ($0 ~ /FAILED:$/); if (keep) failed = 1 }
	/^FAILED:$/ { keep = 1; failed = 1 }
	nb <= 3 && !keep && $0 ~ /^[^ ].*:[0-9]+$/ { b[++nb] = $0; next }  # where the test case is
	keep {
		if ($0 == "" && b[nb] == "") next
		b[++nb] = $0
	}
	END { flush() }
	' "$1"
}

# catch2_failed_names FILE: names of the failed test cases, one a line.
catch2_failed_names() { catch2_failures "$1" names; }

# run_catch2 NAME BINARY [ARG]...: run a Catch2 (2.13) test binary from /build
# and report its test-case counts (written to $VMTEST_RESULT/count, which
# counts instead of the scenario's 1). Fails if a test case failed, the
# binary crashed, or it printed no Catch2 summary line.
run_catch2() {
	local name=$1 bin=$2 out rc summary total passed failed skipped counts budget t0 elapsed
	shift 2
	out=/tmp/$name.out
	say "running $bin${*:+ $*}"
	# The scenario's shell is SIGKILLed at VMTEST_DEADLINE; the binary gets
	# SIGTERM a little earlier, which Catch2 reports as a failure of the test
	# case that was running (then its summary line), so a slow or stuck test
	# case is named in the report. Durations (-d yes) go to the console log.
	budget="" t0=$(cut -d. -f1 /proc/uptime)
	if [ -n "${VMTEST_DEADLINE:-}" ]; then
		budget=$((VMTEST_DEADLINE - $(cut -d. -f1 /proc/uptime) - 8))
		[ "$budget" -ge 1 ] || budget=1
	fi
	# Through a pipe, Catch2 does not colour its output.
	{
		(cd /build && ${budget:+timeout -s TERM "$budget"} "$bin" -d yes "$@")
		echo $? >"$out.rc"
	} 2>&1 | tee "$out"
	rc=$(cat "$out.rc")
	elapsed=$(($(cut -d. -f1 /proc/uptime) - t0))
	tr -d '\033' <"$out" | sed 's/\[[0-9;]*m//g' >"$out.plain"
	summary=$(grep -E '^(All tests passed|test cases:|No tests ran)' "$out.plain" | tail -n 1)
	passed=0 failed=0 skipped=0
	# The runner's own count line (tests/common/main.cpp) separates skipped
	# test cases from passed ones; Catch2's summary counts them as passed.
	counts=$(grep -E '^ow-tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$out.plain" | tail -n 1)
	if [ -n "$counts" ]; then
		set -- $(echo "$counts" | sed -E 's/^ow-tests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/')
		passed=$1 failed=$2 skipped=$3
		grep -E '^ow-skip: ' "$out.plain" | sed "s/^ow-skip: /@@VMSKIP $name /"
	else case $summary in
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
	esac; fi
	echo "${passed:-0} $failed $skipped" >"$VMTEST_RESULT/count"
	echo "$bin: ${summary:-no summary line} ($(exit_desc "$rc"))" | show
	# What failed, in the host's report (CI shows only that): each failed
	# test case with its assertions; after a crash, the output's last lines.
	catch2_failures "$out.plain" >"$out.failures"
	show <"$out.failures"
	# Nothing to show although it failed (a crash Catch2 could not report, no
	# summary line): the last lines of its output instead.
	if [ ! -s "$out.failures" ] && { [ "$rc" != 0 ] || [ -z "$summary" ]; }; then
		echo "last lines of $bin's output:" | show
		tail -n 15 "$out.plain" | sed 's/^/  /' | show
	fi
	if [ "$rc" = 143 ] && [ -n "$budget" ] && [ "$elapsed" -ge "$budget" ]; then
		fail "$bin stopped at the scenario's time bound (SIGTERM after ${elapsed}s) in: $(catch2_failed_names "$out.plain" | tail -n 1)"
	fi
	[ "$rc" -gt 128 ] && fail "$bin $(exit_desc "$rc")${summary:+ ($summary)}"
	[ -n "$summary" ] || fail "$bin printed no Catch2 summary line ($(exit_desc "$rc"))"
	case $summary in "No tests ran"*) fail "$bin ran no test" ;; esac
	[ "$failed" = 0 ] || fail "$failed test case(s) failed: $(catch2_failed_names "$out.plain" | head -n 5 | awk '{ printf "%s%s", (NR > 1 ? "; " : ""), $0 }')"
	[ "$rc" = 0 ] || fail "$bin $(exit_desc "$rc") although no test case failed"
	return 0
}
