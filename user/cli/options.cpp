#include "cli/options.hpp"

#include "cli/common.hpp"
#include "cli/help_format.hpp"
#include "util/units.hpp"

namespace ow::cli {
namespace {

constexpr const char* kPathForms = "(relative to the hierarchy root, or an absolute cgroupfs path)";

}  // namespace

CLI::Option* add_cgroups_flag(CLI::App* sub, std::vector<std::string>& cgroups, const std::string& none) {
  return sub
      ->add_option("--cgroup", cgroups, std::string("cgroup P and its descendants ") + kPathForms + "; repeatable")
      ->type_name("P")
      ->default_str(none);
}

CLI::Option* add_cgroup_flag(CLI::App* sub, std::string& cgroup, const std::string& what, const std::string& more) {
  return sub->add_option("--cgroup", cgroup, what + " " + kPathForms + more)->type_name("P");
}

CLI::Option* add_source_flag(CLI::App* sub, std::string& source) {
  // The names open_sampler (sampling.cpp) tells apart; "auto" is any other.
  return one_of(sub->add_option("--source", source,
                                "auto: BPF cgroup iterator, cgroupfs files if it cannot load; bpf: iterator or fail; "
                                "files: always cgroupfs files")
                    ->default_str("auto"),
                {"auto", "bpf", "files"});
}

CLI::Option* add_parent_flag(CLI::App* sub, std::string& parent) {
  return sub->add_option("--parent", parent, "create the throw-away cgroup under this cgroup")->type_name("P")
      ->default_str("oomwatch's own cgroup");
}

CLI::Option* add_interval_flag(CLI::App* sub, std::string& interval, const std::string& what, const std::string& dflt,
                               std::chrono::nanoseconds least) {
  return sub->add_option("--interval", interval, what + ", at least " + format_duration(least))
      ->type_name("DUR")->default_str(dflt);
}

int resolve_flag(const cg::Hierarchy& h, const char* flag, const std::string& arg, std::string& rel) {
  auto r = h.resolve(arg);
  if (!r) return fail(kExitUsage, std::string(flag) + ": " + r.error().message());
  rel = std::move(*r);
  return kExitOk;
}

int resolve_flags(const cg::Hierarchy& h, const char* flag, const std::vector<std::string>& args,
                  std::vector<std::string>& rels) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    std::string rel;
    if (int rc = resolve_flag(h, flag, a, rel)) return rc;
    out.push_back(std::move(rel));
  }
  rels = std::move(out);
  return kExitOk;
}

int throwaway_cgroup(const cg::Hierarchy& h, const std::string& parent_arg, const char* prefix, uint64_t limit_bytes,
                     std::optional<cg::ScopedCgroup>& out) {
  std::string parent = h.self();
  if (!parent_arg.empty())
    if (int rc = resolve_flag(h, "--parent", parent_arg, parent)) return rc;
  auto c = cg::ScopedCgroup::create(h, parent, prefix, limit_bytes);
  if (!c) {
    std::string hint = h.version() == cg::Version::V2
                           ? "on cgroup v2 the parent must not hold processes itself; pass --parent with an empty cgroup"
                           : "";
    return fail(kExitEnv, c.error(), hint);
  }
  out.emplace(std::move(*c));
  return kExitOk;
}

}  // namespace ow::cli
