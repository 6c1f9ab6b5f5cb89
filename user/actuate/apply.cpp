#include "actuate/apply.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace ow::actuate {

Status Actuator::write_checked(const std::string& rel, uint64_t bytes) {
  auto s = h_.set_limit(rel, bytes);
  if (!s) return s;
  auto back = h_.limit(rel);
  if (!back) return back.error();
  // The kernel stores pages: a value that is not page-aligned reads back rounded down.
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t want = bytes == kUnlimited ? kUnlimited : bytes / page * page;
  if (*back != want)
    return app_error("read back " + std::to_string(*back) + " after writing " + std::to_string(bytes) + " to",
                     h_.abs(rel) + "/" + h_.limit_file());
  return {};
}

Status Actuator::save_intent(const std::vector<LimitChange>& plan) {
  if (intent_.empty()) return {};
  nlohmann::json j = nlohmann::json::array();
  for (const auto& c : plan) j.push_back({{"cgroup", c.cgroup}, {"old", c.old_limit_bytes}, {"new", c.new_limit_bytes}});
  auto dir = intent_.substr(0, intent_.rfind('/'));
  if (!dir.empty()) (void)mkdir_p(dir);
  ::unlink(intent_.c_str());
  return append_line_fsync(intent_, j.dump());
}

void Actuator::clear_intent() {
  if (!intent_.empty()) ::unlink(intent_.c_str());
}

ApplyResult Actuator::apply(const std::vector<LimitChange>& plan) {
  ApplyResult r;
  if (auto s = save_intent(plan); !s) {
    r.error = s.error().message();
    return r;
  }
  for (const auto& c : plan) {
    auto s = write_checked(c.cgroup, c.new_limit_bytes);
    if (!s) {
      r.error = s.error().message();
      for (auto it = r.applied.rbegin(); it != r.applied.rend(); ++it) {
        auto u = h_.set_limit(it->cgroup, it->old_limit_bytes);
        if (!u) spdlog::error("rollback of {} failed: {}", h_.abs(it->cgroup), u.error().message());
      }
      r.applied.clear();
      r.rolled_back = true;
      clear_intent();
      return r;
    }
    r.applied.push_back(c);
  }
  clear_intent();
  r.ok = true;
  return r;
}

Result<int> Actuator::recover_intent() {
  if (intent_.empty()) return 0;
  auto t = read_text(intent_);
  if (!t) return t.error().err == ENOENT ? Result<int>(0) : Result<int>(t.error());
  std::vector<LimitChange> plan;
  try {
    for (const auto& c : nlohmann::json::parse(*t))
      plan.push_back({c.at("cgroup"), c.at("old"), c.at("new")});
  } catch (const std::exception& e) {
    clear_intent();  // a torn intent was never acted on: its first write comes after the fsync
    return 0;
  }
  bool complete = true;
  for (const auto& c : plan) {
    auto l = h_.limit(c.cgroup);
    complete = complete && l && *l == c.new_limit_bytes;
  }
  int undone = 0;
  if (!complete)
    for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
      auto l = h_.limit(it->cgroup);
      if (l && *l != it->old_limit_bytes && h_.set_limit(it->cgroup, it->old_limit_bytes)) ++undone;
    }
  clear_intent();
  return undone;
}

}  // namespace ow::actuate
