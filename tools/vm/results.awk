# Reads one guest's console log (\r removed) and prints its part of the
# report, then "PASSED FAILED [UNFINISHED-SCENARIO]" as the last line.
#   @@| TEXT                         shown: before the first scenario as the
#                                    guest's header, later under the result
#                                    of the scenario that printed it
#   --- scenario NAME ...            a scenario starts
#   @@VMTEST NAME PASS | FAIL REASON | SKIP REASON
#   @@VMCOUNT NAME PASSED FAILED     Catch2 test cases, counted instead of
#                                    the scenario's 1
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
marker("@@VMCOUNT ") { cp[f[2]] = f[3] + 0; cf[f[2]] = f[4] + 0; next }
marker("@@VMTEST ") {
	name = f[2]; st = f[3]; reason = ""; running = ""
	for (k = 4; k <= nf; k++) reason = reason (k > 4 ? " " : "") f[k]
	if (st == "SKIP") { printf "  SKIP %s: %s\n", name, reason; flush(); next }
	ok = (st == "PASS")
	p = ok; q = !ok; extra = ""
	if (name in cp) {
		p = cp[name]; q = cf[name]
		# A binary that failed without a failed test case (crash, bad exit
		# code, no test run) still counts one failure.
		if (!ok && q == 0) q = 1
		extra = sprintf(" (test cases: %d passed, %d failed)", cp[name], cf[name])
	}
	printf "  %s %s%s%s\n", (ok ? "PASS" : "FAIL"), name, extra, (reason != "" ? ": " reason : "")
	flush()
	P += p; F += q
}
END { flush(); print P + 0, F + 0, running }
