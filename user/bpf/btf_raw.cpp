#include "bpf/btf_raw.hpp"

#include <fcntl.h>
#include <linux/btf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "util/fd.hpp"

namespace ow::bpf {
namespace {

// Bytes that follow a struct btf_type of this kind (linux/btf.h's layout).
bool trailing_bytes(unsigned kind, unsigned vlen, size_t& out) {
  switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: out = 4; return true;
    case BTF_KIND_ARRAY: out = sizeof(btf_array); return true;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: out = size_t{vlen} * sizeof(btf_member); return true;
    case BTF_KIND_ENUM: out = size_t{vlen} * sizeof(btf_enum); return true;
    case BTF_KIND_ENUM64: out = size_t{vlen} * sizeof(btf_enum64); return true;
    case BTF_KIND_FUNC_PROTO: out = size_t{vlen} * sizeof(btf_param); return true;
    case BTF_KIND_DATASEC: out = size_t{vlen} * sizeof(btf_var_secinfo); return true;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG: out = 0; return true;
    default: return false;
  }
}

// Read in pieces through one small buffer: the kernel's BTF is ~5 MB, and
// a buffer that size costs more in page faults than the scan itself.
constexpr size_t kChunk = 128 << 10;

Result<btf_header> read_header(const ReadAt& read_at) {
  btf_header hdr;
  if (read_at(&hdr, sizeof hdr, 0) != static_cast<ssize_t>(sizeof hdr)) return app_error("BTF shorter than its header");
  if (hdr.magic != BTF_MAGIC || hdr.hdr_len < sizeof hdr) return app_error("not BTF (bad magic or header length)");
  return hdr;
}

// The offset of `name` in the string section (names are deduplicated: one
// at most); 0 when it is not there. Chunks overlap by the needle's length
// less one.
Result<uint64_t> name_offset(const ReadAt& read_at, const btf_header& hdr, std::string_view name,
                             std::vector<char>& buf) {
  std::string needle;
  needle.append(1, '\0').append(name).append(1, '\0');
  if (name.empty() || needle.size() > buf.size() / 2) return 0;
  const uint64_t strs_at = uint64_t{hdr.hdr_len} + hdr.str_off;
  for (uint64_t p = 0; p < hdr.str_len;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), hdr.str_len - p));
    for (size_t got = 0; got < n;) {
      ssize_t r = read_at(buf.data() + got, n - got, strs_at + p + got);
      if (r <= 0) return app_error("BTF ends inside its string section");
      got += static_cast<size_t>(r);
    }
    if (size_t at = std::string_view(buf.data(), n).find(needle); at != std::string_view::npos) return p + at + 1;
    if (p + n >= hdr.str_len) break;
    p += n - (needle.size() - 1);
  }
  return 0;
}

// The id of the FUNC whose name is at `name_off`, walking the types in id
// order (each a struct btf_type and its kind's trailer); 0 when none is.
Result<int> func_named(const ReadAt& read_at, const btf_header& hdr, uint64_t name_off, std::vector<char>& buf) {
  const uint64_t types_at = uint64_t{hdr.hdr_len} + hdr.type_off;
  size_t have = 0, pos = 0;  // bytes in buf, and the next record's start in it
  uint64_t next = 0;         // the type section's next unread byte
  // At least k bytes from pos in buf, refilling (and growing for a record
  // larger than the buffer); false at the section's end.
  auto ensure = [&](size_t k) -> Result<bool> {
    while (have - pos < k) {
      if (next >= hdr.type_len) return false;
      std::memmove(buf.data(), buf.data() + pos, have - pos);
      have -= pos;
      pos = 0;
      if (k > buf.size()) buf.resize(k);
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size() - have, hdr.type_len - next));
      ssize_t r = read_at(buf.data() + have, n, types_at + next);
      if (r <= 0) return app_error("BTF ends inside its type section");
      have += static_cast<size_t>(r);
      next += static_cast<uint64_t>(r);
    }
    return true;
  };
  for (int id = 1;; ++id) {
    btf_type t;
    auto head = ensure(sizeof t);
    if (!head) return head.error();
    if (!*head) {
      if (have == pos) return 0;  // the section ends between records
      return app_error("BTF ends inside type " + std::to_string(id));
    }
    std::memcpy(&t, buf.data() + pos, sizeof t);
    const unsigned kind = BTF_INFO_KIND(t.info);
    if (kind == BTF_KIND_FUNC && t.name_off == name_off) return id;
    size_t extra = 0;
    if (!trailing_bytes(kind, BTF_INFO_VLEN(t.info), extra))
      return app_error("BTF type " + std::to_string(id) + " has unknown kind " + std::to_string(kind));
    auto whole = ensure(sizeof t + extra);
    if (!whole) return whole.error();
    if (!*whole) return app_error("BTF ends inside type " + std::to_string(id));
    pos += sizeof t + extra;
  }
}

// `f` over the kernel's BTF file; its errors name the file.
template <class T, class F>
Result<T> on_kernel_btf(F f) {
  UniqueFd fd(::open(kVmlinuxBtf, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("no kernel BTF (needs CONFIG_DEBUG_INFO_BTF=y)", kVmlinuxBtf);
  Result<T> r = f([&fd](void* dst, size_t n, uint64_t off) {
    return ::pread(fd.get(), dst, n, static_cast<off_t>(off));
  });
  if (!r) return app_error(r.error().message(), kVmlinuxBtf);
  return r;
}

}  // namespace

Result<int> btf_func_id(const ReadAt& read_at, std::string_view name) {
  auto hdr = read_header(read_at);
  if (!hdr) return hdr.error();
  std::vector<char> buf(kChunk);
  auto off = name_offset(read_at, *hdr, name, buf);
  if (!off) return off.error();
  if (*off == 0) return 0;
  return func_named(read_at, *hdr, *off, buf);
}

Result<bool> kernel_btf_has_name(const std::string& name) {
  return on_kernel_btf<bool>([&](const ReadAt& read_at) -> Result<bool> {
    auto hdr = read_header(read_at);
    if (!hdr) return hdr.error();
    std::vector<char> buf(kChunk);
    auto off = name_offset(read_at, *hdr, name, buf);
    if (!off) return off.error();
    return *off > 0;
  });
}

Result<int> btf_func_id(std::string_view raw, std::string_view name) {
  return btf_func_id(
      [raw](void* dst, size_t n, uint64_t off) -> ssize_t {
        if (off >= raw.size()) return 0;
        n = static_cast<size_t>(std::min<uint64_t>(n, raw.size() - off));
        std::memcpy(dst, raw.data() + off, n);
        return static_cast<ssize_t>(n);
      },
      name);
}

Result<int> kernel_btf_func_id(std::string_view name) {
  return on_kernel_btf<int>([&](const ReadAt& read_at) { return btf_func_id(read_at, name); });
}

}  // namespace ow::bpf
