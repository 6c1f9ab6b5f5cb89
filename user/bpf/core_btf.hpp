// The kernel's BTF cut down to what CO-RE needs, kept in a cache file.
//
// libbpf 1.1 parses the whole vmlinux BTF (~150k types, ~6 ms) for every
// load and scans it once per relocated type name (~0.4 ms each). A BPF
// object's CO-RE relocations only look at the types whose names its own BTF
// holds, so a BTF of those types (every kernel type of the same name, with the
// structs, unions, arrays, typedefs, enums and integers they embed; pointers
// kept as pointers to void, which CO-RE never follows for field and enum
// relocations) resolves them exactly as the whole one does. It is built once
// per kernel build and object, written under the cache dir, and handed to
// libbpf as `btf_custom_path`; the cgroup iterator's attach target (the BTF id
// of `bpf_iter_cgroup`) is kept beside it, so a snapshots-only load parses no
// kernel BTF at all.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

struct btf;

namespace ow::bpf {

struct CoreBtf {
  std::string path;       // the cut-down BTF, for bpf_object_open_opts.btf_custom_path
  int iter_cgroup_id = 0;  // BTF id of FUNC bpf_iter_cgroup in the kernel's BTF
  // Kernel BTF ids of STRUCT cgroup and STRUCT mem_cgroup: what the snapshot
  // program casts to (the cut-down BTF's own ids are not the kernel's).
  int cgroup_type_id = 0, memcg_type_id = 0;
  // BTF id of FUNC bpf_rdonly_cast (the kfunc, 6.2+) in the kernel's BTF; 0
  // none. Which snapshot program a load on the cache picks, and the id its
  // calls are patched with.
  int rdonly_cast_id = 0;
  bool built = false;      // made by this call (the cache was missing, stale or corrupt)
};

// Roots: the names (without a ___flavor suffix) of the structs, unions and
// enums of `local` (a BPF object's BTF). Returns the raw BTF of every type of
// `vmlinux` of such a name, with what it embeds. Pure.
Result<std::string> core_btf_subset(const struct btf* local, const struct btf* vmlinux);

// The identity of the running kernel's BTF and of the object (`object` is
// the object's ELF bytes): release, version, the BTF's header, size and last
// page, the object's hash. Two preads and an uname.
Result<uint64_t> core_btf_key(std::string_view object);

// The cached BTF in `dir` when its key and checksum match and the iterator's
// id still names bpf_iter_cgroup in the kernel's BTF (and the struct ids
// cgroup and mem_cgroup); else it is built
// (parsing the kernel's BTF once) from `object`, the BPF object's ELF bytes,
// and written (the dir made 0700 when missing). A dir that is not this
// user's, that others can write or that cannot be written is an error, like
// a cache that cannot be written: the caller loads without it.
Result<CoreBtf> core_btf_for(const std::string& dir, std::string_view object);

}  // namespace ow::bpf
