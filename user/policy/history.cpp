#include "policy/history.hpp"

#include <algorithm>

#include "policy/pages.hpp"

namespace ow::policy {

uint64_t moved_last_minute(const History& h, int64_t now_ns) {
  uint64_t sum = 0;
  for (const auto& m : h.moves)
    if (m.ts_ns > now_ns - kMinuteNs && m.ts_ns <= now_ns) sum = add_sat(sum, m.bytes);
  return sum;
}

uint64_t moved_last_minute(const History& h, const std::string& receiver, int64_t now_ns) {
  uint64_t sum = 0;
  for (const auto& m : h.moves)
    if (m.receiver == receiver && m.ts_ns > now_ns - kMinuteNs && m.ts_ns <= now_ns) sum = add_sat(sum, m.bytes);
  return sum;
}

std::optional<Role> recent_role(const History& h, const std::string& path, int64_t now_ns,
                                int64_t cooldown_ns) {
  auto it = h.last.find(path);
  if (it == h.last.end()) return std::nullopt;
  if (now_ns - it->second.ts_ns >= cooldown_ns) return std::nullopt;
  return it->second.role;
}

History record_grant(History h, const std::string& receiver, const std::vector<std::string>& donors,
                     uint64_t bytes, int64_t now_ns, uint32_t streak, uint64_t limit_after) {
  std::erase_if(h.moves, [&](const Move& m) { return m.ts_ns <= now_ns - kMinuteNs; });
  if (bytes == 0) return h;
  h.moves.push_back({now_ns, bytes, receiver});
  h.last[receiver] = {now_ns, Role::received, streak, limit_after};
  for (const auto& d : donors) h.last[d] = {now_ns, Role::donated, 1, 0};
  return h;
}

}  // namespace ow::policy
