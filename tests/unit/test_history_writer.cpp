// The history writer warns only when it really is behind: a run whose disk
// keeps up logs nothing, however many snapshots it writes.
#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "store/writer.hpp"
#include "test_store_tmp.hpp"

using ow::store::HistoryWriter;

TEST_CASE("history writer: snapshots it keeps up with log no warning", "[unit][history]") {
  owtest::TempDir dir;
  auto db = ow::store::HistoryStore::open(dir / "history.db");
  REQUIRE(db.ok());

  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>("history-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::debug);
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  struct Restore {
    std::shared_ptr<spdlog::logger> l;
    ~Restore() { spdlog::set_default_logger(l); }
  } restore{saved};

  HistoryWriter w(std::move(*db));
  for (int i = 0; i < 20; ++i) {
    auto s = std::make_shared<ow::sampler::Snapshot>();
    s->ts_ns = 1'000'000'000LL * (1'800'000'000 + i);
    ow::sampler::Sample x;
    x.cgroup = "/app";
    x.cgroup_id = 7;
    x.usage_bytes = x.working_set_bytes = 64ull << 20;
    x.limit_bytes = 128ull << 20;
    s->samples.push_back(x);
    w.snapshot(s);
  }
  w.stop(0);
  logger->flush();
  INFO(out.str());
  CHECK(out.str().find("behind") == std::string::npos);
  CHECK(out.str().find("warning") == std::string::npos);
}
