// Every log line is one line of printable text, whatever a call site put in
// it: cgroup and process names are a tenant's bytes (C0 and C1 controls, an
// escape sequence, invalid UTF-8, a newline).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <spdlog/spdlog.h>

#include "util/fs.hpp"
#include "util/log.hpp"
#include "test_store_tmp.hpp"

namespace {
// What `body` writes to stderr (fd 2 pointed at a file meanwhile), with the
// default logger put back afterwards.
template <class F>
std::string captured_stderr(F body) {
  owtest::TempDir d;
  auto saved = spdlog::default_logger();
  int keep = ::dup(2);
  REQUIRE(keep >= 0);
  int f = ::open((d / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(f >= 0);
  REQUIRE(::dup2(f, 2) == 2);
  ::close(f);
  body();
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  ::dup2(keep, 2);
  ::close(keep);
  spdlog::set_default_logger(saved);
  auto text = ow::read_text(d / "err");
  REQUIRE(text);
  return *text;
}
}  // namespace

TEST_CASE("log lines: a hostile name is escaped in every message, one line each", "[safety][text]") {
  auto out = captured_stderr([] {
    ow::setup_logging("info");
    spdlog::warn("{} is at its own limit", "/pod\x1b[31m\xc2\x9b\xc2\x9d\xff\nforged line");
    spdlog::info("plain text stays: {}", "caf\xc3\xa9 \xe2\x80\x94 /a/b");
  });
  const std::string* text = &out;
  INFO(*text);
  CHECK(text->find("/pod\\x1b[31m\\xc2\\x9b\\xc2\\x9d\\xff\\x0aforged line is at its own limit") != std::string::npos);
  CHECK(text->find("plain text stays: caf\xc3\xa9 \xe2\x80\x94 /a/b") != std::string::npos);
  size_t lines = 0;
  for (char c : *text) lines += c == '\n';
  CHECK(lines == 2);
  CHECK(text->find('\x1b') == std::string::npos);
}

// systemd hands a service's stderr to journald and says so in JOURNAL_STREAM
// ("DEV:INODE" of that stream): then each line carries its priority as a
// "<N>" prefix, which journald strips and keeps (journalctl -p warning).
TEST_CASE("log lines: on systemd's journal stream each line starts with its syslog priority", "[log]") {
  const char* old_env = std::getenv("JOURNAL_STREAM");
  std::string saved_env = old_env ? old_env : "";
  auto out = captured_stderr([] {
    struct stat st {};
    REQUIRE(::fstat(2, &st) == 0);
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    ow::setup_logging("debug");
    spdlog::debug("detail");
    spdlog::info("ready");
    spdlog::warn("a warning");
    spdlog::error("an error");
    spdlog::default_logger()->flush();
    // Another stream (stderr of a shell the service started): plain lines.
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
    ow::setup_logging("info");
    spdlog::warn("plain");
  });
  if (old_env)
    ::setenv("JOURNAL_STREAM", saved_env.c_str(), 1);
  else
    ::unsetenv("JOURNAL_STREAM");
  const std::string* text = &out;
  INFO(*text);
  CHECK(text->rfind("<7>debug detail\n<6>info ready\n<4>warning a warning\n<3>error an error\n", 0) == 0);
  auto last = text->substr(text->find("an error\n") + 9);
  CHECK(last.find("<") == std::string::npos);
  CHECK(last.find(" warning plain") != std::string::npos);
  CHECK(last[4] == '-');  // 2026-...: the time comes first off the journal
}

TEST_CASE("JOURNAL_STREAM is read as DEV:INODE and nothing else", "[log]") {
  CHECK(ow::journal_stream_is("8:1234", 8, 1234));
  CHECK_FALSE(ow::journal_stream_is("8:1234", 8, 1235));
  CHECK_FALSE(ow::journal_stream_is(nullptr, 8, 1234));
  CHECK_FALSE(ow::journal_stream_is("", 8, 1234));
  CHECK_FALSE(ow::journal_stream_is("8:", 8, 0));
  CHECK_FALSE(ow::journal_stream_is("8:1234x", 8, 1234));
  CHECK_FALSE(ow::journal_stream_is(":1234", 0, 1234));
}
