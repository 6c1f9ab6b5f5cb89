// Whether a recommendation is worth proposing, and which value wins. Pure.
//   hysteresis: a figure changes only when it moves by more than 20 % of the
//               current value or by more than 64Mi (an unknown current value
//               always changes);
//   cooldown:   one revision per container per 30 min;
//   precedence: explicit override > enforced value > recommendation > template default.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "recommend/rules.hpp"

namespace ow::recommend {

// Whether current -> proposed passes hysteresis. nullopt or kUnlimited current: true.
bool passes_hysteresis(std::optional<uint64_t> current, uint64_t proposed, const Rules& r = {});

struct Current {
  std::optional<uint64_t> request_bytes, limit_bytes;  // nullopt: unknown; limit kUnlimited: none
};

struct Decision {
  bool propose = false;
  bool request_changes = false, limit_changes = false;
  std::string reason;  // why (not): the figures, or the cooldown's end
};

// last_revision_ns: when this container's last proposal was made (nullopt: never).
Decision decide(const Current& cur, const Recommendation& rec, std::optional<int64_t> last_revision_ns,
                int64_t now_ns, const Rules& r = {});

enum class Source { Override, Enforced, Recommended, Template, None };
const char* source_name(Source s);

struct Candidates {
  std::optional<uint64_t> override_bytes, enforced_bytes, recommended_bytes, template_bytes;
};
struct Chosen {
  std::optional<uint64_t> bytes;  // nullopt when no candidate has a value
  Source source = Source::None;
};
Chosen choose(const Candidates& c);

}  // namespace ow::recommend
