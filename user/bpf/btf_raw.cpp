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

}  // namespace

Result<bool> kernel_btf_has_name(const std::string& name) {
  UniqueFd fd(::open(kVmlinuxBtf, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("no kernel BTF (needs CONFIG_DEBUG_INFO_BTF=y)", kVmlinuxBtf);
  btf_header hdr;
  if (::pread(fd.get(), &hdr, sizeof hdr, 0) != static_cast<ssize_t>(sizeof hdr) || hdr.magic != BTF_MAGIC ||
      hdr.hdr_len < sizeof hdr)
    return app_error("unreadable kernel BTF header in", kVmlinuxBtf);
  std::string strs(hdr.str_len, '\0');
  off_t off = static_cast<off_t>(hdr.hdr_len) + hdr.str_off;
  for (size_t got = 0; got < strs.size();) {
    ssize_t n = ::pread(fd.get(), strs.data() + got, strs.size() - got, off + static_cast<off_t>(got));
    if (n <= 0) return sys_error("read kernel BTF strings", kVmlinuxBtf);
    got += static_cast<size_t>(n);
  }
  std::string needle = std::string(1, '\0') + name + std::string(1, '\0');
  return strs.find(needle) != std::string::npos;
}

Result<int> btf_func_id(const ReadAt& read_at, std::string_view name) {
  btf_header hdr;
  if (read_at(&hdr, sizeof hdr, 0) != static_cast<ssize_t>(sizeof hdr)) return app_error("BTF shorter than its header");
  if (hdr.magic != BTF_MAGIC || hdr.hdr_len < sizeof hdr) return app_error("not BTF (bad magic or header length)");
  if (name.empty()) return 0;
  const uint64_t types_at = uint64_t{hdr.hdr_len} + hdr.type_off, strs_at = uint64_t{hdr.hdr_len} + hdr.str_off;
  // Read in pieces through one small buffer: the kernel's BTF is ~5 MB, and
  // a buffer that size costs more in page faults than the scan itself.
  constexpr size_t kChunk = 128 << 10;
  std::vector<char> buf(kChunk);
  auto fill = [&](uint64_t at, size_t n) -> bool {
    for (size_t got = 0; got < n;) {
      ssize_t r = read_at(buf.data() + got, n - got, at + got);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  };
  // The name's offset in the string section (names are deduplicated: one at
  // most). Chunks overlap by the needle's length less one.
  std::string needle;
  needle.append(1, '\0').append(name).append(1, '\0');
  if (needle.size() > kChunk / 2) return 0;
  uint64_t name_off = 0;
  for (uint64_t p = 0; p < hdr.str_len && name_off == 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, hdr.str_len - p));
    if (!fill(strs_at + p, n)) return app_error("BTF ends inside its string section");
    std::string_view chunk(buf.data(), n);
    if (size_t at = chunk.find(needle); at != std::string_view::npos) name_off = p + at + 1;
    if (p + n >= hdr.str_len) break;
    p += n - (needle.size() - 1);
  }
  if (name_off == 0) return 0;
  // The types, in id order: each a struct btf_type and its kind's trailer.
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
  UniqueFd fd(::open(kVmlinuxBtf, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("no kernel BTF (needs CONFIG_DEBUG_INFO_BTF=y)", kVmlinuxBtf);
  auto id = btf_func_id(
      [&fd](void* dst, size_t n, uint64_t off) { return ::pread(fd.get(), dst, n, static_cast<off_t>(off)); }, name);
  if (!id) return app_error(id.error().message(), kVmlinuxBtf);
  return id;
}

}  // namespace ow::bpf
