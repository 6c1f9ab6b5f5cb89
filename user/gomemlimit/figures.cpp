#include "gomemlimit/figures.hpp"

#include <algorithm>

namespace ow::gomemlimit {

bool moved(uint64_t was, uint64_t now) {
  uint64_t d = was > now ? was - now : now - was;
  return d > std::max<uint64_t>(1 << 20, std::max(was, now) / 100);
}

bool figures_hold(const TargetFigures& f, uint64_t eff_limit, const std::string& limit_at, uint64_t usage,
                  uint64_t inactive) {
  return f.eff_limit == eff_limit && f.limit_at == limit_at && !moved(f.usage, usage) && !moved(f.inactive, inactive);
}

bool breakdown_holds(const TargetFigures& f, uint64_t ebpf, uint64_t machine) {
  return f.ebpf == ebpf && f.machine == machine;
}

size_t aged_reread_budget(size_t targets, int64_t period_ns, int64_t max_age_ns) {
  return 1 + targets * static_cast<size_t>(std::max<int64_t>(period_ns, 1)) / static_cast<size_t>(max_age_ns);
}

}  // namespace ow::gomemlimit
