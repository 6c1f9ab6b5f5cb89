#include "helpers.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <thread>

#include "cgroup/scoped.hpp"
#include "util/fs.hpp"

namespace owtest {

ow::cg::Hierarchy hierarchy() {
  auto h = ow::cg::Hierarchy::discover();
  if (!h) FAIL("no memory cgroup hierarchy: " << h.error().message());
  return *h;
}

ow::cg::ScopedCgroup make_cgroup(uint64_t limit_bytes, const std::string& prefix) {
  auto h = hierarchy();
  auto c = ow::cg::ScopedCgroup::create(h, h.self(), prefix, limit_bytes);
  if (!c) FAIL("create test cgroup: " << c.error().message());
  return std::move(*c);
}

namespace {
// The test binary's directory (build/tests), "build/tests" if unknown.
std::string tests_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "build/tests";
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/'));
}
}  // namespace

std::string oomwatch_bin() {
  if (const char* e = std::getenv("OOMWATCH_BIN")) return e;
  std::string dir = tests_dir();
  return dir.substr(0, dir.rfind('/')) + "/oomwatch";
}

std::string repo_file(const std::string& rel) {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string dir = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!dir.empty()) {
    dir = dir.substr(0, dir.rfind('/'));
    if (::access((dir + "/" + rel).c_str(), F_OK) == 0) return dir + "/" + rel;
  }
  return rel;
}

std::string alloc_bin() {
  if (const char* e = std::getenv("OWTEST_ALLOC")) return e;
  return tests_dir() + "/owalloc";
}

namespace {
std::string tmpfile_path(const char* tag) {
  static int n = 0;
  return "/tmp/owtest-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + tag;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(o, 1);
    ::dup2(e, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    ::_exit(127);
  }
  return pid;
}

std::string slurp(const std::string& p) { return ow::read_text(p).value_or(""); }
}  // namespace

CmdResult run(const std::vector<std::string>& argv, int timeout_s) {
  std::string out = tmpfile_path("out"), err = tmpfile_path("err");
  pid_t pid = spawn(argv, out, err);
  CmdResult r;
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + std::chrono::seconds(timeout_s);
  int status = 0;
  struct rusage ru {};
  for (;;) {
    pid_t w = ::wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::wait4(pid, &status, 0, &ru);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.max_rss_bytes = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  r.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  r.out = slurp(out);
  r.err = slurp(err);
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  return r;
}

std::unique_ptr<Background> start(const std::vector<std::string>& argv) {
  auto b = std::make_unique<Background>();
  b->out_path = tmpfile_path("bgout");
  b->err_path = tmpfile_path("bgerr");
  b->pid = spawn(argv, b->out_path, b->err_path);
  return b;
}

void Background::stop() {
  if (pid <= 0) return;
  ::kill(pid, SIGINT);
  bool done = wait_for([&] { return ::waitpid(pid, nullptr, WNOHANG) == pid; }, 3000);
  if (!done) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  pid = -1;
}

Background::~Background() {
  stop();
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
}

std::string Background::out() const { return slurp(out_path); }
std::string Background::err() const { return slurp(err_path); }

bool wait_for(const std::function<bool()>& pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

bool is_root() { return ::geteuid() == 0; }

int guardian_of(int agent_pid, int timeout_ms) {
  int pid = -1;
  wait_for([&] { return (pid = child_named(agent_pid, "oomwatch-guard")) > 0; }, timeout_ms);
  return pid;
}

int child_named(int parent, const std::string& comm) {
  // /proc/PID/stat: "pid (comm) state ppid ..."; scanning works on every
  // kernel (task/*/children needs CONFIG_PROC_CHILDREN).
  DIR* d = ::opendir("/proc");
  if (!d) return -1;
  int found = -1;
  while (auto* e = ::readdir(d)) {
    uint64_t pid;
    if (!ow::parse_u64(e->d_name, pid)) continue;
    auto st = ow::read_text(std::string("/proc/") + e->d_name + "/stat");
    if (!st) continue;
    auto open = st->find('('), close = st->rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 > st->size()) continue;
    auto rest = ow::split_ws(std::string_view(*st).substr(close + 2));
    uint64_t ppid;
    if (rest.size() < 2 || !ow::parse_u64(rest[1], ppid) || static_cast<int>(ppid) != parent) continue;
    if (st->substr(open + 1, close - open - 1) == comm) {
      found = static_cast<int>(pid);
      break;
    }
  }
  ::closedir(d);
  return found;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool alive(int pid) {
  auto st = ow::read_text("/proc/" + std::to_string(pid) + "/stat");
  if (!st) return false;
  auto close = st->rfind(')');
  return close != std::string::npos && close + 2 < st->size() && (*st)[close + 2] != 'Z';
}

int listen_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  port = ntohs(sa.sin_port);
  return fd;
}

// A port that was free on 127.0.0.1 a moment ago (the kernel's pick).
int free_port() {
  int port = 0;
  ::close(listen_loopback(port));
  return port;
}

std::string http_get(int port, const std::string& path, int timeout_ms) {
  std::string body = http_exchange(port, "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", timeout_ms).data;
  auto head = body.find("\r\n\r\n");
  if (body.rfind("HTTP/1.", 0) != 0 || body.find(" 200 ") > 12 || head == std::string::npos) return "";
  return body.substr(head + 4);
}

Exchange http_exchange(int port, const std::string& request, int timeout_ms) {
  Exchange x;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return x;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) x.data.append(buf, static_cast<size_t>(n));
    x.closed = n == 0;  // EOF; -1 with EAGAIN is the timeout
  }
  ::close(fd);
  return x;
}

bool hold_24mib(const ow::cg::Hierarchy& h, const std::string& rel) {
  auto pid = ow::cg::spawn_in(
      h, rel, {"sh", "-c", "dd if=/dev/zero bs=25165824 count=1 2>/dev/null | { head -c 1 >/dev/null; exec sleep 30; }"});
  if (!pid.ok()) return false;
  return wait_for([&] {
    for (pid_t p : h.procs(rel).value_or({}))
      if (ow::trim(ow::read_text("/proc/" + std::to_string(p) + "/comm").value_or("")) == "sleep") return true;
    return false;
  }, 10000);
}

}  // namespace owtest
