// A throw-away cgroup: created by create(), removed (tasks killed first) when
// the object dies, so tests and `exec` leave nothing behind on any path.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"

namespace ow::cg {

class ScopedCgroup {
 public:
  // Creates <parent>/<prefix>-<pid>-<n> with the given limit (kUnlimited: none).
  static Result<ScopedCgroup> create(const Hierarchy& h, const std::string& parent, const std::string& prefix,
                                     uint64_t limit_bytes);
  ScopedCgroup(ScopedCgroup&& o) noexcept;
  ScopedCgroup& operator=(ScopedCgroup&&) = delete;
  ~ScopedCgroup();

  const std::string& path() const { return rel_; }
  const Hierarchy& hierarchy() const { return h_; }
  Status remove();  // explicit removal, to report its error

 private:
  ScopedCgroup(Hierarchy h, std::string rel) : h_(std::move(h)), rel_(std::move(rel)) {}
  Hierarchy h_;
  std::string rel_;
};

// fork + move the child into `rel` + execvp(argv). The child enters the cgroup
// before exec, so every byte the command touches is charged there.
// exec failures are reported through a pipe, not as a mysterious exit 127.
Result<pid_t> spawn_in(const Hierarchy& h, const std::string& rel, const std::vector<std::string>& argv);

// waitpid through EINTR. When `stop` becomes true (SIGINT/SIGTERM to us), the
// child gets SIGTERM once and is still reaped.
struct ExitStatus {
  int exit_code = 0;  // shell convention: 128+signal when killed
  bool signaled = false;
  int signal = 0;
};
ExitStatus wait_child(pid_t pid, const std::atomic<bool>* stop = nullptr);

}  // namespace ow::cg
