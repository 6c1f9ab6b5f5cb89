// TopModel: see model.hpp.
#include "view/model.hpp"

#include <algorithm>
#include <functional>
#include <iterator>

#include "util/names.hpp"
#include "util/units.hpp"

namespace ow::view {

// In the order the `s` key cycles through.
constexpr Named<SortKey> kSortKeys[] = {
    {SortKey::Usage, "usage"}, {SortKey::Percent, "percent"}, {SortKey::Growth, "growth"}, {SortKey::Name, "name"}};

std::optional<SortKey> parse_sort_key(const std::string& s) { return parse_name(kSortKeys, s); }

std::vector<std::string> sort_key_names() { return name_vector(kSortKeys); }

const char* sort_key_name(SortKey k) { return name_of(kSortKeys, k, "usage"); }

SortKey next_sort_key(SortKey k) {
  size_t n = std::size(kSortKeys);
  for (size_t i = 0; i < n; ++i)
    if (kSortKeys[i].value == k) return kSortKeys[(i + 1) % n].value;
  return SortKey::Usage;
}

namespace {

// A counter that went down (reset, or a recreated cgroup) counts from its new value.
uint64_t since(uint64_t now, uint64_t base) { return now >= base ? now - base : now; }

double pct(uint64_t v, uint64_t limit) {
  if (limit == kUnlimited || limit == 0) return -1;
  return static_cast<double>(v) * 100.0 / static_cast<double>(limit);
}

// Descending by the key (biggest first), then by path so the order is stable.
bool before(const Row& a, const Row& b, SortKey k) {
  switch (k) {
    case SortKey::Usage:
      if (a.usage_bytes != b.usage_bytes) return a.usage_bytes > b.usage_bytes;
      break;
    case SortKey::Percent:
      if (a.percent != b.percent) return a.percent > b.percent;
      break;
    case SortKey::Growth:
      // Not known yet (first snapshot) sorts as no growth.
      if (a.growth_bps.value_or(0) != b.growth_bps.value_or(0))
        return a.growth_bps.value_or(0) > b.growth_bps.value_or(0);
      break;
    case SortKey::Name: break;
  }
  return a.path < b.path;
}

std::string parent_of(const std::string& p) {
  auto i = p.rfind('/');
  if (i == std::string::npos || i == 0) return p == "/" || i == std::string::npos ? std::string() : "/";
  return p.substr(0, i);
}

// Depth-first: each row under its nearest shown ancestor, siblings in sort order.
std::vector<Row> as_tree(std::vector<Row> rows, SortKey k) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < rows.size(); ++i) index[rows[i].path] = i;
  std::map<std::string, std::vector<size_t>> children;  // parent path ("" for roots) -> rows
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string up = rows[i].path;
    std::string parent;
    while (!(up = parent_of(up)).empty()) {
      if (index.count(up)) { parent = up; break; }
    }
    children[parent].push_back(i);
  }
  std::vector<Row> out;
  out.reserve(rows.size());
  std::function<void(const std::string&, int)> walk = [&](const std::string& parent, int depth) {
    auto it = children.find(parent);
    if (it == children.end()) return;
    auto kids = it->second;
    std::sort(kids.begin(), kids.end(), [&](size_t a, size_t b) { return before(rows[a], rows[b], k); });
    for (size_t i : kids) {
      rows[i].depth = depth;
      out.push_back(rows[i]);
      walk(rows[i].path, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

}  // namespace

void TopModel::update(const sampler::Snapshot& snap) {
  std::map<std::string, Track> next;
  for (const auto& s : snap.samples) {
    int64_t ts = s.ts_ns ? s.ts_ns : snap.ts_ns;
    auto it = tracks_.find(s.cgroup);
    Track t;
    if (it != tracks_.end() && it->second.last.cgroup_id == s.cgroup_id) {
      t = it->second;
      t.prev_ts_ns = t.last.ts_ns;
      t.prev_usage = t.last.usage_bytes;
      t.has_prev = true;
      uint64_t kills = since(s.ev_oom_kill, t.base_oom_kill);
      if (kills > t.oom_kills) {
        uint64_t n = kills - t.oom_kills;
        events_.push_back(Event{ts, s.cgroup, "oom_kill", std::to_string(n) + (n == 1 ? " kill" : " kills"),
                                "counters"});
        if (events_.size() > kMaxEvents) events_.pop_front();
      }
      t.oom_kills = kills;
      t.max_events = since(s.failcnt, t.base_failcnt);
    } else {
      t.base_failcnt = s.failcnt;
      t.base_oom_kill = s.ev_oom_kill;
    }
    t.last = s;
    t.last.ts_ns = ts;
    next.emplace(s.cgroup, std::move(t));
  }
  tracks_ = std::move(next);
  last_ts_ = snap.ts_ns;
  ++snapshots_;
}

Page TopModel::rows(const ViewOptions& o) const {
  Page p;
  p.total = tracks_.size();
  std::vector<Row> rows;
  for (const auto& [path, t] : tracks_) {
    auto named = names_.find(path);
    std::string name = named == names_.end() ? std::string() : identity_name(named->second);
    if (!o.filter.empty() && path.find(o.filter) == std::string::npos && name.find(o.filter) == std::string::npos)
      continue;
    const auto& s = t.last;
    Row r;
    r.path = path;
    r.name = std::move(name);
    if (named != names_.end()) r.who = named->second;
    r.cgroup_id = s.cgroup_id;
    r.usage_bytes = s.usage_bytes;
    r.working_set_bytes = s.working_set_bytes;
    r.limit_bytes = s.limit_bytes;
    r.peak_bytes = s.peak_bytes;
    if (opts_.has_high) r.high_bytes = s.high_bytes;
    r.percent = pct(s.usage_bytes, s.limit_bytes);
    r.ws_percent = pct(s.working_set_bytes, s.limit_bytes);
    if (t.has_prev && s.ts_ns > t.prev_ts_ns)
      r.growth_bps = (static_cast<double>(s.usage_bytes) - static_cast<double>(t.prev_usage)) * 1e9 /
                     static_cast<double>(s.ts_ns - t.prev_ts_ns);
    r.max_events = opts_.since_start ? t.max_events : s.failcnt;
    r.oom_kills = opts_.since_start ? t.oom_kills : s.ev_oom_kill;
    if (auto h = hints_.find(s.cgroup_id); h != hints_.end()) r.gomemlimit_bytes = h->second;
    rows.push_back(std::move(r));
  }
  p.matched = rows.size();
  if (o.tree) {
    rows = as_tree(std::move(rows), o.sort);
  } else {
    std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return before(a, b, o.sort); });
  }
  size_t first = std::min(o.offset, rows.size());
  size_t last = o.top ? std::min(rows.size(), first + o.top) : rows.size();
  p.rows.assign(std::make_move_iterator(rows.begin() + first), std::make_move_iterator(rows.begin() + last));
  return p;
}

std::string identity_name(const k8s::EventIdentity& who) {
  if (who.kube) return k8s::display_name(*who.kube);
  if (who.container) return "container " + who.container->id.substr(0, 12);
  return {};
}

std::vector<Event> merge_events(const std::deque<Event>& counters, const std::vector<Event>& audit, size_t n) {
  std::vector<Event> all(counters.begin(), counters.end());
  all.insert(all.end(), audit.begin(), audit.end());
  std::stable_sort(all.begin(), all.end(), [](const Event& a, const Event& b) { return a.ts_ns < b.ts_ns; });
  if (all.size() > n) all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(n));
  return all;
}

}  // namespace ow::view
