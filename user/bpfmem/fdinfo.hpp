// Pure parsers of the procfs text that tells which BPF object a file
// descriptor refers to and how much memory it uses. No I/O: tested on
// literal strings.
//
// /proc/<pid>/fdinfo/<fd> of a BPF fd holds "key:\tvalue" lines:
//   map:  map_type, key_size, value_size, max_entries, map_flags, memlock, map_id
//   prog: prog_type, prog_jited, prog_tag, memlock, prog_id, run_time_ns, ...
//   link: link_type, link_id, prog_tag, prog_id
// `memlock` is the kernel's own figure of the object's memory; for maps it
// is exact since 6.4 (map_mem_usage), an estimate from sizes before that.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ow::bpfmem {

class FdInfo {
 public:
  // Unparsable lines are skipped; a later duplicate key wins.
  static FdInfo parse(std::string_view text);
  std::optional<uint64_t> u64(const std::string& key) const;  // decimal, or 0x hex
  std::optional<std::string> str(const std::string& key) const;

 private:
  std::map<std::string, std::string> kv_;
};

// What an fd's /proc/<pid>/fd/<n> link target says it is.
enum class FdKind { NotBpf, Map, Prog, Link, Other };
// "anon_inode:bpf-map" -> Map, "anon_inode:bpf-prog" -> Prog,
// "anon_inode:bpf_link" -> Link, other "anon_inode:bpf*" -> Other.
FdKind classify_fd_target(std::string_view target);

}  // namespace ow::bpfmem
