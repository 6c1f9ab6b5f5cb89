// The agent's stop line: see stop_line.hpp.
#include "agent/stop_line.hpp"

namespace ow::agent {
namespace {

std::string count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string stop_line(const StopCounts& c) {
  std::string done;
  auto add = [&](const std::string& s) { done += (done.empty() ? "" : ", ") + s; };
  if (c.oom_kill_disable || c.memory_high) {
    add(std::to_string(c.oom_kill_disable) + " oom_kill_disable");
    add(count(static_cast<size_t>(c.memory_high), "memory.high guard", "memory.high guards"));
  }
  if (!done.empty()) done = "restored " + done;
  if (c.hints || c.hints_on) add("withdrew " + count(c.hints, "GOMEMLIMIT hint", "GOMEMLIMIT hints"));
  std::string left;
  if (c.settings_left)
    left = count(c.settings_left, "setting", "settings") + (c.settings_error.empty() ? "" : " (" + c.settings_error + ")");
  if (!c.hints_error.empty()) left += (left.empty() ? "" : ", ") + std::string("GOMEMLIMIT hints (") + c.hints_error + ")";
  if (done.empty()) done = left.empty() ? "nothing to restore" : "restored nothing";
  return "stopped: " + done + (left.empty() ? "; nothing left changed" : "; left changed: " + left + "; run 'oomwatch restore'");
}

}  // namespace ow::agent
