#include "recsvc/worker.hpp"

#include <chrono>
#include <string_view>
#include <unordered_set>

#include "advisor/gather.hpp"
#include "k8s/identity.hpp"
#include "k8s/kubelet_logs.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace ow::recsvc {
namespace {

Result<store::HistoryStore> open_ro(const std::string& path) {
  store::StoreOptions so;
  so.readonly = true;
  so.cache_kib = store::kAgentCacheKib;
  return store::HistoryStore::open(path, so);
}

bool looked_after(const std::string& path, const std::vector<std::string>& roots) {
  if (auto id = k8s::parse_cgroup_path(path); id && !id->container_id.empty()) return true;
  for (const auto& r : roots)
    if (path != r && cg::is_under(path, r)) return true;
  return false;
}

}  // namespace

Result<std::unique_ptr<RecommendWorker>> RecommendWorker::open(const RecommendWorkerOptions& o, const cg::Hierarchy& h) {
  std::unique_ptr<RecommendWorker> w(new RecommendWorker(o, h));
  auto db = open_ro(o.db_path);
  if (!db) return db.error();
  auto last = db->last_recommendations({});
  if (!last) return last.error();
  w->last_ = std::move(*last);
  w->worker_.start("ow-recommend", [p = w.get()] { p->run(); });
  return w;
}

RecommendWorker::~RecommendWorker() { worker_.stop(); }

std::vector<NewRecommendation> RecommendWorker::take() {
  auto lk = worker_.lock();
  return std::exchange(ready_, {});
}

Result<size_t> RecommendWorker::round() {
  // A fresh connection each round, as DonorHistory does: nothing held open.
  auto db = open_ro(o_.db_path);
  if (!db) return db.error();
  auto paths = db->paths();
  if (!paths) return paths.error();
  advisor::RecommendQuery q;
  // Only cgroups that exist now: the database keeps the window's worth of
  // cgroups that are gone (thousands a day on a node whose pods churn), and
  // a recommendation for one of them has nobody to apply to.
  for (const auto& p : *paths)
    if (looked_after(p, o_.roots) && h_.id_of(p)) q.selectors.push_back(p);
  std::unordered_set<std::string_view> alive(q.selectors.begin(), q.selectors.end());
  std::erase_if(last_, [&](const auto& e) { return !alive.count(e.first); });  // their cooldowns end with them
  if (q.selectors.empty()) return size_t{0};
  q.now_ns = wall_ns();
  q.window_ns = o_.window_ns;
  q.short_window_ns = o_.short_window_ns;
  q.rules = o_.rules;
  q.use_buckets = true;  // every round: the buckets, not an hour of raw rows per window
  auto names = k8s::read_kubelet_logs(o_.pods_log_dir);
  if (!names) spdlog::warn("recommendations without Kubernetes names: {}", names.error().message());
  k8s::KubeletNames none;
  advisor::RecommendSources src{&*db, &h_, names ? &*names : &none, nullptr, &last_};
  auto reports = advisor::gather_recommendations(q, src);
  if (!reports) return reports.error();
  std::vector<NewRecommendation> fresh;
  for (const auto& r : *reports) {
    // Selectors select descendants too: only the paths asked for.
    if (!r.decision.propose || !alive.count(r.cgroup)) continue;
    store::RecommendationRow row;
    row.ts_ns = q.now_ns;
    row.path = r.cgroup;
    row.request_bytes = r.rec.request_bytes;
    row.limit_bytes = r.rec.limit_bytes;
    row.ws_avg_bytes = r.input.long_window.ws_avg_bytes;
    row.ws_p95_bytes = r.input.long_window.ws_p95_bytes;
    row.ws_max_bytes = r.input.long_window.ws_max_bytes;
    row.window_ns = q.window_ns;
    row.confidence = recommend::confidence_name(r.rec.confidence);
    row.rationale = r.rec.rationale;
    last_[row.path] = row;  // the cooldown starts now, stored or not
    fresh.push_back({std::move(row), r.name});
  }
  size_t n = fresh.size();
  auto lk = worker_.lock();
  for (auto& f : fresh) ready_.push_back(std::move(f));
  return n;
}

void RecommendWorker::run() {
  worker_.every(std::chrono::nanoseconds(o_.interval_ns), "recommendations", [this] {
    if (auto n = round(); !n) spdlog::warn("recommendations: {}", n.error().message());
  });
}

}  // namespace ow::recsvc
