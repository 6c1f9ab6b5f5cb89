// The agent's history database writes on a thread of their own. An insert of
// one snapshot costs milliseconds at 10,000 cgroups and maintain() (rolling
// buckets and hours, pruning) tens of milliseconds once a minute; on the
// loop thread either would sit between a kernel signal and the limit write
// of a rescue. The loop only hands over its snapshot (shared, not copied)
// and the recommendations it received; the writer inserts what piled up in
// one transaction, and maintains once a minute of snapshot time.
//
// The writer owns the write connection: once started, nothing else writes
// through it until stop() has joined the thread. Readers (donor history,
// recommendations, `oomwatch stats`) have their own connections; SQLite's
// WAL keeps them apart.
//
// Bounded: at most kMaxPending snapshots wait (a minute at a 1 s interval);
// when the disk is that far behind, the oldest waiting one is dropped and
// counted, never the loop blocked. Start it only after the guardian is
// forked (fork and threads do not mix).
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "sampler/sample.hpp"
#include "store/history.hpp"
#include "util/noncopyable.hpp"
#include "util/worker.hpp"

namespace ow::store {

class HistoryWriter : NonCopyable {
 public:
  static constexpr size_t kMaxPending = 60;
  static constexpr int64_t kMaintainEveryNs = 60'000'000'000LL;

  explicit HistoryWriter(store::HistoryStore db);
  ~HistoryWriter();  // stop() if not done yet

  // From the loop thread; never blocks on the database.
  void snapshot(std::shared_ptr<const sampler::Snapshot> snap);
  void recommendations(std::vector<store::RecommendationRow> rows);
  void kill(store::KillRow row);  // never dropped: kills are few
  // Writes what is queued, maintains once more (now_ns), and joins.
  void stop(int64_t now_ns);

 private:
  void run();
  store::HistoryStore db_;
  // Waiting to be written, under worker_.lock().
  std::deque<std::shared_ptr<const sampler::Snapshot>> snaps_;
  std::vector<store::RecommendationRow> recs_;
  std::vector<store::KillRow> kills_;
  uint64_t dropped_ = 0;  // snapshots dropped because the writer was kMaxPending behind (logged; under the lock)
  int64_t last_maintain_ts_ = 0;  // snapshot time of the last maintain (writer thread only)
  bool stopped_ = false;
  Worker worker_;  // last: stopped before the rest goes
};

}  // namespace ow::store
