// One function per subcommand: registers its flags on the app and, when the
// subcommand is chosen, stores the function to run in `action`.
#pragma once
#include <functional>

namespace CLI {
class App;
}

namespace ow::cli {

using Action = std::function<int()>;

void add_check(CLI::App& app, Action& action);
void add_events(CLI::App& app, Action& action);
void add_exec(CLI::App& app, Action& action);
void add_run(CLI::App& app, Action& action);
void add_stats(CLI::App& app, Action& action);
void add_collect(CLI::App& app, Action& action);
void add_test_memory(CLI::App& app, Action& action);
void add_stress_memory(CLI::App& app, Action& action);
void add_monitor(CLI::App& app, Action& action);
void add_bpfmem(CLI::App& app, Action& action);
void add_gomemlimit(CLI::App& app, Action& action);
void add_restore(CLI::App& app, Action& action);
void add_recommend(CLI::App& app, Action& action);
void add_top(CLI::App& app, Action& action);
void add_report(CLI::App& app, Action& action);
void add_trace(CLI::App& app, Action& action);

}  // namespace ow::cli
