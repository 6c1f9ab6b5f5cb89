// LogHold: lines logged while it is alive reach no sink until it ends, then
// all of them in order with their own times; the oldest beyond the cap are
// dropped and counted.
#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "util/log_hold.hpp"

using namespace ow;

namespace {
// A default logger writing "<level> <text>" to a string for one test.
struct TestLogger {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> saved = spdlog::default_logger();
  TestLogger() {
    auto logger = std::make_shared<spdlog::logger>("hold-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~TestLogger() { spdlog::set_default_logger(saved); }
};
}  // namespace

TEST_CASE("log hold: nothing reaches the sink while held, everything after, in order", "[unit][log]") {
  TestLogger t;
  spdlog::info("before");
  {
    LogHold hold;
    CHECK(hold.last().empty());
    spdlog::warn("audit log {} unreadable", "/x");
    spdlog::debug("below the logger's level");  // filtered as usual
    spdlog::error("second");
    CHECK(t.out.str() == "info before\n");
    CHECK(hold.held() == 2);
    CHECK(hold.last() == "error: second");
  }
  CHECK(t.out.str() == "info before\nwarning audit log /x unreadable\nerror second\n");
  spdlog::info("after");  // the logger's own sink is back
  CHECK(t.out.str() == "info before\nwarning audit log /x unreadable\nerror second\ninfo after\n");
}

TEST_CASE("log hold: past its cap the oldest lines are dropped and counted", "[unit][log]") {
  TestLogger t;
  {
    LogHold hold(2);
    for (int i = 0; i < 5; ++i) spdlog::warn("line {}", i);
    CHECK(hold.held() == 2);
    CHECK(hold.last() == "warning: line 4");
  }
  CHECK(t.out.str() == "warning line 3\nwarning line 4\nwarning 3 earlier log lines were dropped while the screen was up\n");
}

TEST_CASE("log hold: the held text is the message's bytes, whatever they are", "[unit][log]") {
  TestLogger t;
  LogHold hold;
  std::string odd("cgroup a\x1b[2J\xff\nb", 15);
  spdlog::warn("{}", odd);
  CHECK(hold.last() == "warning: " + odd);  // the view makes it printable, not the hold
}
