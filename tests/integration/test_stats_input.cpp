// `oomwatch stats --input FILE` on inputs no sample file is: a FIFO with no
// writer is refused at once (the command exits, it does not block in open),
// and a line of 256 MiB is refused with one short line while the process
// holds a small part of it. The real binary on real files.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "agent_helpers.hpp"

namespace {

bool one_short_line(const std::string& s) {
  return std::count(s.begin(), s.end(), '\n') == 1 && s.size() < 300;
}

}  // namespace

TEST_CASE("stats --input: a FIFO is refused at once with one line, exit 2", "[stats][integration][bounds]") {
  owtest::TmpTree dir("owtest-stats");
  std::string fifo = dir.path + "/samples.jsonl";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No writer ever opens it: an open without O_NONBLOCK waits forever, and
  // run() kills the command at its 20 s bound (exit 137).
  auto r = owtest::run({owtest::oomwatch_bin(), "stats", "--input", fifo}, 20);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(one_short_line(r.err));
  CHECK_THAT(r.err, Catch::Contains("a FIFO") && Catch::Contains(fifo));
}

// [nosan]: the bound checked is the process's peak RSS, which ASan's shadow
// memory and quarantine multiply; the native integration tier runs it.
TEST_CASE("stats --input: a line longer than the bound is refused with one short line, read in part",
          "[stats][integration][bounds][nosan]") {
  owtest::TmpTree dir("owtest-stats");
  std::string path = dir.path + "/samples.jsonl";
  constexpr size_t kLine = 256u << 20;
  {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    std::string good = R"({"ts":1763856000,"cgroup":"/a","usage_bytes":4096})" "\n";
    bool ok = ::write(fd, good.data(), good.size()) == static_cast<ssize_t>(good.size());
    // Then one record whose cgroup path is 256 MiB of 'a': it would even parse.
    std::string head = R"({"ts":1763856001,"usage_bytes":4096,"cgroup":"/)";
    ok = ok && ::write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size());
    std::string block(1 << 20, 'a');
    for (size_t n = 0; ok && n < kLine; n += block.size())
      ok = ::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size());
    ok = ok && ::write(fd, "\"}\n", 3) == 3;
    ::close(fd);
    REQUIRE(ok);
  }
  auto r = owtest::run({owtest::oomwatch_bin(), "stats", "--input", path}, 120);
  INFO(r.err.substr(0, 500));
  CHECK(r.exit_code == 2);
  CHECK(one_short_line(r.err));
  CHECK_THAT(r.err, Catch::Contains(path + ":2:") && Catch::Contains("longer than"));
  // The file is 256 MiB; the reader holds at most a line's bound of it.
  CHECK(r.max_rss_bytes < 64u << 20);
}
