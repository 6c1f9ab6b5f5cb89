#include "trace/proc_sampler.hpp"

#include <cerrno>
#include <charconv>
#include <algorithm>
#include <set>

#include "util/fs.hpp"

namespace ow::trace {

namespace {

// "RssAnon:\t    1234 kB" -> bytes
std::optional<uint64_t> kb_field(std::string_view text, std::string_view key) {
  size_t p = 0;
  while ((p = text.find(key, p)) != std::string_view::npos) {
    if (p == 0 || text[p - 1] == '\n') break;
    p += key.size();
  }
  if (p == std::string_view::npos) return std::nullopt;
  p += key.size();
  while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) p++;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data() + p, text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data() + p) return std::nullopt;
  return v * 1024;
}

}  // namespace

std::optional<RssSample> parse_status(std::string_view text) {
  RssSample s;
  auto anon = kb_field(text, "RssAnon:");
  if (!anon) return std::nullopt;
  s.anon = *anon;
  s.file = kb_field(text, "RssFile:").value_or(0);
  s.shmem = kb_field(text, "RssShmem:").value_or(0);
  if (text.rfind("Name:", 0) == 0) {
    auto e = text.find('\n');
    auto v = text.substr(5, e == std::string_view::npos ? std::string_view::npos : e - 5);
    while (!v.empty() && (v.front() == '\t' || v.front() == ' ')) v.remove_prefix(1);
    s.comm = std::string(v);
  }
  return s;
}

std::optional<uint64_t> parse_private_dirty(std::string_view smaps_rollup) {
  return kb_field(smaps_rollup, "Private_Dirty:");
}

void ProcSampler::account(uint32_t tgid, const RssSample& now) {
  auto& u = totals_[tgid];
  u.tgid = tgid;
  if (u.comm.empty() || u.comm != now.comm) u.comm = now.comm;
  RssSample before;
  if (auto it = last_.find(tgid); it != last_.end()) before = it->second;
  auto step = [&](Kind k, uint64_t b, uint64_t a) {
    auto& kb = u.kinds[static_cast<int>(k)];
    if (a > b) kb.charged += a - b;
    else kb.uncharged += b - a;
  };
  step(Kind::Anon, before.anon, now.anon);
  step(Kind::File, before.file, now.file);
  step(Kind::Shmem, before.shmem, now.shmem);
  last_[tgid] = now;
}

Status ProcSampler::sample() {
  std::set<uint32_t> seen;
  auto subtree = h_.walk(rel_);
  if (subtree.empty()) {
    auto id = h_.id_of(rel_);
    if (!id) return id.error();
    subtree.emplace(*id, rel_);
  }
  for (const auto& [id, rel] : subtree) {
    auto procs = h_.procs(rel);
    if (!procs) continue;  // removed meanwhile
    for (pid_t pid : *procs) {
      auto text = read_text(proc_ + "/" + std::to_string(pid) + "/status");
      if (!text) {
        if (text.error().err != ENOENT && text.error().err != ESRCH) unreadable_++;
        continue;  // ENOENT: exited between the two reads
      }
      auto s = parse_status(*text);
      if (!s) continue;  // kernel thread
      uint32_t tgid = static_cast<uint32_t>(pid);
      seen.insert(tgid);
      if (first_) {
        last_[tgid] = *s;  // baseline: growth from here on
        totals_[tgid] = ProcUsage{tgid, s->comm, {}};
      } else if (!last_.count(tgid)) {
        // New since the start: only the anon pages it dirtied itself are its
        // growth; the rest is shared with its parent or was charged before.
        RssSample held = *s;
        auto sm = read_text(proc_ + "/" + std::to_string(pid) + "/smaps_rollup");
        auto own = sm ? parse_private_dirty(*sm) : std::nullopt;
        held.anon = s->anon - std::min(s->anon, own.value_or(s->anon));
        held.file = s->file;
        held.shmem = s->shmem;
        last_[tgid] = held;
        totals_[tgid] = ProcUsage{tgid, s->comm, {}};
        account(tgid, *s);
      } else {
        account(tgid, *s);
      }
    }
  }
  // gone (exited or moved out): what it held is given back
  for (auto it = last_.begin(); it != last_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    RssSample zero;
    zero.comm = it->second.comm;
    uint32_t tgid = it->first;
    account(tgid, zero);
    it = last_.erase(it);
  }
  first_ = false;
  return {};
}

}  // namespace ow::trace
