#include "fleet/workload.hpp"

#include <algorithm>

namespace ow::fleet {
namespace {

constexpr std::string_view kSafe = "bcdfghjklmnpqrstvwxz2456789";

bool safe_token(std::string_view s, size_t min, size_t max) {
  return s.size() >= min && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return kSafe.find(c) != std::string_view::npos; });
}
bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Workload workload_of_pod(std::string_view pod) {
  size_t last = pod.rfind('-');
  if (last == std::string_view::npos || last == 0) return {"Pod", std::string(pod)};
  std::string_view head = pod.substr(0, last), tail = pod.substr(last + 1);
  if (digits(tail)) return {"StatefulSet", std::string(head)};
  if (!safe_token(tail, 5, 5)) return {"Pod", std::string(pod)};
  size_t prev = head.rfind('-');
  if (prev != std::string_view::npos && prev > 0 && safe_token(head.substr(prev + 1), 5, 10))
    return {"Deployment", std::string(head.substr(0, prev))};
  return {"DaemonSet", std::string(head)};
}

std::string knative_service_of(std::string_view d) {
  constexpr std::string_view suffix = "-deployment";
  if (d.size() <= suffix.size() || d.substr(d.size() - suffix.size()) != suffix) return "";
  std::string_view rev = d.substr(0, d.size() - suffix.size());
  size_t dash = rev.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || !digits(rev.substr(dash + 1))) return "";
  return std::string(rev.substr(0, dash));
}

}  // namespace ow::fleet
