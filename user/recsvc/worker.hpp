// The agent's recommendations on a thread of their own: every [recommend]
// interval (default 5 min) it reads the history database read-only, runs
// the rules (advisor/gather.hpp) for the cgroups it looks after, and queues
// each new recommendation (one that passed hysteresis and the cooldown).
// The loop thread, which owns the database's writes, takes the queue on its
// next tick, stores the rows in the recommendation table and logs one line
// each. So no SQLite work, and no kubelet log directory listing, ever sits
// on the loop thread.
//
// Which cgroups: Kubernetes containers (their cgroup path says so), and the
// descendants of the --manage subtrees. Not every cgroup in the database:
// system slices would fill the log with recommendations nobody applies.
// The first round runs one interval after start, so it has data to work on.
// Start it after the guardian's fork (it owns a thread).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "k8s/kubelet_logs.hpp"
#include "recommend/rules.hpp"
#include "store/history.hpp"
#include "util/noncopyable.hpp"
#include "util/worker.hpp"

namespace ow::recsvc {

struct RecommendWorkerOptions {
  std::string db_path;
  std::vector<std::string> roots;  // --manage subtrees
  int64_t interval_ns = 300'000'000'000;
  int64_t window_ns = 86'400'000'000'000, short_window_ns = 900'000'000'000;
  std::string pods_log_dir = k8s::kDefaultLogDir;
  recommend::Rules rules;
};

struct NewRecommendation {
  store::RecommendationRow row;
  std::string name;  // "ns/pod/container" or the path, for the log line
};

class RecommendWorker : NonCopyable {
 public:
  // Loads the last stored recommendation per path (for the cooldown) and
  // starts the thread.
  static Result<std::unique_ptr<RecommendWorker>> open(const RecommendWorkerOptions& o, const cg::Hierarchy& h);
  ~RecommendWorker();

  // From the loop thread: the recommendations made since the last call.
  std::vector<NewRecommendation> take();
  // One round now, on the calling thread (tests and benches); returns how many were queued.
  Result<size_t> round();

 private:
  RecommendWorker(RecommendWorkerOptions o, cg::Hierarchy h) : o_(std::move(o)), h_(std::move(h)) {}
  void run();
  RecommendWorkerOptions o_;
  cg::Hierarchy h_;
  std::map<std::string, store::RecommendationRow> last_;  // worker thread only (after open)
  std::vector<NewRecommendation> ready_;  // under worker_.lock()
  Worker worker_;                         // last: stopped before the rest goes
};

}  // namespace ow::recsvc
