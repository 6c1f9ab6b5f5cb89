// Donors' figures from the history database: each managed sibling's median,
// p95 and max over the donor window (default 1 h), read on a thread of its
// own through a read-only connection and cached, so a decision never waits
// for SQLite. The loop merges them with its live window (rescue/usage_window)
// in Daemon::state(). Because the database outlives the agent, a sibling's
// history still counts after a restart.
//
// The cache is refreshed at start (before the agent says it is ready) and
// then every refresh period; figures are at most that old, and the live
// window covers the minutes since. A path recreated under the same name
// inherits the old cgroup's history here (the store keeps series by path);
// its usage against that median still rules it out while it is busy.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stats/window.hpp"
#include "util/noncopyable.hpp"
#include "util/result.hpp"
#include "util/worker.hpp"

namespace ow::rescue {

struct DonorHistoryOptions {
  std::string db_path;
  std::vector<std::string> roots;  // the --manage subtrees: their descendants are read
  int64_t window_ns = 3'600'000'000'000;
  int64_t refresh_ns = 30'000'000'000;
};

class DonorHistory : NonCopyable {
 public:
  // Opens the database read-only and loads the first figures synchronously.
  // Start it after the guardian's fork (it owns a thread).
  static Result<std::unique_ptr<DonorHistory>> open(const DonorHistoryOptions& o);
  ~DonorHistory();

  // The cached window of path (first_ts_ns/last_ts_ns in CLOCK_REALTIME), or
  // nullopt when the database has no sample of it in the window.
  std::optional<stats::WindowStats> get(const std::string& path) const;
  // The managed children alive now: only they can donate, so from the next
  // refresh only their figures are read and kept. Until the first call, every
  // descendant of the roots is. Under churn the database keeps the donor
  // window's worth of siblings that are gone (thousands an hour on a busy
  // node); their figures would only grow the cache.
  void set_live(std::vector<std::string> paths);
  // Figures of the last refresh, and how long it took (for logs and benches).
  size_t size() const;
  int64_t last_refresh_cost_ns() const;

 private:
  explicit DonorHistory(DonorHistoryOptions o) : o_(std::move(o)) {}
  Status refresh();
  void run();
  DonorHistoryOptions o_;
  stats::StatsByCgroup cache_;                    // under worker_.lock()
  std::optional<std::vector<std::string>> live_;  // set_live's paths, once called; under worker_.lock()
  int64_t cost_ns_ = 0;                           // under worker_.lock()
  Worker worker_;                                 // last: stopped before the rest goes
};

}  // namespace ow::rescue
