// Fault injection for the tests that kill the agent in the middle of a plan.
// OOMWATCH_FAULT=<point> makes the process SIGKILL itself when it reaches
// that point (read once, at the first call). Points, in the order a plan
// passes them: "plan_audited" (pending audit line written), "intent_written",
// "limit_written" (after the first limit write), "plan_written" (after the
// last limit write, before the intent is cleared). Unset: a no-op.
#pragma once

namespace ow {

void fault_point(const char* name);

}  // namespace ow
