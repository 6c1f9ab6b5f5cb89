#include "cli/history_args.hpp"

#include <tuple>

#include "cli/common.hpp"
#include "stats/select.hpp"
#include "stats/time.hpp"
#include "util/clock.hpp"

namespace ow::cli {

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

}  // namespace ow::cli
