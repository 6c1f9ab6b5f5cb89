#include "bpfmem/holders.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "bpfmem/fdinfo.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"

namespace ow::bpfmem {
namespace {

bool all_digits(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

void scan_process(const std::string& proc_root, pid_t pid, Holders& out) {
  std::string base = proc_root + "/" + std::to_string(pid);
  UniqueFd dirfd(::open((base + "/fd").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) {
    ++out.processes_unreadable;
    return;
  }
  DIR* d = ::fdopendir(dirfd.get());
  if (!d) {
    ++out.processes_unreadable;
    return;
  }
  dirfd.release();  // owned by d now
  ++out.processes_scanned;
  std::string comm;
  while (dirent* e = ::readdir(d)) {
    if (!all_digits(e->d_name)) continue;
    char buf[64];
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, buf, sizeof buf - 1);
    if (n <= 0) continue;
    FdKind kind = classify_fd_target(std::string_view(buf, static_cast<size_t>(n)));
    if (kind != FdKind::Map && kind != FdKind::Prog && kind != FdKind::Link) continue;
    auto text = read_text(base + "/fdinfo/" + e->d_name);
    if (!text) continue;  // closed meanwhile
    auto info = FdInfo::parse(*text);
    if (comm.empty()) comm = std::string(trim(read_text(base + "/comm").value_or("")));
    Holder h{pid, comm, std::atoi(e->d_name), kind == FdKind::Link};
    if (kind == FdKind::Map) {
      if (auto id = info.u64("map_id")) out.maps[static_cast<uint32_t>(*id)].push_back(h);
    } else if (auto id = info.u64("prog_id")) {  // a link's fdinfo names its program too
      out.progs[static_cast<uint32_t>(*id)].push_back(h);
    }
  }
  ::closedir(d);
}

}  // namespace

Holders scan_holders(const std::string& proc_root, pid_t skip_pid) {
  Holders out;
  DIR* d = ::opendir(proc_root.c_str());
  if (!d) return out;
  std::vector<pid_t> pids;
  while (dirent* e = ::readdir(d))
    if (all_digits(e->d_name)) pids.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  ::closedir(d);
  for (pid_t p : pids)
    if (p != skip_pid) scan_process(proc_root, p, out);
  return out;
}

}  // namespace ow::bpfmem
