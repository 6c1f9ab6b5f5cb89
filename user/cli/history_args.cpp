#include "cli/history_args.hpp"

#include <CLI/CLI.hpp>

#include <tuple>

#include "cli/common.hpp"
#include "stats/select.hpp"
#include "stats/time.hpp"
#include "util/clock.hpp"

namespace ow::cli {

CLI::Option* add_history_db_flag(CLI::App* sub, std::string& db) {
  return sub->add_option("--db", db, "history database, read-only")
      ->type_name("FILE")->default_str(store::kDefaultHistoryPath);
}

void add_window_flags(CLI::App* sub, std::string& from, std::string& to, const std::string& from_default) {
  sub->add_option("--from", from, "window start: RFC 3339, unix seconds, now, or relative (-1h)")->type_name("T")
      ->default_str(from_default);
  sub->add_option("--to", to, "window end (inclusive), same forms")->type_name("T")->default_str("now");
}

int parse_window_flags(const std::string& from, const std::string& to, stats::TimeRange& r) {
  const int64_t now = wall_ns();
  for (auto [flag, text, out] : {std::tuple{"--from", &from, &r.from_ns}, std::tuple{"--to", &to, &r.to_ns}}) {
    if (text->empty()) continue;
    auto t = stats::parse_time_arg(*text, now);
    if (!t) return fail(kExitUsage, std::string(flag) + ": " + t.error().message());
    *out = *t;
  }
  if (auto st = stats::check_range(r); !st) return fail(kExitUsage, "--to before --from: " + st.error().message());
  return 0;
}

std::vector<std::string> cgroup_selectors(const std::vector<std::string>& cgroups) {
  std::string mount;
  if (auto h = memory_hierarchy()) mount = h->mount();
  std::vector<std::string> sels;
  for (const auto& c : cgroups) sels.push_back(stats::normalize_cgroup_arg(c, mount));
  return sels;
}

int check_known(const std::vector<std::string>& args, const std::vector<std::string>& sels,
                const std::set<std::string>& paths, const std::string& source) {
  for (size_t i = 0; i < sels.size(); ++i) {
    bool any = false;
    for (const auto& p : paths) any = any || stats::selects(sels[i], p);
    if (!any)
      return fail(kExitUsage,
                  "unknown cgroup " + args[i] + " (" + sels[i] + "): no samples for it or below it in " + source);
  }
  return kExitOk;
}

int open_history(const std::string& db, const std::vector<std::string>& args, const std::vector<std::string>& sels,
                 const std::string& hint, HistoryDb& out) {
  out.path = db.empty() ? store::kDefaultHistoryPath : db;
  store::StoreOptions so;
  so.readonly = true;
  auto h = store::HistoryStore::open(out.path, so);
  if (!h) return fail(kExitEnv, h.error(), hint);
  auto paths = h->paths();
  if (!paths) return fail(kExitEnv, paths.error());
  if (int rc = check_known(args, sels, {paths->begin(), paths->end()}, out.path)) return rc;
  out.store.emplace(std::move(*h));
  return kExitOk;
}

}  // namespace ow::cli
