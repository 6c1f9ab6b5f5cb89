// Reading the agent's audit log and hint files: see agent_inputs.hpp.
#include "view/agent_inputs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "stats/time.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::view {
namespace {

std::string bytes_text(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return format_size(v.get<uint64_t>());
  if (v.is_number_integer()) return format_size(static_cast<uint64_t>(std::max<int64_t>(0, v.get<int64_t>())));
  return {};
}

Result<std::string> read_tail(const std::string& path, size_t tail_bytes, bool& missing) {
  missing = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);  // a FIFO never blocks
  if (fd < 0) {
    if (errno == ENOENT) {
      missing = true;
      return std::string();
    }
    return sys_error("open audit log", path);
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = S_ISREG(st.st_mode) ? errno : EINVAL;
    ::close(fd);
    return Error{e, "read audit log (not a regular file)", path};
  }
  off_t start = 0;
  if (tail_bytes > 0 && static_cast<uint64_t>(st.st_size) > tail_bytes) start = st.st_size - static_cast<off_t>(tail_bytes);
  std::string out;
  if (::lseek(fd, start, SEEK_SET) < 0 || !read_all(fd, out)) {
    auto e = sys_error("read audit log", path);
    ::close(fd);
    return e;
  }
  ::close(fd);
  // A tail starts mid-line: drop the partial first line.
  if (start > 0) {
    auto nl = out.find('\n');
    out.erase(0, nl == std::string::npos ? out.size() : nl + 1);
  }
  return out;
}

}  // namespace

std::optional<Event> parse_audit_line(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto ts_it = j.find("ts");
  if (ts_it == j.end() || !ts_it->is_string()) return std::nullopt;
  auto ts = stats::parse_rfc3339(ts_it->get<std::string>());
  if (!ts) return std::nullopt;
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string result = str("result");
  if (result == "pending") return std::nullopt;
  // kind and detail are only shown, so they are made printable here; the
  // cgroup stays as written (the filter matches it) and is escaped where
  // it is printed.
  Event e;
  e.ts_ns = *ts;
  e.source = "audit";
  e.kind = str("trigger").empty() ? "action" : printable(str("trigger"));
  e.cgroup = str("oom_cgroup");
  e.detail = result.empty() ? "decision" : printable(result);
  if (auto it = j.find("added_memory"); it != j.end()) {
    std::string b = bytes_text(*it);
    if (!b.empty() && b != "0B") e.detail += " +" + b;
  }
  if (std::string src = str("source"); !src.empty()) e.detail += " from " + printable(src);
  if (auto it = j.find("dry_run"); it != j.end() && it->is_boolean() && it->get<bool>()) e.detail += " (dry run)";
  return e;
}

Result<std::vector<Event>> read_audit_events(const std::string& path, int64_t from_ns, int64_t to_ns,
                                             size_t tail_bytes) {
  bool missing = false;
  auto text = read_tail(path, tail_bytes, missing);
  if (!text) return text.error();
  std::vector<Event> out;
  for (auto line : split_lines(*text)) {
    auto e = parse_audit_line(line);
    if (e && e->ts_ns >= from_ns && e->ts_ns <= to_ns) out.push_back(std::move(*e));
  }
  return out;
}

std::map<uint64_t, uint64_t> read_hints(const std::string& hint_dir, const std::vector<uint64_t>& ids) {
  std::map<uint64_t, uint64_t> out;
  if (hint_dir.empty() || ::access(hint_dir.c_str(), R_OK) != 0) return out;
  for (uint64_t id : ids) {
    std::string p = hint_dir + "/" + std::to_string(id);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    char buf[32];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(buf, &end, 10);
    if (errno == 0 && end != buf && v > 0) out[id] = v;
  }
  return out;
}

}  // namespace ow::view
