// oomwatch: memory-cgroup agent and CLI. See README.md and `oomwatch --help`.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/help_format.hpp"
#include "config/config.hpp"
#include "util/log.hpp"
#include "util/version.hpp"

int main(int argc, char** argv) {
  using namespace ow::cli;
  CLI::App app{"oomwatch: watch memory cgroups with eBPF, prevent and explain OOM kills"};
  app.require_subcommand(1);
  use_help_style(app);  // before the subcommands: each inherits it
  app.set_version_flag("--version", std::string("oomwatch ") + ow::version() + " (commit " + ow::commit() + ")",
                       "print the version and the commit it was built from");
  std::string log_level = "info";
  // Given before and after the command, the last one wins: a unit's ExecStart
  // can be extended with --log-level debug at its end.
  one_of(app.add_option("--log-level", log_level, "operator log level: what goes to stderr")
             ->capture_default_str()
             ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast),
         std::vector<std::string>(std::begin(ow::config::kLogLevels), std::end(ow::config::kLogLevels)));
  Action action;
  add_commands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    // CLI11 reports a mistyped command as "A subcommand is required": name it.
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--log-level") { ++i; continue; }
      if (a.rfind("-", 0) == 0) continue;
      bool known = false;
      for (const auto* sub : app.get_subcommands({})) known = known || sub->check_name(a);
      if (!known) msg = "unknown command '" + a + "'";
      break;
    }
    return fail(kExitUsage, msg, "run 'oomwatch --help' (or 'oomwatch COMMAND --help')");
  }
  ow::setup_logging(log_level);
  set_log_level_from_flag(app.get_option("--log-level")->count() > 0);
  // Nothing escapes a command: the daemon has put the node back before an
  // error gets here (agent/daemon.cpp), and the rest write nothing to undo.
  try {
    return action ? action() : kExitUsage;
  } catch (const std::exception& e) {
    return fail(kExitEnv, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(kExitEnv, "internal error: unknown exception");
  }
}
