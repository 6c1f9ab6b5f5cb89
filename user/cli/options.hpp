// Running a subcommand, the flags several commands share (one text each,
// wherever the flag appears), and resolving the cgroups those flags name.
#pragma once
#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "cgroup/scoped.hpp"
#include "cli/commands.hpp"

namespace ow::cli {

// The options of the subcommand sub, which its flags fill in; when it is
// chosen, `action` becomes run(options). They live as long as the app.
template <class Opts, class Run>
Opts* on_run(CLI::App* sub, Action& action, Run run) {
  auto o = std::make_shared<Opts>();
  sub->callback([&action, o, run] { action = [o, run] { return run(*o); }; });
  return o.get();
}

// --cgroup P, repeatable: P and its descendants; `none` says what is selected
// when the flag is not given.
CLI::Option* add_cgroups_flag(CLI::App* sub, std::vector<std::string>& cgroups, const std::string& none = "all");
// --cgroup P, one cgroup: `what` names it and `more` follows the path forms.
CLI::Option* add_cgroup_flag(CLI::App* sub, std::string& cgroup, const std::string& what, const std::string& more = "");
// --source auto|bpf|files, as open_sampler takes it.
CLI::Option* add_source_flag(CLI::App* sub, std::string& source);
// --parent P, where throwaway_cgroup creates its cgroup.
CLI::Option* add_parent_flag(CLI::App* sub, std::string& parent);
// --interval DUR: `what` it sets, then ", at least L" from least, the minimum
// the command checks it against (stress::interval_flag); dflt is its default.
CLI::Option* add_interval_flag(CLI::App* sub, std::string& interval, const std::string& what, const std::string& dflt,
                               std::chrono::nanoseconds least);

// The path under the hierarchy of the cgroup a flag names (relative to its
// root, or an absolute cgroupfs path). 0, or the exit code of the one-line
// error printed, naming the flag.
int resolve_flag(const cg::Hierarchy& h, const char* flag, const std::string& arg, std::string& rel);
// Each of a repeatable flag's cgroups, in order, into rels (which may be args).
int resolve_flags(const cg::Hierarchy& h, const char* flag, const std::vector<std::string>& args,
                  std::vector<std::string>& rels);

// A new cgroup <parent>/<prefix>-... with the limit, under --parent (empty:
// oomwatch's own cgroup), into out. 0, or the exit code of the one-line error.
int throwaway_cgroup(const cg::Hierarchy& h, const std::string& parent_arg, const char* prefix, uint64_t limit_bytes,
                     std::optional<cg::ScopedCgroup>& out);

}  // namespace ow::cli
