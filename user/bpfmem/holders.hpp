// Which processes hold BPF maps and programs: a scan of /proc/*/fd. A map or
// program stays alive while any process holds an fd to it (or it is pinned,
// or a program/link references it); this is the "owning process" view.
// The proc root is injected so the scan is tested on a fake tree.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ow::bpfmem {

struct Holder {
  pid_t pid = 0;
  std::string comm;
  int fd = -1;
  bool via_link = false;  // programs only: the fd is a bpf_link to the program
};

struct Holders {
  std::map<uint32_t, std::vector<Holder>> maps;   // map id -> fds held
  std::map<uint32_t, std::vector<Holder>> progs;  // prog id -> fds held (direct or via a link)
  int processes_scanned = 0;
  int processes_unreadable = 0;  // vanished, or not permitted (run as root)
};

// Scans every /proc/<pid>/fd (only the fds whose link target is a BPF
// anon inode get their fdinfo read). `skip_pid` (usually our own pid) is
// left out: our own lookups would otherwise show up as holders.
Holders scan_holders(const std::string& proc_root = "/proc", pid_t skip_pid = 0);

}  // namespace ow::bpfmem
