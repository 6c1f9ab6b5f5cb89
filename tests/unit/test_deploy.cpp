// The files under deploy/ that the agent reads: the config example must
// parse with the real parser (every key in it accepted), and hold the
// defaults the unit relies on.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <string>

#include "config/config.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

namespace {
// The repository holding this test binary (build/tests/unit): the first
// directory above it with deploy/, else the working directory.
std::string repo_file(const std::string& rel) {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string dir = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!dir.empty()) {
    dir = dir.substr(0, dir.rfind('/'));
    if (::access((dir + "/" + rel).c_str(), F_OK) == 0) return dir + "/" + rel;
  }
  return rel;
}
}  // namespace

TEST_CASE("deploy: the example oomwatch.toml parses with the real config parser", "[deploy]") {
  auto c = ow::config::load_config(repo_file("deploy/oomwatch.toml"));
  INFO((c ? "" : c.error().message()));
  REQUIRE(c);
  CHECK(!c->enforce);
  CHECK(c->listen == "127.0.0.1:9721");
  CHECK(c->metrics_max_cgroups == 2000);
  // The unit's ExecStopPost runs `oomwatch restore` with the default paths.
  CHECK(c->audit_log == ow::config::Config{}.audit_log);
  CHECK(c->db == ow::config::Config{}.db);
}

TEST_CASE("deploy: the systemd unit is Type=notify, restores on stop, and systemd-analyze verifies it", "[deploy]") {
  auto unit = ow::read_text(repo_file("deploy/systemd/oomwatch.service"));
  REQUIRE(unit);
  for (const char* line : {"Type=notify\n", "ExecStart=/usr/local/bin/oomwatch run --config /etc/oomwatch/oomwatch.toml\n",
                           "ExecStopPost=/usr/local/bin/oomwatch restore", "OOMScoreAdjust=-1000\n",
                           "Restart=on-failure\n", "RuntimeDirectoryPreserve=yes\n"}) {
    INFO(line);
    CHECK(unit->find(line) != std::string::npos);
  }
  // Directives that would make cgroupfs read-only must stay out.
  for (const char* bad : {"\nProtectControlGroups=yes", "\nProtectKernelTunables=yes"}) {
    INFO(bad);
    CHECK(unit->find(bad) == std::string::npos);
  }
  if (owtest::run({"sh", "-c", "command -v systemd-analyze"}).exit_code != 0) {
    WARN("systemd-analyze not installed: unit not verified");
    return;
  }
  // The binary path pointed at the build (verify checks that it is executable).
  char dir[] = "/tmp/owtest-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string copy = std::string(dir) + "/oomwatch.service", text = *unit;
  for (size_t p; (p = text.find("/usr/local/bin/oomwatch")) != std::string::npos;)
    text.replace(p, std::strlen("/usr/local/bin/oomwatch"), owtest::oomwatch_bin());
  REQUIRE(ow::write_file_atomic(copy, text));
  auto r = owtest::run({"systemd-analyze", "verify", "--man=no", copy}, 60);
  owtest::run({"rm", "-rf", dir});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("oomwatch.service") == std::string::npos);  // no warning about the unit
}
