#include "util/worker.hpp"

#include <pthread.h>

#include <exception>

#include "util/log.hpp"

namespace ow {

Worker::~Worker() { stop(); }

void Worker::start(const char* name, std::function<void()> body) {
  th_ = std::thread(std::move(body));
  // Named from here, so the name is there once start() returns.
  ::pthread_setname_np(th_.native_handle(), name);
}

void Worker::every(std::chrono::nanoseconds period, const char* what, const std::function<void()>& round) {
  auto lk = lock();
  while (!wait_for(lk, period, never)) {
    lk.unlock();
    try {
      round();
    } catch (const std::exception& e) {
      spdlog::error("{}: internal error: {}", what, e.what());
    }
    lk.lock();
  }
}

void Worker::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (th_.joinable()) th_.join();
}

}  // namespace ow
