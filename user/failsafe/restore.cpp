#include "failsafe/restore.hpp"

#include <bpf/bpf.h>
#include <dirent.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actuate/apply.hpp"
#include "actuate/journal.hpp"
#include "gomemlimit/publish.hpp"
#include "policy/audit.hpp"
#include "util/clock.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::failsafe {
namespace {

// The pins the agent's Loader makes (bpf/loader.cpp pin_maps) besides the hint map.
constexpr const char* kAgentPins[] = {"reclaim_stalls"};

void audit_recovery(const StatePaths& p, const actuate::Recovered& r, std::vector<std::string>& problems) {
  if (p.audit_log.empty()) return;
  nlohmann::json j{{"oom_cgroup", printable(r.cgroup)},
                   {"added_memory", 0},
                   {"adjusted_cgroups", nlohmann::json::array()},
                   {"ts", policy::rfc3339_ms(wall_ns())},
                   {"trigger", "recovery"},
                   {"source", "none"},
                   {"dry_run", false},
                   {"limits_before", {{printable(r.cgroup), r.before_bytes}}},
                   {"limits_after", {{printable(r.cgroup), r.after_bytes}}},
                   {"plan_limits", {{"old", r.plan_old_bytes}, {"new", r.plan_new_bytes}}},
                   {"result", r.result}};
  if (auto dir = parent_dir(p.audit_log); !dir.empty()) (void)mkdir_p(dir);
  if (auto s = append_line_fsync(p.audit_log, json_line(j)); !s) problems.push_back("audit: " + s.error().message());
}

std::vector<uint64_t> hint_ids(const std::string& dir) {
  std::vector<uint64_t> ids;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ids;
  while (auto* e = ::readdir(d)) {
    uint64_t id;
    if (parse_u64(e->d_name, id)) ids.push_back(id);
  }
  ::closedir(d);
  return ids;
}

}  // namespace

int withdraw_hints(const cg::Hierarchy& h, const StatePaths& p, std::vector<std::string>& problems) {
  auto ids = hint_ids(p.hint_dir());
  if (ids.empty()) return 0;
  auto paths = h.walk();  // id -> relative path, for the xattrs
  UniqueFd map(p.hint_pin().empty() ? -1 : bpf_obj_get(p.hint_pin().c_str()));
  const std::string xattr = gomemlimit::PublishOptions{}.xattr_name;
  int n = 0;
  for (uint64_t id : ids) {
    if (auto it = paths.find(id); it != paths.end()) {
      std::string dir = h.abs(it->second);
      if (::removexattr(dir.c_str(), xattr.c_str()) != 0 && errno != ENODATA && errno != ENOENT)
        problems.push_back(sys_error("remove " + xattr + " from", printable(dir)).message());
    }
    if (map.valid()) {
      __u64 key = id;
      if (bpf_map_delete_elem(map.get(), &key) != 0 && errno != ENOENT)
        problems.push_back(sys_error("delete from pinned map", p.hint_pin()).message());
    }
    std::string f = p.hint_dir() + "/" + std::to_string(id);
    if (::unlink(f.c_str()) != 0 && errno != ENOENT) problems.push_back(sys_error("remove", f).message());
    ++n;
  }
  ::rmdir(p.hint_dir().c_str());
  if (map.valid()) {
    __u64 k;
    if (bpf_map_get_next_key(map.get(), nullptr, &k) != 0) ::unlink(p.hint_pin().c_str());
  }
  return n;
}

RestoreReport restore_node(const cg::Hierarchy& h, const StatePaths& p) {
  RestoreReport r;
  actuate::Journal j(p.journal());
  if (auto s = j.load(); !s) {
    r.problems.push_back(s.error().message());
  } else if (!j.empty()) {
    auto n = j.restore(h);
    if (n)
      r.settings = *n;
    else
      r.problems.push_back("journal: " + n.error().message());
  }
  actuate::Actuator a(h, p.intent());
  if (auto rec = a.recover_intent(); !rec) {
    r.problems.push_back("intent: " + rec.error().message());
  } else {
    for (const auto& x : *rec) {
      audit_recovery(p, x, r.problems);
      if (x.result.rfind("failed", 0) == 0)
        r.problems.push_back(printable(x.cgroup) + ": " + x.result);
      else
        ++r.limits;
    }
  }
  r.hints = withdraw_hints(h, p, r.problems);
  if (!p.pin_dir.empty()) {
    for (const char* name : kAgentPins) {
      std::string pin = p.pin_dir + "/" + name;
      if (::unlink(pin.c_str()) == 0) ++r.pins;
    }
    ::rmdir(p.pin_dir.c_str());  // only when empty: bpftool users may pin there too
  }
  ::unlink(p.ready_file().c_str());
  return r;
}

}  // namespace ow::failsafe
