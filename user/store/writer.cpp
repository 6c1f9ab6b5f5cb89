#include "store/writer.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "util/clock.hpp"

namespace ow::store {

HistoryWriter::HistoryWriter(store::HistoryStore db) : db_(std::move(db)) {
  worker_.start("ow-history", [this] { run(); });
}

HistoryWriter::~HistoryWriter() {
  if (!stopped_) stop(0);
}

void HistoryWriter::snapshot(std::shared_ptr<const sampler::Snapshot> snap) {
  uint64_t dropped = 0;
  {
    auto lk = worker_.lock();
    if (snaps_.size() >= kMaxPending) {
      snaps_.pop_front();
      dropped = ++dropped_;
    }
    snaps_.push_back(std::move(snap));
  }
  worker_.wake();
  // Only when one was dropped: the first drop, then every hundredth.
  if (dropped > 0 && (dropped == 1 || dropped % 100 == 0))
    spdlog::warn("history: the database is {} snapshots behind; {} snapshot(s) dropped so far", kMaxPending, dropped);
}

void HistoryWriter::recommendations(std::vector<store::RecommendationRow> rows) {
  if (rows.empty()) return;
  {
    auto lk = worker_.lock();
    recs_.insert(recs_.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  }
  worker_.wake();
}

void HistoryWriter::kill(store::KillRow row) {
  {
    auto lk = worker_.lock();
    kills_.push_back(std::move(row));
  }
  worker_.wake();
}

void HistoryWriter::stop(int64_t now_ns) {
  if (stopped_) return;
  worker_.stop();  // the thread writes what is queued before it returns
  stopped_ = true;
  // The runs of unchanged samples still open get their counts.
  if (auto st = db_.flush(); !st) spdlog::warn("history: writing the last counts: {}", st.error().message());
  if (now_ns > 0)
    if (auto m = db_.maintain(now_ns); !m) spdlog::warn("history maintenance: {}", m.error().message());
}

void HistoryWriter::run() {
  for (;;) {
    std::deque<std::shared_ptr<const sampler::Snapshot>> snaps;
    std::vector<store::RecommendationRow> recs;
    std::vector<store::KillRow> kills;
    bool last = false;
    {
      auto lk = worker_.lock();
      last = worker_.wait(lk, [&] { return !snaps_.empty() || !recs_.empty() || !kills_.empty(); });
      snaps.swap(snaps_);
      recs.swap(recs_);
      kills.swap(kills_);
    }
    try {
      const int64_t cpu0 = thread_cpu_ns();
      for (const auto& s : snaps)
        if (auto st = db_.insert(*s); !st) spdlog::warn("history: {}", st.error().message());
      if (!snaps.empty())
        spdlog::debug("history: {} snapshot(s) written, {} us of CPU", snaps.size(), (thread_cpu_ns() - cpu0) / 1000);
      if (auto st = db_.insert_kills(kills); !st) spdlog::warn("storing OOM kills: {}", st.error().message());
      if (!recs.empty())
        if (auto st = db_.insert_recommendations(recs); !st)
          spdlog::warn("storing recommendations: {}", st.error().message());
      if (!snaps.empty()) {
        int64_t ts = snaps.back()->ts_ns;
        if (last_maintain_ts_ == 0 || ts - last_maintain_ts_ >= kMaintainEveryNs) {  // at the first, then a minute apart
          last_maintain_ts_ = ts;
          const int64_t cpu0 = thread_cpu_ns();
          if (auto m = db_.maintain(ts); !m)
            spdlog::warn("history maintenance: {}", m.error().message());
          else
            spdlog::debug("history maintenance: {} bucket(s), {} hour row(s) written, {} raw row(s) pruned, {} us of CPU",
                          m->buckets_written, m->hours_written, m->raw_deleted, (thread_cpu_ns() - cpu0) / 1000);
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("history writer: {}", e.what());
    }
    if (last) return;
  }
}

}  // namespace ow::store
