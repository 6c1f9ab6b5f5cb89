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
#include "fleet/prom_api.hpp"
#include "fleet/yaml_json.hpp"
#include "recommend/quantity.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

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

TEST_CASE("YAML aliases count as what they expand to: a 'billion laughs' file is refused, not expanded",
          "[unit][safety][input]") {
  // 514 bytes that expand to 9^9 (387 million) strings.
  std::string y = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    y += std::string(1, c) + ": &" + c + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" +
         prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n";
  }
  auto j = ow::fleet::yaml_to_json(y);
  REQUIRE_FALSE(j);
  CHECK(j.error().message().find("YAML expands to more than 1000000 values") != std::string::npos);
  // One alias used a few times is fine.
  auto ok = ow::fleet::yaml_to_json("base: &b {memory: 1Gi}\nx: *b\ny: *b\n");
  REQUIRE(ok);
  CHECK((*ok)["y"]["memory"] == "1Gi");
}

TEST_CASE("Prometheus sample values: decimal, exponent or NaN/Inf only, in range", "[unit][safety][input]") {
  auto answer = [](const std::string& v) {
    return ow::fleet::parse_answer(
        200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[5,")" + v + R"("]}]}})",
        "q");
  };
  CHECK(answer("3"));
  CHECK(answer("1.5e+06"));
  CHECK(answer("268435456"));
  for (const char* bad : {"0x10", " 5", "5 ", "infinity", "1e30", "", "--1", "1_000"}) {
    INFO(bad);
    auto a = answer(bad);
    REQUIRE_FALSE(a);
    CHECK(a.error().message().size() < 300);
  }
  CHECK(answer("1e30").error().message().find("out of range") != std::string::npos);
  CHECK(answer("0x10").error().message().find("is not a number") != std::string::npos);
}

TEST_CASE("a bad value is quoted short in its error line, however long it is", "[unit][safety][input]") {
  std::string huge(1 << 20, '9');
  huge += "Q";
  for (const auto& e : {ow::parse_size(huge).error(), ow::recommend::parse_quantity(huge).error(),
                        ow::parse_duration(huge + "x").error()}) {
    INFO(e.message().substr(0, 200));
    CHECK(e.message().size() < 200);
    CHECK(e.message().find(" bytes)") != std::string::npos);
  }
  CHECK(ow::excerpt("short") == "short");
}
