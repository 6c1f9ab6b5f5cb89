#include "agent/oom_source.hpp"

#include "util/fs.hpp"

namespace ow::agent {

Result<std::unique_ptr<OomSource>> OomSource::open(cg::Hierarchy h, Handler on_kill) {
  auto l = bpf::Loader::open({});
  if (!l) return l.error();
  auto s = attach(**l, std::move(h), std::move(on_kill));
  if (!s) return s.error();
  (*s)->owned_ = std::move(*l);
  return s;
}

Result<std::unique_ptr<OomSource>> OomSource::attach(const bpf::Loader& loader, cg::Hierarchy h, Handler on_kill) {
  std::unique_ptr<OomSource> s(new OomSource(std::move(h)));
  s->on_kill_ = std::move(on_kill);
  s->loader_ = &loader;
  auto r = bpf::RingReader::open(loader.events_fd(), [p = s.get()](const ow_oom_event& e) { p->deliver(e); });
  if (!r) return r.error();
  s->reader_ = std::move(*r);
  s->ids_.refresh();
  return s;
}

void OomSource::deliver(const ow_oom_event& e) {
  bpf::OomKill k;
  k.raw = e;
  k.comm = bpf::comm_string(e.comm);
  k.trigger_comm = bpf::comm_string(e.trigger_comm);
  k.wall_ns = bpf::mono_to_wall_ns(e.ts_ns);
  k.cgroup = ids_.path(e.memcg_id);
  k.trigger_cgroup = ids_.path(e.trigger_memcg_id);
  k.limit_cgroup = ids_.path(e.limit_memcg_id);  // "" for 0 (global OOM)
  if (e.flags & OW_OOM_PID_ONLY) {
    // Old kernels pass only a pid: the victim may still be in /proc.
    if (auto c = read_text("/proc/" + std::to_string(e.pid) + "/comm")) k.comm = std::string(trim(*c));
    if (k.cgroup.empty()) k.cgroup = k.trigger_cgroup;
  }
  on_kill_(k);
}

Status OomSource::poll(int timeout_ms) {
  auto n = reader_->poll(timeout_ms);
  if (!n) return n.error();
  return {};
}

}  // namespace ow::agent
