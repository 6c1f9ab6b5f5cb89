// Registering a subcommand: its options, its flags and the action it runs.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "cli/commands.hpp"

namespace ow::cli {

template <class Opts>
struct Command {
  CLI::App* sub;
  Opts* o;  // owned by the subcommand's callback, alive as long as the app
};

// Adds the subcommand `name`; when it is chosen, `action` becomes run(*o),
// o being the options its flags fill in.
template <class Opts, class Run>
Command<Opts> add_command(CLI::App& app, Action& action, const std::string& name, const std::string& about, Run run) {
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand(name, about);
  sub->callback([&action, o, run] { action = [o, run] { return run(*o); }; });
  return {sub, o.get()};
}

}  // namespace ow::cli
