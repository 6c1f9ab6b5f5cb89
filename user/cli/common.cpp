#include "cli/common.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::cli {

std::atomic<bool> g_stop{false};

// One line each, whatever bytes a name or a file put in the message: no
// control character or escape sequence reaches the operator's terminal.
int fail(int code, const std::string& msg, const std::string& hint) {
  // Under systemd the line goes to the journal at error priority ("<3>",
  // which journald strips), the hint at info.
  const bool journal = stderr_is_journal();
  std::fprintf(stderr, "%soomwatch: %s\n", journal ? "<3>" : "", printable(msg).c_str());
  if (!hint.empty()) std::fprintf(stderr, "%sHINT: %s\n", journal ? "<6>" : "", printable(hint).c_str());
  return code;
}

int fail(int code, const Error& e, const std::string& hint) {
  std::string h = hint;
  if (h.empty() && (e.err == EPERM || e.err == EACCES)) h = "run oomwatch as root";
  return fail(code, e.message(), h);
}

int fail(const Error& e, const std::string& hint) { return fail(e.usage ? kExitUsage : kExitEnv, e, hint); }

int require_root(const char* what) {
  if (::geteuid() == 0) return kExitOk;
  return fail(kExitEnv, std::string(what) + " needs root (BPF and cgroup writes)", "run it with sudo");
}

Result<cg::Hierarchy> memory_hierarchy() { return cg::Hierarchy::discover(); }

static void on_stop(int) { g_stop.store(true); }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll/wait return EINTR so loops notice
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void sleep_until(std::chrono::steady_clock::time_point t) {
  while (!g_stop.load()) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::steady_clock::now()).count();
    if (ms <= 0) return;
    ::poll(nullptr, 0, static_cast<int>(ms));  // EINTR on Ctrl-C (no SA_RESTART)
  }
}

void print_line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void print_text(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

namespace {
bool g_log_level_flag = false;
}
bool log_level_from_flag() { return g_log_level_flag; }
void set_log_level_from_flag(bool given) { g_log_level_flag = given; }

}  // namespace ow::cli
