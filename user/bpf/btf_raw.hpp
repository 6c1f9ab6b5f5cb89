// Lookups in the kernel's BTF (/sys/kernel/btf/vmlinux) without parsing it
// into libbpf's indexes (~7 ms): one read and a linear pass.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ow::bpf {

inline constexpr char kVmlinuxBtf[] = "/sys/kernel/btf/vmlinux";

// Whether some type or member of the kernel's BTF is named `name`, from its
// string section alone (about 1.5 ms): the iterators' context structs
// (bpf_iter__<target> names nothing else).
Result<bool> kernel_btf_has_name(const std::string& name);

// pread's contract: up to n bytes at off into dst; 0 at the end, < 0 an error.
using ReadAt = std::function<ssize_t(void* dst, size_t n, uint64_t off)>;

// The BTF id of the FUNC `name` in the raw BTF `read_at` reads (header
// first); 0 when there is none. An error for bytes that are not BTF or end
// inside a type. Reads through one 128 KiB buffer.
Result<int> btf_func_id(const ReadAt& read_at, std::string_view name);
// The same over a blob in memory. Pure.
Result<int> btf_func_id(std::string_view raw, std::string_view name);

// btf_func_id over the kernel's BTF.
Result<int> kernel_btf_func_id(std::string_view name);

}  // namespace ow::bpf
