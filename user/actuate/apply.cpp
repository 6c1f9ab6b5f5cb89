#include "actuate/apply.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

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
  for (const auto& c : plan)
    j.push_back({{"cgroup", encode_bytes(c.cgroup)}, {"old", c.old_limit_bytes}, {"new", c.new_limit_bytes}});
  if (auto dir = parent_dir(intent_); !dir.empty()) (void)mkdir_p(dir);
  return write_file_atomic(intent_, json_line(j) + "\n");
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
  fault_point("intent_written");
  for (const auto& c : plan) {
    auto s = write_checked(c.cgroup, c.new_limit_bytes);
    if (s && r.applied.empty()) fault_point("limit_written");
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
  fault_point("plan_written");
  clear_intent();
  r.ok = true;
  return r;
}

Result<std::vector<Recovered>> Actuator::recover_intent() {
  std::vector<Recovered> out;
  if (intent_.empty()) return out;
  auto t = read_text(intent_);
  if (!t) return t.error().err == ENOENT ? Result<std::vector<Recovered>>(out) : Result<std::vector<Recovered>>(t.error());
  std::vector<LimitChange> plan;
  try {
    for (const auto& c : nlohmann::json::parse(*t)) {
      std::string rel;
      if (!decode_bytes(c.at("cgroup").get<std::string>(), rel)) throw std::runtime_error("bad cgroup encoding");
      plan.push_back({rel, c.at("old"), c.at("new")});
    }
  } catch (const std::exception&) {
    clear_intent();  // a torn intent was never acted on: its first write comes after the fsync
    return out;
  }
  bool complete = true;
  for (const auto& c : plan) {
    auto l = h_.limit(c.cgroup);
    complete = complete && l && *l == c.new_limit_bytes;
  }
  if (!complete)
    for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
      auto l = h_.limit(it->cgroup);
      if (!l) continue;  // gone: nothing to put back
      Recovered r{it->cgroup, it->old_limit_bytes, it->new_limit_bytes, *l, *l, "restored"};
      if (*l == it->old_limit_bytes) continue;
      uint64_t target = it->old_limit_bytes;
      if (target < *l) {  // undoing a raise: never below what the cgroup uses now
        uint64_t usage = h_.usage(it->cgroup).value_or(0);
        uint64_t floor = usage + std::max<uint64_t>(8ull << 20, usage / 10);
        if (floor >= *l) {
          r.result = "kept";
          out.push_back(r);
          continue;
        }
        if (target < floor) {
          target = floor;
          r.result = "kept";
        }
      }
      if (auto s = write_checked(it->cgroup, target); !s) {
        r.result = "failed: " + s.error().message();
      } else {
        r.after_bytes = h_.limit(it->cgroup).value_or(target);
      }
      out.push_back(r);
    }
  clear_intent();
  return out;
}

}  // namespace ow::actuate
