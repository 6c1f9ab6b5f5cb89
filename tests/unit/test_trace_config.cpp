// The trace keys of the config file: trace_max_duration bounds `oomwatch
// trace`, trace_on_incident turns the agent's incident traces on (off by
// default); bad values are one-line errors naming the key.
#include <catch2/catch.hpp>

#include "config/config.hpp"

using ow::config::parse_config;

TEST_CASE("config: trace_max_duration and trace_on_incident", "[unit][trace]") {
  auto d = parse_config("", "t.toml");
  REQUIRE(d);
  CHECK(d->trace_max_duration_ns == 300'000'000'000);
  CHECK(d->trace_on_incident_ns == 0);

  auto c = parse_config("trace_max_duration = \"30s\"\ntrace_on_incident = \"5s\"\n", "t.toml");
  REQUIRE(c);
  CHECK(c->trace_max_duration_ns == 30'000'000'000);
  CHECK(c->trace_on_incident_ns == 5'000'000'000);
  auto off = parse_config("trace_on_incident = 0\n", "t.toml");
  REQUIRE(off);
  CHECK(off->trace_on_incident_ns == 0);

  struct Bad {
    const char* text;
    const char* key;
  };
  for (const auto& b : {Bad{"trace_max_duration = \"0s\"\n", "trace_max_duration"},
                        Bad{"trace_max_duration = \"soon\"\n", "trace_max_duration"},
                        Bad{"trace_on_incident = \"-1s\"\n", "trace_on_incident"},
                        Bad{"trace_on_incident = true\n", "trace_on_incident"}}) {
    auto r = parse_config(b.text, "t.toml");
    INFO(b.text);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find(b.key) != std::string::npos);
    CHECK(r.error().message().find('\n') == std::string::npos);
  }
}
