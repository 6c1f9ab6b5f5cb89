// The agent's stop line: what it put back, with counts, and what is left.
#include <catch2/catch.hpp>

#include "agent/stop_line.hpp"

using ow::agent::StopCounts;
using ow::agent::stop_line;

TEST_CASE("the stop line names what was restored, with counts", "[agent][unit]") {
  CHECK(stop_line({}) == "stopped: nothing to restore; nothing left changed");
  StopCounts v1;
  v1.oom_kill_disable = 3;
  CHECK(stop_line(v1) == "stopped: restored 3 oom_kill_disable, 0 memory.high guards; nothing left changed");
  StopCounts v2;
  v2.memory_high = 1;
  v2.hints_on = true;
  v2.hints = 2;
  CHECK(stop_line(v2) ==
        "stopped: restored 0 oom_kill_disable, 1 memory.high guard, withdrew 2 GOMEMLIMIT hints; nothing left changed");
  StopCounts hints;
  hints.hints_on = true;
  CHECK(stop_line(hints) == "stopped: withdrew 0 GOMEMLIMIT hints; nothing left changed");
}

TEST_CASE("the stop line says what is left changed and how to put it back", "[agent][unit]") {
  StopCounts c;
  c.settings_left = 2;
  c.settings_error = "write memory.oom_control: Permission denied";
  CHECK(stop_line(c) == "stopped: restored nothing; left changed: 2 settings (write memory.oom_control: Permission "
                        "denied); run 'oomwatch restore'");
  c.hints_on = true;
  c.hints = 1;
  c.hints_error = "unpin: busy";
  CHECK(stop_line(c) == "stopped: withdrew 1 GOMEMLIMIT hint; left changed: 2 settings (write memory.oom_control: "
                        "Permission denied), GOMEMLIMIT hints (unpin: busy); run 'oomwatch restore'");
}
