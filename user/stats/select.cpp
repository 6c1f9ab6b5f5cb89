#include "stats/select.hpp"

namespace ow::stats {

std::string normalize_cgroup_arg(std::string_view arg, std::string_view mount) {
  while (mount.size() > 1 && mount.back() == '/') mount.remove_suffix(1);
  if (!mount.empty() && mount != "/" && arg.substr(0, mount.size()) == mount &&
      (arg.size() == mount.size() || arg[mount.size()] == '/'))
    arg.remove_prefix(mount.size());
  std::string out = "/";
  for (char c : arg) {
    if (c == '/' && out.back() == '/') continue;
    out.push_back(c);
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool selects(std::string_view sel, std::string_view path) {
  if (sel == "/") return true;
  return path.substr(0, sel.size()) == sel && (path.size() == sel.size() || path[sel.size()] == '/');
}

bool selected(const std::vector<std::string>& selectors, std::string_view path) {
  if (selectors.empty()) return true;
  for (const auto& s : selectors)
    if (selects(s, path)) return true;
  return false;
}

}  // namespace ow::stats
