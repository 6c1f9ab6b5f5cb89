// The subcommands: add_commands puts every one on the app (the list, with the
// line --help shows for each, is in commands.cpp). One function per
// subcommand registers its flags on `sub` and, when the subcommand is chosen,
// stores the function to run in `action`.
#pragma once
#include <functional>

namespace CLI {
class App;
}

namespace ow::cli {

using Action = std::function<int()>;

void add_commands(CLI::App& app, Action& action);

void add_check(CLI::App* sub, Action& action);
void add_events(CLI::App* sub, Action& action);
void add_exec(CLI::App* sub, Action& action);
void add_run(CLI::App* sub, Action& action);
void add_stats(CLI::App* sub, Action& action);
void add_collect(CLI::App* sub, Action& action);
void add_test_memory(CLI::App* sub, Action& action);
void add_stress_memory(CLI::App* sub, Action& action);
void add_monitor(CLI::App* sub, Action& action);
void add_bpfmem(CLI::App* sub, Action& action);
void add_gomemlimit(CLI::App* sub, Action& action);
void add_restore(CLI::App* sub, Action& action);
void add_recommend(CLI::App* sub, Action& action);
void add_top(CLI::App* sub, Action& action);
void add_report(CLI::App* sub, Action& action);
void add_trace(CLI::App* sub, Action& action);

}  // namespace ow::cli
