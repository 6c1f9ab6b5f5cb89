#include "stress/strategy.hpp"
#include "util/names.hpp"
#include "util/text.hpp"

namespace ow::stress {

namespace {

constexpr Named<Strategy> kStrategies[] = {
    {Strategy::Anon, "anon"}, {Strategy::File, "file"}, {Strategy::Shmem, "shmem"}, {Strategy::Mixed, "mixed"}};
constexpr Named<Kind> kKinds[] = {{Kind::Anon, "anon"}, {Kind::File, "file"}, {Kind::Shmem, "shmem"}};

}  // namespace

Result<Strategy> parse_strategy(std::string_view s) {
  if (auto v = parse_name(kStrategies, s)) return *v;
  return app_error("bad strategy '" + excerpt(s) + "' (want " + name_list(kStrategies) + ")");
}

std::vector<std::string> strategy_names() { return name_vector(kStrategies); }

const char* strategy_name(Strategy s) { return name_of(kStrategies, s); }

const char* kind_name(Kind k) { return name_of(kKinds, k); }

bool uses_kind(Strategy s, Kind k) {
  if (s == Strategy::Mixed) return true;
  return static_cast<int>(s) == static_cast<int>(k);
}

bool reclaimable_without_swap(Kind k) { return k == Kind::File; }

}  // namespace ow::stress
