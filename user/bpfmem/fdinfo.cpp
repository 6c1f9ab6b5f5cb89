#include "bpfmem/fdinfo.hpp"

#include <charconv>

#include "util/fs.hpp"

namespace ow::bpfmem {

FdInfo FdInfo::parse(std::string_view text) {
  FdInfo f;
  for (auto line : split_lines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    auto key = trim(line.substr(0, colon));
    auto val = trim(line.substr(colon + 1));
    if (key.empty() || key.find_first_of(" \t") != std::string_view::npos) continue;
    f.kv_[std::string(key)] = std::string(val);
  }
  return f;
}

std::optional<std::string> FdInfo::str(const std::string& key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> FdInfo::u64(const std::string& key) const {
  auto s = str(key);
  if (!s || s->empty()) return std::nullopt;
  std::string_view v = *s;
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    v.remove_prefix(2);
    base = 16;
  }
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return out;
}

FdKind classify_fd_target(std::string_view t) {
  if (t == "anon_inode:bpf-map") return FdKind::Map;
  if (t == "anon_inode:bpf-prog") return FdKind::Prog;
  if (t == "anon_inode:bpf_link") return FdKind::Link;
  if (t.rfind("anon_inode:bpf", 0) == 0) return FdKind::Other;
  return FdKind::NotBpf;
}

}  // namespace ow::bpfmem
