#include "sampler/source.hpp"
#include "util/fs.hpp"

namespace ow::sampler {

bool stat_value(std::string_view text, std::string_view key, uint64_t& out) {
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ' ')
      return parse_u64(line.substr(key.size() + 1), out);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return false;
}

Status fill_working_set(const cg::Hierarchy& h, const std::string& rel, Sample& s) {
  std::string path = h.abs(rel) + "/memory.stat";
  auto t = read_text(path);
  if (!t) return t.error();
  uint64_t v;
  if (!stat_value(*t, inactive_file_key(h.version()), v))
    return app_error(std::string("no ") + inactive_file_key(h.version()) + " in", path);
  s.inactive_file_bytes = v;
  s.working_set_bytes = s.usage_bytes > v ? s.usage_bytes - v : 0;
  return {};
}

Result<std::vector<Sample>> FileSource::read() {
  std::vector<Sample> out;
  for (const auto& [id, rel] : h_.walk()) {
    if (root_ != "/" && rel != root_ && rel.rfind(root_ + "/", 0) != 0) continue;
    auto m = h_.read(rel);
    if (!m) continue;  // removed while we walked, or the root without memory files
    Sample s;
    s.cgroup_id = id;
    s.cgroup = rel;
    s.usage_bytes = m->usage_bytes;
    s.limit_bytes = m->limit_bytes;
    s.peak_bytes = m->peak_bytes;
    s.high_bytes = m->high_bytes;
    s.failcnt = m->events.max;
    s.ev_low = m->events.low, s.ev_high = m->events.high, s.ev_max = m->events.max;
    s.ev_oom = m->events.oom, s.ev_oom_kill = m->events.oom_kill;
    (void)fill_working_set(h_, rel, s);  // a cgroup removed since: 0, like its other figures would be
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ow::sampler
