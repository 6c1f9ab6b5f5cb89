// The agent protects itself the way earlyoom and systemd-oomd do, so it is
// never the victim of the kills it is there to prevent: oom_score_adj -1000
// (the OOM killer never picks it) and mlockall (its pages are never
// reclaimed, so it does not stall in reclaim while a cgroup waits for it).
// SIGPIPE is ignored: a closed stdout (`oomwatch run | head`) makes writes
// fail with EPIPE instead of killing the agent. Each step that fails is
// returned as a warning, not an error: the agent still runs.
#pragma once
#include <string>
#include <vector>

namespace ow::failsafe {

std::vector<std::string> protect_self();

// malloc set for a long-running process with a few threads (one arena);
// protect_self() calls it. Before any thread.
void compact_heap();

}  // namespace ow::failsafe
