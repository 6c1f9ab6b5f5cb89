#include "cgroup/hierarchy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::cg {

bool is_under(const std::string& rel, const std::string& root) {
  if (root == "/") return true;
  return rel == root || (rel.size() > root.size() && rel.compare(0, root.size(), root) == 0 && rel[root.size()] == '/');
}

std::string join_rel(const std::string& parent, const std::string& child) {
  if (parent.empty() || parent == "/") return "/" + child;
  return parent + "/" + child;
}

std::vector<ChildDir> child_dirs(DIR* d) {
  std::vector<ChildDir> out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (e->d_type == DT_DIR) {
      out.push_back({e->d_name, static_cast<uint64_t>(e->d_ino)});
      continue;
    }
    if (e->d_type != DT_UNKNOWN) continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
    out.push_back({e->d_name, static_cast<uint64_t>(st.st_ino)});
  }
  std::sort(out.begin(), out.end(), [](const ChildDir& a, const ChildDir& b) { return a.name < b.name; });
  return out;
}

std::vector<ChildDir> child_dirs(const std::string& abs_path) {
  DIR* d = ::opendir(abs_path.c_str());
  if (!d) return {};
  auto out = child_dirs(d);
  ::closedir(d);
  return out;
}

Hierarchy::Hierarchy(std::string mount, Version v, std::string self_path)
    : mount_(std::move(mount)), v_(v), self_(std::move(self_path)) {
  while (mount_.size() > 1 && mount_.back() == '/') mount_.pop_back();
}

Result<Hierarchy> Hierarchy::discover(const std::string& proc_root) {
  auto mounts = read_text(proc_root + "/self/mounts");
  if (!mounts) return mounts.error();
  auto self = read_text(proc_root + "/self/cgroup");
  if (!self) return self.error();
  auto ms = parse_cgroup_mounts(*mounts);
  std::optional<std::string> v2ctl;
  for (const auto& m : ms)
    if (m.fstype == "cgroup2") {
      auto c = read_text(m.path + "/cgroup.controllers");
      if (c) v2ctl = *c;
      break;
    }
  auto layout = derive_layout(ms, parse_proc_cgroup(*self), v2ctl);
  if (layout.memory_mount.empty())
    return app_error("no cgroup hierarchy holds the memory controller (mount cgroup2, or cgroup with -o memory)");
  return Hierarchy(layout.memory_mount, layout.memory_version, layout.self_path);
}

std::string Hierarchy::abs(const std::string& rel) const {
  if (rel.empty() || rel == "/") return mount_;
  return mount_ + (rel[0] == '/' ? "" : "/") + rel;
}

Result<std::string> Hierarchy::normalize(const std::string& user_path) const {
  std::string rel = user_path;
  if (rel.rfind(mount_ + "/", 0) == 0)
    rel = rel.substr(mount_.size());
  else if (rel == mount_)
    rel = "/";
  std::string out;
  size_t i = 0;
  while (i < rel.size()) {
    while (i < rel.size() && rel[i] == '/') ++i;
    size_t b = i;
    while (i < rel.size() && rel[i] != '/') ++i;
    if (i == b) break;
    std::string_view part(rel.data() + b, i - b);
    if (part == "..") return app_error("cgroup path must not contain '..':", user_path);
    if (part == ".") continue;
    out += "/";
    out += part;
  }
  return out.empty() ? std::string("/") : out;
}

Result<std::string> Hierarchy::resolve(const std::string& user_path) const {
  auto rel = normalize(user_path);
  if (!rel) return rel;
  struct stat st;
  if (::stat(abs(*rel).c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return app_error("unknown cgroup " + user_path + " (not found under " + mount_ + ")");
  return rel;
}

Result<uint64_t> Hierarchy::id_of(const std::string& rel) const {
  struct stat st;
  if (::stat(abs(rel).c_str(), &st) != 0) return sys_error("stat", abs(rel));
  return static_cast<uint64_t>(st.st_ino);
}

std::map<uint64_t, std::string> Hierarchy::walk(const std::string& from) const {
  // Each directory is opened relative to its parent's fd, and a child's id is
  // the d_ino readdir reports (the inode number, which id_of() would stat for):
  // one open and one getdents per cgroup instead of a path lookup and a stat
  // per cgroup, which made this the larger half of a short run's start-up.
  std::map<uint64_t, std::string> out;
  auto root = id_of(from);
  if (!root) return out;
  out[*root] = from;
  std::function<void(int, const std::string&)> rec = [&](int fd, const std::string& rel) {
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return;
    }
    for (const auto& c : child_dirs(d)) {
      std::string child = join_rel(rel, c.name);
      out[c.id] = child;
      // A directory's link count is 2 + its subdirectories (kernfs keeps it
      // so, as classic filesystems do): a leaf is not opened and listed,
      // which for the cgroups of a node, mostly leaves with dozens of
      // control files each, was most of the walk.
      struct stat st;
      if (::fstatat(::dirfd(d), c.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink == 2) continue;
      int cfd = ::openat(::dirfd(d), c.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd >= 0) rec(cfd, child);  // else: vanished while walking
    }
    ::closedir(d);
  };
  int fd = ::open(abs(from).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) rec(fd, from);
  return out;
}

Result<std::string> Hierarchy::path_of(uint64_t id) const {
  auto all = walk();
  auto it = all.find(id);
  if (it == all.end()) return app_error("no cgroup with id " + std::to_string(id) + " under", mount_);
  return it->second;
}

namespace {
Result<uint64_t> read_u64_file(const std::string& path) {
  auto t = read_text(path);
  if (!t) return t.error();
  uint64_t v;
  if (!parse_u64(*t, v)) return app_error("unparsable number in", path);
  return v;
}
}  // namespace

Result<uint64_t> Hierarchy::usage(const std::string& rel) const {
  return read_u64_file(abs(rel) + "/" + usage_file());
}

Result<uint64_t> Hierarchy::limit(const std::string& rel) const {
  std::string p = abs(rel) + "/" + limit_file();
  auto t = read_text(p);
  if (!t) return t.error();
  return parse_limit(*t);
}

Result<uint64_t> Hierarchy::high(const std::string& rel) const {
  if (v_ != Version::V2) return app_error("memory.high exists only on cgroup v2:", abs(rel));
  std::string p = abs(rel) + "/memory.high";
  auto t = read_text(p);
  if (!t) return t.error();
  auto v = parse_limit(*t);
  if (!v) return app_error(v.error().message() + " in", p);
  return *v;
}

Result<MemEvents> Hierarchy::events(const std::string& rel) const {
  MemEvents e;
  if (v_ == Version::V2) {
    auto t = read_text(abs(rel) + "/memory.events");
    if (!t) return t.error();
    auto kv = parse_flat_keyed(*t);
    e.low = kv["low"], e.high = kv["high"], e.max = kv["max"], e.oom = kv["oom"];
    e.oom_kill = kv["oom_kill"], e.oom_group_kill = kv["oom_group_kill"];
    return e;
  }
  auto t = read_text(abs(rel) + "/memory.oom_control");
  if (!t) return t.error();
  auto kv = parse_flat_keyed(*t);
  e.oom_kill = kv["oom_kill"];
  e.under_oom = kv["under_oom"] != 0;
  e.oom_kill_disable = kv["oom_kill_disable"] != 0;
  auto f = read_u64_file(abs(rel) + "/memory.failcnt");
  if (f) e.max = *f;
  return e;
}

Result<std::map<std::string, uint64_t>> Hierarchy::stat(const std::string& rel) const {
  auto t = read_text(abs(rel) + "/memory.stat");
  if (!t) return t.error();
  return parse_flat_keyed(*t);
}

Result<MemUsage> Hierarchy::read(const std::string& rel) const {
  MemUsage m;
  auto u = usage(rel);
  if (!u) return u.error();
  m.usage_bytes = *u;
  auto l = limit(rel);
  if (!l) return l.error();
  m.limit_bytes = *l;
  auto p = read_u64_file(abs(rel) + (v_ == Version::V1 ? "/memory.max_usage_in_bytes" : "/memory.peak"));
  m.peak_bytes = p ? *p : 0;
  m.high_bytes = kUnlimited;
  if (v_ == Version::V2) {
    auto h = read_text(abs(rel) + "/memory.high");
    if (h) m.high_bytes = parse_limit(*h).value_or(kUnlimited);
  }
  auto e = events(rel);
  if (!e) return e.error();
  m.events = *e;
  return m;
}

Status Hierarchy::set_limit(const std::string& rel, uint64_t bytes) const {
  std::string v = bytes == kUnlimited ? (v_ == Version::V1 ? "-1" : "max") : std::to_string(bytes);
  return write_text(abs(rel) + "/" + limit_file(), v);
}

Status Hierarchy::set_high(const std::string& rel, uint64_t bytes) const {
  if (v_ != Version::V2) return app_error("memory.high exists only on cgroup v2:", abs(rel));
  return write_text(abs(rel) + "/memory.high", bytes == kUnlimited ? "max" : std::to_string(bytes));
}

Status Hierarchy::set_oom_kill_disable(const std::string& rel, bool disable) const {
  if (v_ != Version::V1) return app_error("memory.oom_control exists only on cgroup v1:", abs(rel));
  return write_text(abs(rel) + "/memory.oom_control", disable ? "1" : "0");
}

Status Hierarchy::create(const std::string& rel) const {
  if (v_ == Version::V2) {
    std::string parent = rel.substr(0, rel.rfind('/'));
    auto ctl = read_text(abs(parent) + "/cgroup.subtree_control");
    if (ctl && ctl->find("memory") == std::string::npos) {
      auto s = write_text(abs(parent) + "/cgroup.subtree_control", "+memory");
      if (!s) return s;
    }
  }
  if (::mkdir(abs(rel).c_str(), 0755) != 0) {
    if (errno == EACCES || errno == EPERM)
      return sys_error("create cgroup (run as root)", abs(rel));
    return sys_error("create cgroup", abs(rel));
  }
  return {};
}

Result<std::vector<pid_t>> Hierarchy::procs(const std::string& rel) const {
  auto t = read_text(abs(rel) + "/cgroup.procs");
  if (!t) return t.error();
  std::vector<pid_t> out;
  for (auto l : split_lines(*t)) {
    uint64_t p;
    if (parse_u64(l, p)) out.push_back(static_cast<pid_t>(p));
  }
  return out;
}

Status Hierarchy::move_pid(const std::string& rel, pid_t pid) const {
  return write_text(abs(rel) + "/cgroup.procs", std::to_string(pid));
}

Status Hierarchy::remove(const std::string& rel) const {
  if (rel.empty() || rel == "/") return app_error("refusing to remove the root cgroup");
  std::string dir = abs(rel);
  if (DIR* d = ::opendir(dir.c_str())) {
    auto kids = child_dirs(d);
    ::closedir(d);
    for (const auto& k : kids) {
      auto s = remove(join_rel(rel, k.name));
      if (!s) return s;
    }
  } else if (errno == ENOENT) {
    return {};
  }
  // A paused v1 cgroup (oom_kill_disable) cannot reap SIGKILLed tasks until the
  // OOM killer is allowed back, so re-enable it first.
  if (v_ == Version::V1) (void)set_oom_kill_disable(rel, false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY) return sys_error("remove cgroup", dir);
    auto pids = procs(rel);
    if (pids)
      for (pid_t p : *pids) ::kill(p, SIGKILL);
    if (std::chrono::steady_clock::now() > deadline) return sys_error("remove cgroup (tasks did not exit)", dir, EBUSY);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace ow::cg
