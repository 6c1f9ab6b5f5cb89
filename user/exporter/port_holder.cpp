#include "exporter/port_holder.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::exporter {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether one of pid's fds is a socket in `inodes`.
bool holds_socket(const std::string& proc_root, const std::string& pid, const std::set<uint64_t>& inodes) {
  std::string fd_dir = proc_root + "/" + pid + "/fd";
  DIR* d = ::opendir(fd_dir.c_str());
  if (!d) return false;  // gone, or not ours to read
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    if (!all_digits(e->d_name)) continue;
    char buf[64];
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, buf, sizeof buf - 1);
    if (n <= 0) continue;
    std::string_view t(buf, static_cast<size_t>(n));
    constexpr std::string_view pre = "socket:[";
    if (t.size() <= pre.size() + 1 || t.substr(0, pre.size()) != pre || t.back() != ']') continue;
    uint64_t ino = 0;
    if (parse_u64(t.substr(pre.size(), t.size() - pre.size() - 1), ino) && inodes.count(ino)) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

}  // namespace

std::vector<uint64_t> listening_inodes(std::string_view table, uint16_t port) {
  std::vector<uint64_t> out;
  for (auto line : split_lines(table)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    auto f = split_ws(line);
    if (f.size() < 10 || f[3] != "0A") continue;
    auto colon = f[1].rfind(':');
    uint64_t p = 0, ino = 0;
    if (colon == std::string_view::npos || !parse_hex_u64(f[1].substr(colon + 1), p) || p != port) continue;
    if (!parse_u64(f[9], ino) || ino == 0) continue;
    out.push_back(ino);
  }
  return out;
}

std::optional<PortHolder> find_port_holder(uint16_t port, const std::string& proc_root) {
  std::set<uint64_t> inodes;
  for (const char* t : {"/net/tcp", "/net/tcp6"})
    if (auto text = read_text(proc_root + t))
      for (auto ino : listening_inodes(*text, port)) inodes.insert(ino);
  if (inodes.empty()) return std::nullopt;
  DIR* d = ::opendir(proc_root.c_str());
  if (!d) return std::nullopt;
  std::vector<long> pids;
  while (dirent* e = ::readdir(d))
    if (all_digits(e->d_name)) pids.push_back(std::atol(e->d_name));
  ::closedir(d);
  std::sort(pids.begin(), pids.end());
  for (long p : pids) {
    const std::string ps = std::to_string(p);
    if (!holds_socket(proc_root, ps, inodes)) continue;
    PortHolder h;
    h.pid = static_cast<pid_t>(p);
    h.comm = std::string(trim(read_text(proc_root + "/" + ps + "/comm").value_or("")));
    return h;
  }
  return std::nullopt;
}

std::string describe_port_holder(const std::optional<PortHolder>& h) {
  if (!h) return "in use (no process holding it was found: it may be in another network namespace)";
  return "in use by pid " + std::to_string(h->pid) + (h->comm.empty() ? "" : " (" + h->comm + ")");
}

}  // namespace ow::exporter
