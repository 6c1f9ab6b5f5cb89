// Files an operator names (config, pods list, overrides, Knative Services)
// are bounded: a FIFO or device is refused at once, without blocking or
// reading; a file over its bound is refused from its size. Each is one line
// and exit 2, never a read until the OOM killer ends it.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "helpers.hpp"
#include "test_store_tmp.hpp"
#include "util/fs.hpp"

using ow::read_input_file;

TEST_CASE("read_input_file: regular files within the bound only", "[unit][safety][input]") {
  owtest::TempDir dir;
  std::ofstream(dir / "ok.toml") << "interval = \"1s\"\n";
  auto ok = read_input_file(dir / "ok.toml", 1024, "the config file");
  REQUIRE(ok.ok());
  CHECK(*ok == "interval = \"1s\"\n");

  std::ofstream(dir / "big") << std::string(2048, 'x');
  auto big = read_input_file(dir / "big", 1024, "the config file");
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().usage);
  CHECK(big.error().message() == "the config file is 2048 bytes, over its bound of 1024 bytes: " + (dir / "big"));

  // A FIFO with no writer: open(O_RDONLY) alone would block for good.
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  auto t0 = std::chrono::steady_clock::now();
  auto fifo = read_input_file(dir / "fifo", 1024, "--pods");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.error().message() == "--pods must be a regular file; this is a FIFO: " + (dir / "fifo"));

  auto zero = read_input_file("/dev/zero", ow::kMaxListBytes, "--pods");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().message() == "--pods must be a regular file; this is a character device: /dev/zero");
  auto d = read_input_file(dir.path, 1024, "--overrides");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message().find("this is a directory") != std::string::npos);
  auto none = read_input_file(dir / "missing", 1024, "--overrides");
  REQUIRE_FALSE(none.ok());
  CHECK_FALSE(none.error().usage);
  CHECK(none.error().message().find("No such file or directory") != std::string::npos);
}

TEST_CASE("commands refuse a device or FIFO where a file is expected: one line, exit 2", "[unit][safety][input]") {
  owtest::TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  auto bin = owtest::oomwatch_bin();
  struct Case {
    std::vector<std::string> argv;
    std::string says;
  };
  const Case cases[] = {
      {{bin, "trace", "--cgroup", "/", "--config", "/dev/zero"},
       "oomwatch: the config file must be a regular file; this is a character device: /dev/zero"},
      {{bin, "trace", "--cgroup", "/", "--config", dir / "fifo"},
       "oomwatch: the config file must be a regular file; this is a FIFO: " + (dir / "fifo")},
      {{bin, "recommend", "--prometheus", "http://127.0.0.1:9", "--overrides", "/dev/zero"},
       "oomwatch: --overrides must be a regular file; this is a character device: /dev/zero"},
      {{bin, "recommend", "--prometheus", "http://127.0.0.1:9", "--knative-services", dir / "fifo"},
       "oomwatch: --knative-services must be a regular file; this is a FIFO: " + (dir / "fifo")},
      {{bin, "run", "--config", "/dev/zero"},
       "oomwatch: the config file must be a regular file; this is a character device: /dev/zero"},
  };
  for (const auto& c : cases) {
    INFO(c.argv[1] << " " << c.argv.back());
    auto r = owtest::run(c.argv, 20);
    INFO(r.err);
    if (c.argv[1] == "run" && ::geteuid() != 0) continue;  // run checks root first
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind(c.says + "\n", 0) == 0);
    CHECK(r.out.empty());
  }
}
