# Reads one guest's console log (\r removed) and prints its part of the
# report, then "PASSED FAILED SKIPPED [UNFINISHED-SCENARIO]" as the last line.
# A skipped scenario or test case is listed as "  SKIP NAME: REASON".
#   @@| TEXT                         shown: before the first scenario as the
#                                    guest's header, later under the result
#                                    of the scenario that printed it
#   --- scenario NAME ...            a scenario starts
#   @@VMTEST NAME PASS | FAIL REASON | SKIP REASON
#   @@VMCOUNT NAME PASSED FAILED [SKIPPED]  Catch2 test cases, counted
#                                    instead of the scenario's 1
#   @@VMSKIP NAME CASE: REASON       a skipped Catch2 test case
# Markers are searched anywhere in a line: a kernel message may have been
# printed on the same line before them.
function marker(tag,   i) {
	i = index($0, tag)
	if (!i) return 0
	nf = split(substr($0, i), f, " ")
	return 1
}
function flush(   k) {
	for (k = 1; k <= nbuf; k++) print "      " buf[k]
	nbuf = 0
}
/^--- scenario / { running = $3; started = 1; next }
marker("@@| ") {
	text = substr($0, index($0, "@@| ") + 4)
	if (!started) print "  " text
	else buf[++nbuf] = text
	next
}
marker("@@VMCOUNT ") { cp[f[2]] = f[3] + 0; cf[f[2]] = f[4] + 0; cs[f[2]] = f[5] + 0; next }
marker("@@VMSKIP ") {
	text = substr($0, index($0, "@@VMSKIP ") + 9)
	sub(/ /, "/", text)
	skips[++nskips] = "  SKIP " text
	next
}
marker("@@VMTEST ") {
	name = f[2]; st = f[3]; reason = ""; running = ""
	for (k = 4; k <= nf; k++) reason = reason (k > 4 ? " " : "") f[k]
	if (st == "SKIP") { printf "  SKIP %s: %s\n", name, reason; flush(); S++; next }
	ok = (st == "PASS")
	p = ok; q = !ok; extra = ""
	if (name in cp) {
		p = cp[name]; q = cf[name]
		# A binary that failed without a failed test case (crash, bad exit
		# code, no test run) still counts one failure.
		if (!ok && q == 0) q = 1
		extra = sprintf(" (test cases: %d passed, %d failed, %d skipped)", cp[name], cf[name], cs[name])
		S += cs[name]
	}
	printf "  %s %s%s%s\n", (ok ? "PASS" : "FAIL"), name, extra, (reason != "" ? ": " reason : "")
	flush()
	for (k = 1; k <= nskips; k++) print skips[k]
	nskips = 0
	P += p; F += q
}
END { flush(); print P + 0, F + 0, S + 0, running }
