#include "hintsvc/service.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "bpf/loader.hpp"
#include "bpfmem/kernel.hpp"
#include "gomemlimit/env.hpp"
#include "gomemlimit/inputs.hpp"
#include "gomemlimit/usage_line.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace ow::hintsvc {

HintService::HintService(const cg::Hierarchy& h, HintOptions o)
    : h_(h), o_(std::move(o)), ids_(h) {}

HintService::~HintService() = default;

Result<std::unique_ptr<HintService>> HintService::open(const cg::Hierarchy& h, HintOptions o) {
  if (auto v = gomemlimit::validate(o.params); !v) return v.error();
  if (o.period_ns <= 0) return app_error("hint period must be positive");
  if (o.log_period_ns <= 0) return app_error("hint log period must be positive");
  if (o.republish_period_ns <= 0) return app_error("hint republish period must be positive");
  auto roots = gomemlimit::outer_roots(o.roots);
  if (!roots) return roots.error();
  o.roots = std::move(*roots);
  o.publish.unpin_when_empty = false;

  std::unique_ptr<HintService> s(new HintService(h, std::move(o)));
  auto p = gomemlimit::Publisher::open(s->o_.publish, true);
  if (!p) {
    spdlog::warn("GOMEMLIMIT hints: no pinned BPF map ({}); publishing the xattr and {} only", p.error().message(),
                 s->o_.publish.hint_dir);
    p = gomemlimit::Publisher::open(s->o_.publish, false);
    if (!p) return p.error();
  }
  s->pub_ = std::move(*p);

  if (s->o_.measure_ebpf) {
    if (s->o_.loader) {
      s->loader_ = s->o_.loader;
    } else {
      bpf::LoaderOptions wanted;
      wanted.oom_events = false;
      wanted.bpfmem = true;
      auto l = bpf::Loader::open(wanted);
      if (l) {
        s->own_loader_ = std::move(*l);
        s->loader_ = s->own_loader_.get();
      } else {
        s->charges_.source = "unavailable: " + l.error().message();
      }
    }
  } else {
    s->charges_.source = "unavailable: not measured (measure_ebpf off)";
  }
  return s;
}

Status HintService::collect_ebpf(const std::unordered_map<uint64_t, std::string>* walked) {
  Charges c;
  if (!loader_ || !loader_->bpfmem_loaded()) {
    c.source = loader_ ? "unavailable: no bpf_map iterator on this kernel (5.8+)" : charges_.source;
    charges_ = std::move(c);
    return {};
  }
  auto recs = bpfmem::read_map_records(*loader_);
  if (!recs) {
    c.source = "unavailable: " + recs.error().message();
    charges_ = std::move(c);
    return recs.error();
  }
  uint64_t root_id = 0;
  std::vector<std::pair<std::string, uint64_t>> charged;
  charged.reserve(recs->size());
  for (const auto& r : *recs) {
    // As bpfmem::collect: libbpf's probe maps die with their probe program.
    if (r.usercnt == 0 && std::strncmp(r.name, "libbpf_", 7) == 0) continue;
    auto memlock = bpfmem::map_memlock(r.id);
    if (!memlock) continue;  // freed since the walk
    ++c.maps;
    if (r.flags & OW_BPF_MAP_UNCHARGED) {
      charged.emplace_back("/", *memlock);
      continue;
    }
    if (root_id == 0) root_id = h_.id_of("/").value_or(0);
    const std::string* known = nullptr;
    if (walked) {
      if (auto it = walked->find(r.memcg_id); it != walked->end()) known = &it->second;
    }
    if (r.memcg_id == root_id) charged.emplace_back("/", *memlock);
    else if (known) charged.emplace_back(*known, *memlock);
    else charged.emplace_back(ids_.path(r.memcg_id), *memlock);  // outside the roots: cached, rewalked on a miss
  }
  c.measured = true;
  c.source = "iter/bpf_map";
  c.subtree = gomemlimit::subtree_sums(charged);
  charges_ = std::move(c);
  return {};
}

uint64_t HintService::ebpf_for(const std::string& rel) const {
  auto it = charges_.subtree.find(rel);
  return it == charges_.subtree.end() ? 0 : it->second;
}

bool HintService::selected(const std::string& rel) const { return gomemlimit::under_roots(rel, o_.roots); }

bool HintService::covers(const std::string& cgroup) const {
  auto rel = h_.resolve(cgroup);
  return rel && selected(*rel);
}

Result<std::string> HintService::resolve_target(const std::string& cgroup) const {
  auto rel = h_.resolve(cgroup);
  if (!rel) return rel.error();
  if (!selected(*rel)) return app_error("no GOMEMLIMIT hints for " + *rel + ": not under the hinted subtrees");
  return *rel;
}

bool HintService::withdraw(uint64_t id) {
  auto it = published_.find(id);
  if (it == published_.end()) return false;
  auto r = pub_->unpublish({h_.abs(it->second.cgroup), id});
  if (!r.all_ok()) spdlog::warn("withdraw the GOMEMLIMIT hint of {}: {}", it->second.cgroup, r.failures());
  published_.erase(it);
  ++withdrawn_total_;
  return true;
}

HintService::Outcome HintService::publish_one(const std::string& rel, uint64_t id, const gomemlimit::Breakdown& b,
                                              bool may_confirm, int64_t now_ns, std::string* why) {
  if (!b.ok) {
    if (why) *why = b.error;
    withdraw(id);
    auto& prev = no_hint_[id];
    if (prev != b.error) {  // once per cgroup and cause; a flood of them (first tick) mostly at debug
      if (no_hint_warnings_++ < 10) spdlog::warn("no GOMEMLIMIT hint for {}: {}", rel, b.error);
      else spdlog::debug("no GOMEMLIMIT hint for {}: {}", rel, b.error);
    }
    prev = b.error;
    return Outcome::NoHint;
  }
  no_hint_.erase(id);
  auto it = published_.find(id);
  bool confirm = may_confirm && it != published_.end() && it->second.complete &&
                 it->second.hint_bytes == b.gomemlimit_bytes && it->second.cgroup == rel &&
                 now_ns - it->second.written_ns < o_.republish_period_ns;
  gomemlimit::Target t{h_.abs(rel), id};
  auto r = confirm ? pub_->confirm(t, b) : pub_->publish(t, b);
  bool has_map = pub_->map_fd() >= 0;
  bool took = r.xattr.ok() || r.file.ok() || (has_map && r.map.ok());
  if (!has_map) r.map = {};  // no map at all was said once at open: not a failure of this cgroup
  if (!took) {
    if (why) *why = r.failures();
    return Outcome::Failed;
  }
  if (!r.all_ok() && why) *why = r.failures();
  auto& e = published_[id];
  e.cgroup = rel;
  e.cgroup_id = id;
  e.hint_bytes = b.gomemlimit_bytes;
  e.breakdown = b;
  e.complete = r.all_ok();
  if (!confirm) e.written_ns = now_ns;
  return confirm ? Outcome::Published : Outcome::Rewritten;
}

bool HintService::tick(int64_t now_ns, bool force) { return run_tick(now_ns, force, nullptr); }

bool HintService::tick(int64_t now_ns, const sampler::Snapshot& snap, bool force) {
  return run_tick(now_ns, force, &snap);
}

Result<uint64_t> HintService::publish_now(const std::string& rel, gomemlimit::CalcInput in) {
  auto id = h_.id_of(rel);
  if (!id) return id.error();
  if (!charges_.measured && o_.measure_ebpf && loader_) (void)collect_ebpf();
  in.ebpf_bytes = ebpf_for(rel);
  auto breakdown = gomemlimit::compute(in, o_.params);
  if (!o_.include_unlimited && breakdown.limit_source == "machine") {
    withdraw(*id);
    return app_error("no GOMEMLIMIT hint for " + rel + ": no limit below machine memory on it or its ancestors");
  }
  std::string why;
  switch (publish_one(rel, *id, breakdown, false, last_tick_ns_.value_or(0), &why)) {
    case Outcome::Published:
    case Outcome::Rewritten:
      if (!why.empty()) spdlog::warn("GOMEMLIMIT hint of {} published, but not everywhere: {}", rel, why);
      return breakdown.gomemlimit_bytes;
    case Outcome::NoHint:
      return app_error(rel + ": " + why);
    case Outcome::Failed:
      break;
  }
  return app_error("publish the GOMEMLIMIT hint of " + rel + ": " + why);
}

Result<uint64_t> HintService::refresh(const std::string& cgroup) {
  if (shut_) return app_error("GOMEMLIMIT hint service is shut down");
  auto rel = resolve_target(cgroup);
  if (!rel) return rel.error();
  auto in = gomemlimit::read_inputs(h_, *rel, o_.meminfo_path);
  if (!in) return in.error();
  return publish_now(*rel, std::move(*in));
}

Result<uint64_t> HintService::lower_before(const std::string& cgroup, uint64_t new_limit_bytes) {
  if (shut_) return app_error("GOMEMLIMIT hint service is shut down");
  auto rel = resolve_target(cgroup);
  if (!rel) return rel.error();
  auto in = gomemlimit::read_inputs(h_, *rel, o_.meminfo_path);
  if (!in) return in.error();
  auto& own = in->levels.front();
  own.limit_bytes = std::min(own.limit_bytes, new_limit_bytes);
  if (!charges_.measured && o_.measure_ebpf && loader_) (void)collect_ebpf();
  in->ebpf_bytes = ebpf_for(*rel);
  auto breakdown = gomemlimit::compute(*in, o_.params);
  if (!breakdown.ok)  // keep the current hint: refresh() after the limit write withdraws it
    return app_error("no GOMEMLIMIT hint for " + *rel + " at a limit of " + format_size(new_limit_bytes) + ": " +
                     breakdown.error);
  return publish_now(*rel, std::move(*in));  // the same inputs: the same, positive hint
}

bool HintService::maybe_log(int64_t now_ns) {
  if (shut_) return false;
  if (last_log_ns_ && now_ns - *last_log_ns_ < o_.log_period_ns) return false;
  last_log_ns_ = now_ns;
  auto line = [&](const std::string& rel, const gomemlimit::Breakdown& breakdown, std::string current) {
    gomemlimit::UsageLine l;
    l.cgroup = rel;
    l.usage_bytes = h_.usage(rel).value_or(0);
    l.limit_bytes = breakdown.effective_limit_bytes;
    l.ebpf_bytes = breakdown.ebpf_bytes;
    l.current = std::move(current);
    if (breakdown.ok) l.recommended = breakdown.gomemlimit_bytes;
    return gomemlimit::format_usage_line(l);
  };

  // oomwatch's own cgroup, whether or not it is hinted.
  const std::string& self = h_.self();
  const char* env = std::getenv("GOMEMLIMIT");
  if (auto in = gomemlimit::read_inputs(h_, self, o_.meminfo_path)) {
    in->ebpf_bytes = ebpf_for(self);
    spdlog::info("{}", line(self, gomemlimit::compute(*in, o_.params), gomemlimit::describe_env_gomemlimit(env)));
  } else {
    spdlog::warn("GOMEMLIMIT stats of oomwatch's own cgroup {}: {}", self, in.error().message());
  }

  size_t hinted = 0;
  for (const auto& [id, p] : published_) {
    if (p.cgroup == self) continue;
    std::string s = line(p.cgroup, p.breakdown, "n/a");
    if (hinted++ < o_.log_lines_max) spdlog::info("{}", s);
    else spdlog::debug("{}", s);
  }
  if (hinted > o_.log_lines_max)
    spdlog::info("memory usage stats: {} more hinted cgroups (at debug level)", hinted - o_.log_lines_max);
  if (!no_hint_.empty())
    spdlog::info("memory usage stats: {} cgroups have no positive GOMEMLIMIT hint (limit used up by non-heap memory)",
                 no_hint_.size());
  return true;
}

Status HintService::shutdown() {
  if (shut_) return {};
  shut_ = true;
  auto s = pub_->shutdown();
  published_.clear();
  no_hint_.clear();
  return s;
}

std::optional<uint64_t> HintService::published_value(const std::string& cgroup) const {
  for (const auto& [id, p] : published_)
    if (p.cgroup == cgroup) return p.hint_bytes;
  return std::nullopt;
}

}  // namespace ow::hintsvc
