// `oomwatch collect` flag validation, through the real binary: every refusal
// happens before the system is touched (no root, no cgroup, no file), exits 2
// and names the bad flag and value in one line.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>

#include "helpers.hpp"
#include "test_store_tmp.hpp"

namespace {
owtest::CmdResult collect(const std::vector<std::string>& args) {
  std::vector<std::string> argv{owtest::oomwatch_bin(), "collect"};
  argv.insert(argv.end(), args.begin(), args.end());
  return owtest::run(argv);
}

void expect_usage(const std::vector<std::string>& args, const std::string& needle) {
  auto r = collect(args);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("oomwatch: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);  // the message and at most a HINT
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }
}  // namespace

TEST_CASE("collect: --duration is required, finite and positive", "[collect][cli]") {
  expect_usage({}, "--duration");
  expect_usage({"--interval", "1s"}, "--duration");
  expect_usage({"--duration", "soon"}, "--duration");
  expect_usage({"--duration", "0s"}, "--duration 0s: must be longer than zero");
  expect_usage({"--duration", "-1s"}, "--duration");
  expect_usage({"--duration", "5x"}, "bad duration unit in '5x'");
}

TEST_CASE("collect: --interval is at least 50ms", "[collect][cli]") {
  expect_usage({"--duration", "1s", "--interval", "10ms"}, "--interval 10ms: must be at least 50ms");
  expect_usage({"--duration", "1s", "--interval", "49ms"}, "--interval 49ms: must be at least 50ms");
  expect_usage({"--duration", "1s", "--interval", "0s"}, "--interval 0s");
  expect_usage({"--duration", "1s", "--interval", "fast"}, "--interval");
}

TEST_CASE("collect: --out must be .jsonl or .csv, and nothing is created otherwise", "[collect][cli]") {
  owtest::TempDir d;
  for (const char* name : {"f.txt", "f", "f.csv.gz", "f.jsonl.bak"}) {
    std::string p = d / name;
    expect_usage({"--duration", "1s", "--out", p}, "--out " + p);
    CHECK_FALSE(exists(p));
  }
  // The flags are checked before the cgroups: a bad --out wins over an unknown cgroup.
  expect_usage({"--duration", "1s", "--cgroup", "/no/such", "--out", d / "x.txt"}, "x.txt");
}

TEST_CASE("collect: --source is auto, bpf or files", "[collect][cli]") {
  expect_usage({"--duration", "1s", "--source", "magic"}, "magic");
}

TEST_CASE("collect --help names every flag", "[collect][cli]") {
  auto r = collect({"--help"});
  CHECK(r.exit_code == 0);
  for (const char* flag : {"--duration", "--interval", "--cgroup", "--out", "--source", "--json"})
    CHECK(r.out.find(flag) != std::string::npos);
  auto top = owtest::run({owtest::oomwatch_bin(), "--help"});
  CHECK(top.out.find("collect") != std::string::npos);
}
