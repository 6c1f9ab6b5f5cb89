// Every log line is one line of printable text, whatever a call site put in
// it: cgroup and process names are a tenant's bytes (C0 and C1 controls, an
// escape sequence, invalid UTF-8, a newline).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <spdlog/spdlog.h>

#include "util/fs.hpp"
#include "util/log.hpp"
#include "test_store_tmp.hpp"

TEST_CASE("log lines: a hostile name is escaped in every message, one line each", "[safety][text]") {
  owtest::TempDir d;
  auto saved = spdlog::default_logger();
  int keep = ::dup(2);
  REQUIRE(keep >= 0);
  int f = ::open((d / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(f >= 0);
  REQUIRE(::dup2(f, 2) == 2);
  ::close(f);
  ow::setup_logging("info");
  spdlog::warn("{} is at its own limit", "/pod\x1b[31m\xc2\x9b\xc2\x9d\xff\nforged line");
  spdlog::info("plain text stays: {}", "caf\xc3\xa9 \xe2\x80\x94 /a/b");
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  ::dup2(keep, 2);
  ::close(keep);
  spdlog::set_default_logger(saved);
  auto text = ow::read_text(d / "err");
  REQUIRE(text);
  INFO(*text);
  CHECK(text->find("/pod\\x1b[31m\\xc2\\x9b\\xc2\\x9d\\xff\\x0aforged line is at its own limit") != std::string::npos);
  CHECK(text->find("plain text stays: caf\xc3\xa9 \xe2\x80\x94 /a/b") != std::string::npos);
  size_t lines = 0;
  for (char c : *text) lines += c == '\n';
  CHECK(lines == 2);
  CHECK(text->find('\x1b') == std::string::npos);
}
