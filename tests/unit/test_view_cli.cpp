// `top` and `report`, bad input: the real binary, one line naming the
// problem, exit 2 (usage) or 1 (environment), never a crash.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "store/history.hpp"
#include "test_store_tmp.hpp"

namespace {
int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
void expect_error(int code, const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> argv{owtest::oomwatch_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = owtest::run(argv);
  CAPTURE(args);
  INFO(r.err);
  CHECK(r.exit_code == code);
  CHECK(r.err.rfind("oomwatch: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(lines(r.err) <= 2);
}
}  // namespace

TEST_CASE("top refuses bad flags with one line", "[view][unit]") {
  expect_error(2, {"top", "--batch", "--interval", "10ms"}, "at least 100ms");
  expect_error(2, {"top", "--batch", "--interval", "fast"}, "--interval");
  expect_error(2, {"top", "--batch", "--sort", "size"}, "--sort: 'size'");
  expect_error(2, {"top", "--batch", "--iterations", "-1"}, "--iterations");
  expect_error(2, {"top", "--batch", "--top", "x"}, "--top");
  expect_error(2, {"top", "--source", "magic"}, "--source");
  expect_error(1, {"top"}, "needs a terminal");  // stdin/stdout are pipes here
}

TEST_CASE("report refuses bad flags, a missing database and an empty window with one line", "[view][unit]") {
  owtest::TempDir dir;
  expect_error(2, {"report"}, "--html");
  expect_error(2, {"report", "--html", dir / "r.html", "--from", "yesterday"}, "--from");
  expect_error(2, {"report", "--html", dir / "r.html", "--from", "-1h", "--to", "-2h"}, "--to before --from");
  expect_error(2, {"report", "--html", dir / "r.html", "--top", "-3"}, "--top");
  expect_error(2, {"report", "--html", dir / "r.html", "--max-points", "1"}, "--max-points");
  expect_error(1, {"report", "--html", dir / "r.html", "--db", dir / "none.db"}, "none.db");
  // An empty history: a fresh database with no samples.
  {
    auto h = ow::store::HistoryStore::open(dir / "empty.db");
    REQUIRE(h);
  }
  expect_error(2, {"report", "--html", dir / "r.html", "--db", dir / "empty.db"}, "empty window");
  expect_error(2, {"report", "--html", dir / "r.html", "--db", dir / "empty.db", "--cgroup", "/nope"}, "unknown cgroup");
  CHECK_FALSE(owtest::exists(dir / "r.html"));
}
