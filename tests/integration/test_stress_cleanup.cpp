// Root, real cgroups: no cgroup, worker or temp file is left behind after
// success, failure, a foreign kill, or Ctrl-C at any moment.
#include <catch2/catch.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "helpers.hpp"
#include "util/fs.hpp"

using nlohmann::json;

namespace {
// Complete lines only: the last one may still be being written.
std::vector<json> json_lines(const std::string& s) {
  std::vector<json> out;
  size_t end = s.rfind('\n');
  if (end == std::string::npos) return out;
  for (auto l : ow::split_lines(std::string_view(s).substr(0, end)))
    if (!l.empty()) out.push_back(json::parse(l));
  return out;
}
bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}
bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }
// Sub-cgroups of rel: a private --parent shows exactly what one run left behind,
// whatever other tests do in our own cgroup meanwhile.
std::set<std::string> children(const std::string& rel) {
  auto h = owtest::hierarchy();
  std::set<std::string> out;
  if (DIR* d = ::opendir(h.abs(rel).c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') out.insert(e->d_name);
    ::closedir(d);
  }
  return out;
}
// Waits for a line of `type` (and phase, when given); returns it.
json wait_line(owtest::Background& b, const std::string& type, const std::string& phase = {}) {
  json found;
  bool ok = owtest::wait_for(
      [&] {
        for (auto& l : json_lines(b.out()))
          if (l["type"] == type && (phase.empty() || l["phase"] == phase)) {
            found = l;
            return true;
          }
        return false;
      },
      15000);
  INFO(b.err());
  REQUIRE(ok);
  return found;
}
// SIGINT to the controller only (a terminal would also hit the worker).
int interrupt(owtest::Background& b) {
  ::kill(b.pid, SIGINT);
  int status = 0;
  bool done = owtest::wait_for([&] { return ::waitpid(b.pid, &status, WNOHANG) == b.pid; }, 5000);
  REQUIRE(done);
  b.pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
// Runs argv (a path) as uid and gid 65534 without supplementary groups, what
// `setpriv --reuid=65534 --regid=65534 --clear-groups` does; here because the
// VM tier's busybox setpriv has none of those options. stdout is dropped.
owtest::CmdResult run_as_nobody(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  char err_path[] = "/tmp/owtest-nobody-XXXXXX";
  int efd = ::mkstemp(err_path);
  REQUIRE(efd >= 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(efd, 2);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(126);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  ::close(efd);
  int status = 0;
  if (!owtest::wait_for([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 60000)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  owtest::CmdResult r;
  r.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  r.err = ow::read_text(err_path).value_or("");
  ::unlink(err_path);
  return r;
}
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/var/tmp/owtest-filedir-XXXXXX";
    REQUIRE(::mkdtemp(t));
    path = t;
  }
  ~TempDir() { ::rmdir(path.c_str()); }
  bool empty() const {
    DIR* d = ::opendir(path.c_str());
    if (!d) return false;
    int n = 0;
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n == 0;
  }
};
}  // namespace

TEST_CASE("Ctrl-C while holding kills the worker and removes cgroup and temp files", "[integration][stress][cleanup]") {
  auto h = owtest::hierarchy();
  TempDir dir;
  auto b = owtest::start({owtest::oomwatch_bin(), "test-memory", "--json", "--memory", "96M", "--alloc", "48M",
                          "--strategy", "mixed", "--hold", "60s", "--file-dir", dir.path});
  auto p = wait_line(*b, "progress", "holding");
  std::string cg = p["cgroup"];
  pid_t worker = p["worker_pid"];
  REQUIRE(exists(h.abs(cg)));
  auto procs = h.procs(cg);
  REQUIRE(procs.ok());
  CHECK(*procs == std::vector<pid_t>{worker});
  CHECK_FALSE(dir.empty());  // the file strategy's own directory

  CHECK(interrupt(*b) == 130);
  auto lines = json_lines(b->out());
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["type"] == "result");
  CHECK(lines.back()["interrupted"] == true);
  CHECK(lines.back()["oom_killed"] == false);
  CHECK_FALSE(exists(h.abs(cg)));
  CHECK_FALSE(alive(worker));
  CHECK(dir.empty());
}

TEST_CASE("Ctrl-C in the middle of allocating leaves nothing", "[integration][stress][cleanup]") {
  auto h = owtest::hierarchy();
  auto b = owtest::start({owtest::oomwatch_bin(), "test-memory", "--json", "--memory", "256M", "--alloc", "200M",
                          "--strategy", "shmem", "--step", "1M", "--step-delay", "20ms", "--interval", "50ms"});
  auto p = wait_line(*b, "progress", "allocating");
  REQUIRE(owtest::wait_for([&] {
    auto ls = json_lines(b->out());
    return !ls.empty() && ls.back()["allocated_bytes"].get<uint64_t>() >= (8u << 20);
  }, 10000));
  CHECK(interrupt(*b) == 130);
  CHECK_FALSE(exists(h.abs(p["cgroup"])));
  CHECK_FALSE(alive(p["worker_pid"]));
}

TEST_CASE("Ctrl-C ends stress-memory with exit 0 and removes its cgroup", "[integration][stress][cleanup]") {
  auto h = owtest::hierarchy();
  auto b = owtest::start({owtest::oomwatch_bin(), "stress-memory", "--json", "--memory", "64M", "--target", "32M",
                          "--duration", "60s", "--interval", "200ms", "--strategy", "file"});
  auto s = wait_line(*b, "sample");
  std::string cg = s["cgroup"];
  REQUIRE(exists(h.abs(cg)));
  CHECK(interrupt(*b) == 0);
  auto lines = json_lines(b->out());
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["type"] == "result");
  CHECK(lines.back()["interrupted"] == true);
  CHECK_FALSE(exists(h.abs(cg)));
}

TEST_CASE("a worker killed by someone else is not an OOM kill", "[integration][stress][cleanup]") {
  auto h = owtest::hierarchy();
  auto b = owtest::start({owtest::oomwatch_bin(), "test-memory", "--json", "--memory", "64M", "--alloc", "16M",
                          "--hold", "60s"});
  auto p = wait_line(*b, "progress", "holding");
  ::kill(p["worker_pid"].get<pid_t>(), SIGKILL);
  auto r = wait_line(*b, "result");
  INFO(r.dump());
  CHECK(r["exit_code"] == 137);
  CHECK(r["oom_killed"] == false);
  CHECK(r["oom_kills"] == 0);
  REQUIRE(owtest::wait_for([&] { return ::waitpid(b->pid, nullptr, WNOHANG) == b->pid; }, 5000));
  b->pid = -1;
  CHECK_FALSE(exists(h.abs(p["cgroup"])));
}

// [nosan]: the worker's allocation failure is made with an address-space
// limit, under which an ASan build cannot even map its shadow memory.
TEST_CASE("a worker that cannot allocate fails the run (exit 1) and leaves nothing",
          "[integration][stress][cleanup][nosan]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-parent");
  // An address-space limit (256 MiB) makes the worker's mmap fail long before
  // the cgroup limit. The shell's ulimit rather than prlimit(1), which the VM
  // tier's busybox lacks.
  auto r = owtest::run({"sh", "-c", "ulimit -v 262144 && exec \"$@\"", "sh", owtest::oomwatch_bin(), "test-memory",
                        "--json", "--memory", "1G", "--alloc", "512M", "--parent", parent.path()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  auto lines = ow::split_lines(r.out);
  REQUIRE_FALSE(lines.empty());
  auto j = json::parse(lines.back());
  CHECK(j["type"] == "result");
  CHECK(j["exit_code"] == 1);
  CHECK(j["oom_killed"] == false);
  CHECK(j["error"].get<std::string>().find("mmap") != std::string::npos);
  CHECK(std::string(j["cgroup"]).rfind(parent.path() + "/", 0) == 0);
  CHECK_FALSE(exists(h.abs(j["cgroup"])));
  CHECK(children(parent.path()).empty());
}

TEST_CASE("environment refusals exit 1 or 2 before creating anything", "[integration][stress][cleanup]") {
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-parent");
  // tmpfs pages are shmem: a "file" run there would measure the wrong thing.
  auto t = owtest::run({owtest::oomwatch_bin(), "test-memory", "--memory", "64M", "--alloc", "8M", "--strategy",
                        "file", "--file-dir", "/dev/shm", "--parent", parent.path()});
  CHECK(t.exit_code == 2);
  CHECK(t.err.find("tmpfs") != std::string::npos);
  auto n = run_as_nobody({owtest::oomwatch_bin(), "test-memory", "--memory", "64M", "--alloc", "8M", "--parent",
                          parent.path()});
  INFO(n.err);
  CHECK(n.exit_code == 1);
  CHECK(n.err.find("needs root") != std::string::npos);
  auto s = run_as_nobody({owtest::oomwatch_bin(), "stress-memory", "--memory", "64M", "--target", "8M", "--duration",
                          "1s", "--parent", parent.path()});
  CHECK(s.exit_code == 1);
  CHECK(children(parent.path()).empty());
}
