// A worker process: the thing that holds memory inside the test cgroup and
// gets OOM-killed. The controlling oomwatch stays outside the cgroup so it
// survives to report. Reports arrive on a pipe (see wire.hpp); the worker
// holds its memory until the controller calls release() (or dies: the worker
// gets SIGKILL with its parent and sees EOF on its control pipe).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "cgroup/scoped.hpp"
#include "stress/plan.hpp"
#include "stress/strategy.hpp"
#include "stress/wire.hpp"
#include "util/fd.hpp"

namespace ow::stress {

struct WorkerSpec : Charging {
  uint64_t total_bytes = 0;
  std::chrono::nanoseconds step_delay{0};    // pause after each step: a slower, observable climb
  std::chrono::nanoseconds cycle_period{0};  // 0: hold still; > 0: free and re-charge one chunk per period
};

// The worker's body, in the forked child after it joined the cgroup: grows per
// spec, reports on report_fd, then holds (or cycles) until control_fd reads
// EOF. Returns the process exit code (0 released, 1 after an Error report).
int worker_main(const WorkerSpec& spec, int report_fd, int control_fd);

class Worker {
 public:
  // Forks; the child moves itself into `rel` before touching any memory, so
  // every page it charges lands in that cgroup.
  static Result<Worker> spawn(const cg::Hierarchy& h, const std::string& rel, const WorkerSpec& spec);

  Worker(Worker&& o) noexcept;
  Worker& operator=(Worker&& o) noexcept;
  Worker(const Worker&) = delete;
  ~Worker();  // a worker still running is SIGKILLed and reaped

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  int report_fd() const { return report_.get(); }  // poll for POLLIN: records, or EOF
  // Moves the complete records available now into out; false once the pipe is at EOF.
  bool read_reports(std::vector<WorkerMsg>& out);
  void release();          // close the control pipe: the worker frees and exits 0
  void kill();             // SIGKILL (Ctrl-C, end of a stress run)
  cg::ExitStatus reap();   // blocking waitpid; the worker is gone afterwards

 private:
  Worker(pid_t pid, UniqueFd report, UniqueFd control)
      : pid_(pid), report_(std::move(report)), control_(std::move(control)) {}

  pid_t pid_ = -1;
  UniqueFd report_;   // read end of worker -> controller
  UniqueFd control_;  // write end of controller -> worker; closing it means "release"
  std::string buf_;
};

}  // namespace ow::stress
