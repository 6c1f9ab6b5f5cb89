// The [recommend] section of the run config: its keys, defaults, and errors.
#include <catch2/catch.hpp>

#include "config/config.hpp"

using namespace ow::config;

TEST_CASE("config: [recommend] keys and defaults", "[config][recommend]") {
  auto d = parse_config("", "t.toml");
  REQUIRE(d.ok());
  CHECK(d->recommend_interval_ns == 300'000'000'000);
  CHECK(d->recommend_pods_log_dir == "/var/log");
  CHECK_FALSE(d->recommend_enforce);
  auto c = parse_config("interval = \"1s\"\n[recommend]\ninterval = \"90s\"\npods_log_dir = \"/srv/log\"\nenforce = true\n", "t.toml");
  REQUIRE(c.ok());
  CHECK(c->recommend_interval_ns == 90'000'000'000);
  CHECK(c->recommend_pods_log_dir == "/srv/log");
  CHECK(c->recommend_enforce);
  CHECK(c->interval_ns == 1'000'000'000);  // the top-level key is not the section's
}

TEST_CASE("config: [recommend] errors name file, line and key", "[config][recommend]") {
  struct Row {
    const char* text;
    const char* says;
  };
  const Row rows[] = {
      {"[recommend]\ninterval = \"0s\"\n", "t.toml:2: recommend.interval:"},
      {"[recommend]\ninterval = \"soon\"\n", "t.toml:2: recommend.interval: bad duration"},
      {"[recommend]\nwindow = \"1h\"\n", "t.toml:2: recommend.window: unknown key (known: interval, pods_log_dir, enforce)"},
      {"[recommend]\nenforce = \"yes\"\n", "t.toml:2: recommend.enforce:"},
      {"recommend = 5\n", "t.toml:1: recommend: want a [recommend] table"},
      {"[recommend]\npods_log_dir = 3\n", "t.toml:2: recommend.pods_log_dir:"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto c = parse_config(r.text, "t.toml");
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message().find(r.says) == 0);
  }
}
