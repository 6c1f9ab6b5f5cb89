// What oomwatch did recently, for cooldowns and the per-minute cap. Passive
// state owned by the caller (the agent): plan() reads it, record() returns the
// next state, so the decision stays a pure function of its inputs and a test
// can replay any sequence of incidents.
//
// Times are CLOCK_MONOTONIC-like ns chosen by the caller; they only need to be
// comparable with Trigger::now_ns.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ow::policy {

enum class Role { received, donated };

struct LastAction {
  int64_t ts_ns = 0;
  Role role = Role::received;
  // Received: how many grants in a row, each within the cooldown of the one
  // before (1 = a first grant). The next grant's minimum step doubles with it.
  uint32_t streak = 1;
  // Received: the limit the grant left. A next grant counts as one more in
  // a row only while the limit is still that (nobody reset it since).
  uint64_t limit_after = 0;
};

// One grant: bytes added to a receiver. Donations are the same bytes seen
// from the other side, so only grants count against the per-minute cap.
struct Move {
  int64_t ts_ns = 0;
  uint64_t bytes = 0;
  std::string receiver;
};

struct History {
  std::map<std::string, LastAction> last;  // by cgroup path
  std::vector<Move> moves;                 // ascending ts; older than 60 s ignored
};

inline constexpr int64_t kMinuteNs = 60'000'000'000;

// Bytes granted in (now - 60 s, now], to every cgroup / to one receiver.
uint64_t moved_last_minute(const History& h, int64_t now_ns);
uint64_t moved_last_minute(const History& h, const std::string& receiver, int64_t now_ns);

// The role path last played if that was within cooldown_ns of now_ns
// (now - ts < cooldown); nullopt when it is free to act on.
std::optional<Role> recent_role(const History& h, const std::string& path, int64_t now_ns,
                                int64_t cooldown_ns);

// h plus one grant of bytes to receiver taken (partly) from donors, at now_ns.
// Moves older than a minute are dropped, so the state stays small. A grant of
// 0 bytes records nothing: nothing changed, nothing needs to cool down.
// streak: the receiver's grants in a row, this one included (Plan::streak).
History record_grant(History h, const std::string& receiver, const std::vector<std::string>& donors,
                     uint64_t bytes, int64_t now_ns, uint32_t streak = 1, uint64_t limit_after = 0);

}  // namespace ow::policy
