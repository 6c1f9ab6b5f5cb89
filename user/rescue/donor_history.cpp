#include "rescue/donor_history.hpp"

#include <chrono>

#include "store/history.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace ow::rescue {

Result<std::unique_ptr<DonorHistory>> DonorHistory::open(const DonorHistoryOptions& o) {
  std::unique_ptr<DonorHistory> d(new DonorHistory(o));
  if (auto s = d->refresh(); !s) return s.error();
  d->worker_.start("ow-donors", [p = d.get()] { p->run(); });
  return d;
}

DonorHistory::~DonorHistory() { worker_.stop(); }

void DonorHistory::set_live(std::vector<std::string> paths) {
  auto lk = worker_.lock();
  live_ = std::move(paths);
}

Status DonorHistory::refresh() {
  int64_t t0 = mono_ns();
  std::vector<std::string> selectors;
  {
    auto lk = worker_.lock();
    selectors = live_ ? *live_ : o_.roots;
    if (selectors.empty()) {  // no child alive: nobody to read (no selector would read everyone)
      cache_.clear();
      cost_ns_ = mono_ns() - t0;
      return {};
    }
  }
  store::StoreOptions so;
  so.readonly = true;
  so.cache_kib = store::kAgentCacheKib;
  // A fresh connection each time: nothing held open between refreshes, and a
  // database replaced under the agent is simply read anew.
  auto db = store::HistoryStore::open(o_.db_path, so);
  if (!db) return db.error();
  int64_t now = wall_ns();
  stats::TimeRange r{now - o_.window_ns, now};
  // Every 30 s: from the buckets, so the refresh costs little whatever the
  // node's cgroup count (donors' figures need no exact quantiles).
  auto w = db->window_stats(r, selectors, true);
  if (!w) return w.error();
  auto lk = worker_.lock();
  cache_ = std::move(w->stats);
  cost_ns_ = mono_ns() - t0;
  return {};
}

void DonorHistory::run() {
  worker_.every(std::chrono::nanoseconds(o_.refresh_ns), "donor history", [this] {
    if (auto s = refresh(); !s) spdlog::warn("donor history: {}", s.error().message());
  });
}

std::optional<stats::WindowStats> DonorHistory::get(const std::string& path) const {
  auto lk = worker_.lock();
  auto it = cache_.find(path);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

size_t DonorHistory::size() const {
  auto lk = worker_.lock();
  return cache_.size();
}

int64_t DonorHistory::last_refresh_cost_ns() const {
  auto lk = worker_.lock();
  return cost_ns_;
}

}  // namespace ow::rescue
