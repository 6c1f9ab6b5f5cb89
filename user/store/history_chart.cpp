// HistoryStore::chart_series: what `report --html` draws, read in one
// transaction from the raw tier and the 1-minute buckets. Slot maxima are
// merged from both tiers: a bucket summarises raw samples of the same minute,
// so where both still exist their maxima agree and taking the larger is exact.
#include <algorithm>
#include <set>

#include "store/history.hpp"
#include "store/raw_run.hpp"

namespace ow::store {

Result<std::map<std::string, ChartSeries>> HistoryStore::chart_series(const stats::TimeRange& r,
                                                                      const std::vector<std::string>& paths,
                                                                      int64_t slot_ns) {
  if (auto st = stats::check_range(r); !st) return st.error();  // a bad range is named before a bad slot
  if (slot_ns <= 0) return app_error("chart slot must be longer than zero");
  auto read = begin_read(r, true);  // this handle's open runs count too
  if (!read) return read.error();
  const auto& series = read->series;
  std::set<std::string> wanted(paths.begin(), paths.end());
  std::map<int64_t, const std::string*> chosen;  // series id -> path
  for (const auto& [id, info] : series)
    if (wanted.count(info.path)) chosen.emplace(id, &info.path);
  std::map<std::string, std::map<int64_t, ChartPoint>> slots;
  std::map<std::string, ChartSeries> out;
  for (const auto& p : paths) out[p];
  if (chosen.empty()) return out;
  auto slot_of = [&](int64_t ts) { return r.from_ns + stats::bucket_start(ts - r.from_ns, slot_ns); };
  auto add = [&](const std::string& path, int64_t ts, uint64_t usage, uint64_t ws, uint64_t lim) {
    auto& pt = slots[path][slot_of(ts)];
    pt.start_ns = slot_of(ts);
    pt.usage_max_bytes = std::max(pt.usage_max_bytes, usage);
    pt.ws_max_bytes = std::max(pt.ws_max_bytes, ws);
    pt.limit_bytes = lim;
  };
  std::string in;
  for (const auto& [id, p] : chosen) in += (in.empty() ? "" : ",") + std::to_string(id);

  auto b = db_.prepare("SELECT start, series, max, lim, ws_max FROM bucket WHERE start >= ? AND start <= ? AND series IN (" +
                       in + ") ORDER BY start");
  if (!b) return b.error();
  b->bind(1, r.from_ns).bind(2, r.to_ns);
  auto buckets = b->each_row([&] {
    const std::string& path = *chosen.at(b->i64(1));
    add(path, b->i64(0), b->u64(2), b->is_null(4) ? 0 : b->u64(4), b->is_null(3) ? kUnlimited : b->u64(3));
  });
  if (!buckets) return buckets.error();
  auto q = db_.prepare("SELECT ts, series, usage, lim, ws, ev_oom_kill, n, last FROM raw WHERE ts >= ? AND ts <= ? AND "
                       "series IN (" + in + ") ORDER BY ts");
  if (!q) return q.error();
  q->bind(1, raw_scan_from(r.from_ns, bucket_ns_)).bind(2, r.to_ns);
  std::map<int64_t, uint64_t> last_kills;  // per series: a rise of the counter is a kill
  auto raw = q->each_row([&]() -> Status {
    int64_t id = q->i64(1);
    const std::string& path = *chosen.at(id);
    uint64_t usage = q->u64(2), ws = q->is_null(4) ? 0 : q->u64(4), lim = q->is_null(3) ? kUnlimited : q->u64(3);
    auto run = raw_run(*q, 0, 6, 7);
    if (!run) return corrupt_raw_row(db_.path());
    int64_t first = INT64_MIN;
    for_each_run_sample(*run, r.from_ns, r.to_ns, [&](int64_t t) {
      if (first == INT64_MIN) first = t;
      add(path, t, usage, ws, lim);
    });
    if (first == INT64_MIN) return {};  // the run lies before the window
    uint64_t kills = q->is_null(5) ? 0 : q->u64(5);
    auto [it, fresh] = last_kills.emplace(id, kills);
    if (!fresh && kills > it->second) out[path].oom_kill_ts_ns.push_back(first);
    it->second = kills;
    return {};
  });
  if (!raw) return raw.error();
  for (auto& [path, m] : slots) {
    auto& v = out[path].points;
    v.reserve(m.size());
    for (auto& [start, pt] : m) v.push_back(pt);
  }
  return out;
}

}  // namespace ow::store
