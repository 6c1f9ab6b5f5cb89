#include "util/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>

#include "util/fd.hpp"

namespace ow {

bool read_all(int fd, std::string& out, uint64_t max, bool* over) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    if (out.size() + static_cast<size_t>(n) > max) {
      if (over) *over = true;
      return false;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Result<std::string> read_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open", path);
  std::string out;
  if (!read_all(fd.get(), out)) return sys_error("read", path);
  return out;
}

namespace {
const char* kind_of(mode_t m) {
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

std::string bound_text(uint64_t b) {
  return b % (1ull << 20) == 0 ? std::to_string(b >> 20) + " MiB" : std::to_string(b) + " bytes";
}
}  // namespace

Result<UniqueFd> open_input_file(const std::string& path, std::string_view what, struct stat* out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return sys_error("open " + std::string(what), path);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + std::string(what), path);
  if (!S_ISREG(st.st_mode))
    return usage_error(std::string(what) + " must be a regular file; this is " + kind_of(st.st_mode) + ":", path);
  if (out) *out = st;
  return fd;
}

Result<std::string> read_input_file(const std::string& path, uint64_t max_bytes, std::string_view what) {
  struct stat st{};
  auto opened = open_input_file(path, what, &st);
  if (!opened) return opened.error();
  UniqueFd fd = std::move(*opened);
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return usage_error(std::string(what) + " is " + std::to_string(st.st_size) + " bytes, over its bound of " +
                           bound_text(max_bytes) + ":",
                       path);
  std::string out;
  bool over = false;
  if (!read_all(fd.get(), out, max_bytes, &over)) {
    if (over)
      return usage_error(std::string(what) + " grew past its bound of " + bound_text(max_bytes) + " while read:", path);
    return sys_error("read " + std::string(what), path);
  }
  return out;
}

Status write_text(const std::string& path, std::string_view s) {
  // O_TRUNC matters for regular files (tests' fake trees); cgroupfs ignores it.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open", path);
  ssize_t n = ::write(fd.get(), s.data(), s.size());
  if (n < 0) return sys_error("write '" + std::string(trim(s)) + "' to", path);
  if (static_cast<size_t>(n) != s.size()) return app_error("short write to", path);
  return {};
}

namespace {
Status append(const std::string& path, std::string_view line, bool sync) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, kFileMode));
  if (!fd.valid()) {
    if (errno == ELOOP) return app_error("refusing to follow a symlink at", path);
    return sys_error("open", path);
  }
  std::string l(line);
  if (l.empty() || l.back() != '\n') l += '\n';
  if (::write(fd.get(), l.data(), l.size()) != static_cast<ssize_t>(l.size())) return sys_error("append to", path);
  if (sync && ::fsync(fd.get()) != 0) return sys_error("fsync", path);
  return {};
}
}  // namespace

Status append_line_fsync(const std::string& path, std::string_view line) { return append(path, line, true); }
Status append_line(const std::string& path, std::string_view line) { return append(path, line, false); }

Result<int> create_file(const std::string& path, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == ELOOP) return app_error("refusing to follow a symlink at", path);
    return sys_error("create", path);
  }
  return fd;
}

std::string trust_problem(uid_t owner, unsigned mode) {
  if (owner != ::geteuid())
    return "owned by uid " + std::to_string(owner) + ", not " + std::to_string(::geteuid());
  if (mode & 022) {
    char m[8];
    std::snprintf(m, sizeof m, "%04o", mode & 07777);
    return std::string("writable by ") + ((mode & 002) ? "others" : "its group") + " (mode " + m + ")";
  }
  return "";
}

Status check_record_file(const std::string& path, std::string_view what) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, kFileMode));
  struct stat st{};
  if (!fd.valid()) {
    if (errno == ELOOP) return app_error("refusing to follow a symlink at", path);
    // A FIFO with no reader: O_NONBLOCK gives ENXIO instead of waiting.
    if (errno == ENXIO || (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)))
      return app_error("refusing " + std::string(what) + " " + path + ": " +
                       (errno == ENXIO ? std::string("a FIFO") : kind_of(st.st_mode)) + ", not a regular file");
    return sys_error("open", path);
  }
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat", path);
  if (!S_ISREG(st.st_mode))
    return app_error("refusing " + std::string(what) + " " + path + ": " + kind_of(st.st_mode) + ", not a regular file");
  if (auto why = trust_problem(st.st_uid, st.st_mode); !why.empty())
    return app_error("refusing " + std::string(what) + " " + path + ": " + why +
                       ", so its records could be forged (chown it to this user and chmod go-w, or choose another)");
  return {};
}

Status check_state_dir(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return sys_error("stat", path);
  if (!S_ISDIR(st.st_mode)) return app_error("refusing state dir " + path + ": not a directory");
  if (auto why = trust_problem(st.st_uid, st.st_mode); !why.empty())
    return app_error("refusing state dir " + path + ": " + why +
                       ", so its journal could be forged (chown it to this user and chmod go-w, or choose another)");
  return {};
}

std::string parent_dir(const std::string& path) {
  auto s = path.rfind('/');
  if (s == std::string::npos) return "";
  return s == 0 ? "/" : path.substr(0, s);
}

Status write_file_atomic(const std::string& path, std::string_view data, unsigned mode, Durability durability) {
  const bool sync = durability == Durability::PowerCut;
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::open(tmp.c_str(), flags, mode));
  if (!fd.valid() && errno == EEXIST) {  // a stray temporary of an earlier process with this pid
    ::unlink(tmp.c_str());
    fd = UniqueFd(::open(tmp.c_str(), flags, mode));
  }
  if (!fd.valid()) return sys_error("create", tmp);
  auto fail = [&](Error e) {
    ::unlink(tmp.c_str());
    return Status(std::move(e));
  };
  if (!write_all(fd.get(), data)) return fail(sys_error("write", tmp));
  if (sync && ::fsync(fd.get()) != 0) return fail(sys_error("fsync", tmp));
  fd.reset();
  // rename replaces a symlink at path itself; it never writes through it.
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(sys_error("rename into place", path));
  if (!sync) return {};
  std::string dir = parent_dir(path);
  UniqueFd d(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.valid()) (void)::fsync(d.get());
  return {};
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(sep, pos);
    if (end == std::string_view::npos) end = s.size();
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  s = trim(s);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_hex_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 16) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

Status mkdir_p(const std::string& path, unsigned mode) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      cur = path.substr(0, i);
      if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return sys_error("mkdir", cur);
    }
  }
  return {};
}

}  // namespace ow
