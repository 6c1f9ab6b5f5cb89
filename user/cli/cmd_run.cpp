// oomwatch run: the agent. Observe-only: it streams OOM kills as JSON lines
// on stdout and logs to stderr. Sampling, history and rescue plug in here.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace ow::cli {

int stream_events(bool json, const std::vector<std::string>& cgroup_args);

void add_run(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("run", "run the agent (observe-only: streams OOM kills as JSON lines)");
  sub->callback([&action] { action = [] { return stream_events(true, {}); }; });
}

}  // namespace ow::cli
