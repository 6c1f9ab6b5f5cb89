// The run config file: every key parsed, defaults when absent, to_params and
// per-cgroup lookups. Errors are in test_config_errors.cpp.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "config/config.hpp"

using namespace ow::config;
using ow::policy::Reservation;
constexpr uint64_t MiB = 1ull << 20;
constexpr int64_t kMs = 1'000'000;

TEST_CASE("config: every key parsed", "[config]") {
  const char* text = R"(
enforce = true
hints = true
manage = ["/kubepods", "/system.slice"]
reservation = "strict"
rescue = false
audit_log = "/tmp/audit.jsonl"
interval = "250ms"
db = "/tmp/h.db"
listen = ""
log_level = "debug"
loop_priority = "nice"
gomemlimit_interval = 5
v1_pause_deadline = "750ms"
min_step = "32M"
cooldown = "10s"
max_moved_per_minute = 536870912
reserve = "10%"

[[cgroup]]
path = "/kubepods/a"
floor = "64M"
ceiling = "1G"
donate = false
priority = 10

[[cgroup]]
path = "/kubepods/b"
ceiling = "max"
)";
  auto r = parse_config(text, "oomwatch.toml");
  INFO((r ? "" : r.error().message()));
  REQUIRE(r);
  const Config& c = *r;
  CHECK(c.enforce);
  CHECK(c.hints);
  CHECK(c.manage == std::vector<std::string>{"/kubepods", "/system.slice"});
  CHECK(c.reservation == Reservation::strict);
  CHECK_FALSE(c.rescue);
  CHECK(c.audit_log == "/tmp/audit.jsonl");
  CHECK(c.interval_ns == 250 * kMs);
  CHECK(c.db == "/tmp/h.db");
  CHECK(c.listen.empty());
  CHECK(c.log_level == "debug");
  CHECK(c.loop_priority == ow::LoopPriority::nice);
  CHECK(c.gomemlimit_interval_ns == 5000 * kMs);  // integer durations are seconds
  CHECK(c.v1_pause_deadline_ns == 750 * kMs);
  CHECK(c.min_step_bytes == 32 * MiB);
  CHECK(c.cooldown_ns == 10000 * kMs);
  CHECK(c.max_moved_per_minute_bytes == 512 * MiB);  // integer sizes are bytes
  CHECK(c.reserve_fraction == Approx(0.10));
  CHECK(c.reserve_bytes == 0);
  REQUIRE(c.cgroups.size() == 2);
  CHECK(c.cgroups[0].path == "/kubepods/a");
  CHECK(c.cgroups[0].line == 21);  // its path key
  CHECK(c.cgroups[0].policy.floor_bytes == 64 * MiB);
  CHECK(c.cgroups[0].policy.ceiling_bytes == 1024 * MiB);
  CHECK_FALSE(c.cgroups[0].policy.may_donate);
  CHECK(c.cgroups[0].policy.priority == 10);
  CHECK(c.cgroups[1].policy.floor_bytes == 0);
  CHECK(c.cgroups[1].policy.ceiling_bytes == ow::kUnlimited);
  CHECK(c.cgroups[1].policy.may_donate);

  auto p = to_params(c);
  CHECK(p.reservation == Reservation::strict);
  CHECK(p.min_step_bytes == 32 * MiB);
  CHECK(p.cooldown_ns == 10000 * kMs);
  CHECK(p.max_moved_per_minute_bytes == 512 * MiB);
  CHECK(p.reserve_fraction == Approx(0.10));
  CHECK(cgroup_policy(c, "/kubepods/a").priority == 10);
  CHECK(cgroup_policy(c, "/elsewhere").may_donate);
  CHECK(cgroup_policy(c, "/elsewhere").ceiling_bytes == ow::kUnlimited);
}

TEST_CASE("config: an empty file gives the documented defaults", "[config]") {
  auto r = parse_config("", "empty.toml");
  REQUIRE(r);
  CHECK_FALSE(r->enforce);  // observe-only until told otherwise
  CHECK(r->manage.empty());
  CHECK(r->reservation == Reservation::physical);
  CHECK(r->rescue);
  CHECK(r->audit_log == "/var/log/oomwatch/audit.jsonl");
  CHECK(r->db == "/var/lib/oomwatch/history.db");
  CHECK_FALSE(r->hints);  // observe-only publishes nothing
  CHECK(r->listen.empty());  // no listener unless asked for
  CHECK(r->loop_priority == ow::LoopPriority::fifo);
  CHECK(r->interval_ns == 1000 * kMs);
  CHECK(r->v1_pause_deadline_ns == 500 * kMs);
  CHECK(r->min_step_bytes == 16 * MiB);
  CHECK(r->cooldown_ns == 30000 * kMs);
  CHECK(r->reserve_fraction == Approx(0.05));
  CHECK(r->cgroups.empty());
}

TEST_CASE("config: reserve as a fraction, a percentage or a size; listen may be off", "[config]") {
  struct Row { const char* text; double fraction; uint64_t bytes; };
  const Row rows[] = {
      {"reserve = 0.1", 0.1, 0},
      {"reserve = \"2.5%\"", 0.025, 0},
      {"reserve = \"0%\"", 0.0, 0},
      {"reserve = \"256M\"", 0.0, 256 * MiB},
      {"reserve = 4096", 0.0, 4096},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto c = parse_config(r.text, "r.toml");
    REQUIRE(c);
    CHECK(c->reserve_fraction == Approx(r.fraction));
    CHECK(c->reserve_bytes == r.bytes);
  }
  auto off = parse_config("listen = \"\"", "l.toml");
  REQUIRE(off);
  CHECK(off->listen.empty());
  auto on = parse_config("listen = \"127.0.0.1:9721\"\nmetrics_max_cgroups = 50", "l.toml");
  REQUIRE(on);
  CHECK(on->listen == "127.0.0.1:9721");
  CHECK(on->metrics_max_cgroups == 50);
  CHECK(on->web_config_file.empty());
  auto web = parse_config("listen = \"0.0.0.0:9721\"\nweb_config_file = \"/etc/oomwatch/web.yml\"", "l.toml");
  REQUIRE(web);
  CHECK(web->web_config_file == "/etc/oomwatch/web.yml");
  auto v6 = parse_config("listen = \"[::1]:9721\"", "l.toml");
  REQUIRE(v6);
  CHECK(v6->listen == "[::1]:9721");
}

TEST_CASE("config: load_config reads a file and names it in errors", "[config]") {
  char tmpl[] = "/tmp/owtest-config-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  std::string path = tmpl;
  {
    std::ofstream(path) << "enforce = true\n\ninterval = \"2x\"\n";
  }
  auto bad = load_config(path);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().rfind(path + ":3: interval: ", 0) == 0);
  {
    std::ofstream(path) << "enforce = true\n";
  }
  auto good = load_config(path);
  REQUIRE(good);
  CHECK(good->enforce);
  std::remove(path.c_str());

  auto missing = load_config(path);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find(path) != std::string::npos);
}

TEST_CASE("config: non-ASCII text in double-quoted strings and comments is kept or ignored", "[config]") {
  auto r = parse_config("# caf\xc3\xa9 \xe2\x80\x94 comment\naudit_log = \"/var/log/\xd0\x88\xf0\x9f\x90\xb3.jsonl\"\n"
                        "db = \"\"\"/tmp/\\\"\xc3\xa9\"\"\"\n",
                        "u.toml");
  INFO((r ? "" : r.error().message()));
  REQUIRE(r);
  CHECK(r->audit_log == "/var/log/\xd0\x88\xf0\x9f\x90\xb3.jsonl");
  CHECK(r->db == "/tmp/\"\xc3\xa9");
}
