#include "util/log_hold.hpp"

#include <spdlog/details/log_msg_buffer.h>
#include <spdlog/sinks/base_sink.h>

#include <deque>
#include <mutex>

namespace ow {

class LogHold::Sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit Sink(size_t max) : max_(max ? max : 1) {}

  std::string last() {
    std::lock_guard<std::mutex> l(mutex_);
    return last_;
  }
  size_t held() {
    std::lock_guard<std::mutex> l(mutex_);
    return lines_.size();
  }
  // Hands the held lines over (oldest first) and how many were dropped.
  std::deque<spdlog::details::log_msg_buffer> take(size_t& dropped) {
    std::lock_guard<std::mutex> l(mutex_);
    dropped = dropped_;
    dropped_ = 0;
    return std::move(lines_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (lines_.size() == max_) {
      lines_.pop_front();
      ++dropped_;
    }
    lines_.emplace_back(msg);
    const auto lvl = spdlog::level::to_string_view(msg.level);
    last_.assign(lvl.data(), lvl.size());
    last_ += ": ";
    last_.append(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  size_t max_;
  std::deque<spdlog::details::log_msg_buffer> lines_;
  size_t dropped_ = 0;
  std::string last_;
};

LogHold::LogHold(size_t max_lines) : sink_(std::make_shared<Sink>(max_lines)), logger_(spdlog::default_logger()) {
  if (!logger_) return;
  saved_ = logger_->sinks();
  logger_->sinks() = {sink_};
}

LogHold::~LogHold() {
  if (!logger_) return;
  logger_->sinks() = saved_;
  size_t dropped = 0;
  for (const auto& m : sink_->take(dropped))
    for (const auto& s : saved_)
      if (s->should_log(m.level)) s->log(m);
  if (dropped) logger_->warn("{} earlier log lines were dropped while the screen was up", dropped);
  logger_->flush();
}

std::string LogHold::last() const { return sink_->last(); }
size_t LogHold::held() const { return sink_->held(); }

}  // namespace ow
