// Shared pieces of the command-line front end: exit codes, error lines with
// hints, signal handling for long-running commands.
#pragma once
#include <atomic>
#include <chrono>
#include <string>

#include "cgroup/hierarchy.hpp"
#include "util/result.hpp"

namespace ow::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitEnv = 1;    // environment problem: message says the fix
inline constexpr int kExitUsage = 2;  // bad input: message names the bad value

// "oomwatch: <msg>" on stderr, then "HINT: <hint>" when given; returns the code.
int fail(int code, const std::string& msg, const std::string& hint = {});
int fail(int code, const Error& e, const std::string& hint = {});
// The exit code from the error itself: kExitUsage when the input was at fault
// (Error::usage), else kExitEnv.
int fail(const Error& e, const std::string& hint = {});

// Root and a memory hierarchy are needed by most commands.
int require_root(const char* what);
Result<cg::Hierarchy> memory_hierarchy();

// SIGINT/SIGTERM set this flag (no SA_RESTART, so blocking calls return EINTR).
extern std::atomic<bool> g_stop;
void install_stop_handlers();
// Sleeps until t, or until g_stop is set (Ctrl-C interrupts the wait).
void sleep_until(std::chrono::steady_clock::time_point t);

// Whether --log-level was on the command line (it wins over a config file).
bool log_level_from_flag();
void set_log_level_from_flag(bool given);

// Flushes after each line: consumers read events through pipes.
void print_line(const std::string& s);
// s as it is (it ends its own lines), flushed.
void print_text(const std::string& s);

}  // namespace ow::cli
