#include "stress/strategy.hpp"
#include "util/text.hpp"

namespace ow::stress {

Result<Strategy> parse_strategy(std::string_view s) {
  if (s == "anon") return Strategy::Anon;
  if (s == "file") return Strategy::File;
  if (s == "shmem") return Strategy::Shmem;
  if (s == "mixed") return Strategy::Mixed;
  return app_error("bad strategy '" + excerpt(s) + "' (want anon, file, shmem or mixed)");
}

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::Anon: return "anon";
    case Strategy::File: return "file";
    case Strategy::Shmem: return "shmem";
    case Strategy::Mixed: return "mixed";
  }
  return "?";
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Anon: return "anon";
    case Kind::File: return "file";
    case Kind::Shmem: return "shmem";
  }
  return "?";
}

bool uses_kind(Strategy s, Kind k) {
  if (s == Strategy::Mixed) return true;
  return static_cast<int>(s) == static_cast<int>(k);
}

bool reclaimable_without_swap(Kind k) { return k == Kind::File; }

}  // namespace ow::stress
