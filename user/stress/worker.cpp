#include "stress/worker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>

#include "util/fs.hpp"

namespace ow::stress {
namespace {

// Leaves the child only stdio and its own two pipe ends: a worker holding a
// copy of a sibling's control pipe would keep that sibling from seeing EOF.
void keep_only_fds(int a, int b) {
  int lo = std::min(a, b), hi = std::max(a, b);
  if (lo > 3) ::close_range(3, static_cast<unsigned>(lo - 1), 0);
  if (hi > lo + 1) ::close_range(static_cast<unsigned>(lo + 1), static_cast<unsigned>(hi - 1), 0);
  ::close_range(static_cast<unsigned>(hi + 1), ~0U, 0);
}

[[noreturn]] void child(const cg::Hierarchy& h, const std::string& rel, const WorkerSpec& spec, pid_t parent,
                        int report_w, int control_r) {
  // Die with the controller, so a SIGKILLed oomwatch leaves no worker behind.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
  // The controller's stop handlers would only set a flag in this copy of it.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGHUP, SIG_DFL);
  keep_only_fds(report_w, control_r);
  auto j = h.move_pid(rel, ::getpid());
  if (!j) {
    (void)send_msg(report_w, make_error_msg(j.error(), 0));
    ::_exit(1);
  }
  // Without a limit a run can reach a global OOM: the worker must be the victim.
  (void)write_text("/proc/self/oom_score_adj", "1000");
  ::_exit(worker_main(spec, report_w, control_r));
}

}  // namespace

Result<Worker> Worker::spawn(const cg::Hierarchy& h, const std::string& rel, const WorkerSpec& spec) {
  int rep[2], ctl[2];
  if (::pipe2(rep, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd rep_r(rep[0]), rep_w(rep[1]);
  if (::pipe2(ctl, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd ctl_r(ctl[0]), ctl_w(ctl[1]);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork worker");
  if (pid == 0) child(h, rel, spec, parent, rep_w.get(), ctl_r.get());
  ::fcntl(rep_r.get(), F_SETFL, O_NONBLOCK);
  return Worker(pid, std::move(rep_r), std::move(ctl_w));
}

Worker::Worker(Worker&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), report_(std::move(o.report_)), control_(std::move(o.control_)),
      buf_(std::move(o.buf_)) {}

Worker& Worker::operator=(Worker&& o) noexcept {
  if (this != &o) {
    if (running()) {
      kill();
      reap();
    }
    pid_ = std::exchange(o.pid_, -1);
    report_ = std::move(o.report_);
    control_ = std::move(o.control_);
    buf_ = std::move(o.buf_);
  }
  return *this;
}

Worker::~Worker() {
  if (!running()) return;
  kill();
  reap();
}

bool Worker::read_reports(std::vector<WorkerMsg>& out) {
  char tmp[sizeof(WorkerMsg) * 32];
  for (;;) {
    ssize_t n = ::read(report_.get(), tmp, sizeof tmp);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      continue;
    }
    auto msgs = take_msgs(buf_);
    out.insert(out.end(), msgs.begin(), msgs.end());
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return true;  // EAGAIN: nothing more for now
  }
}

void Worker::release() { control_.reset(); }

void Worker::kill() {
  if (running()) ::kill(pid_, SIGKILL);
}

cg::ExitStatus Worker::reap() {
  if (!running()) return {};
  auto st = cg::wait_child(pid_);
  pid_ = -1;
  report_.reset();
  control_.reset();
  return st;
}

}  // namespace ow::stress
