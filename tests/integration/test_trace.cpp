// Root: `oomwatch trace` on real cgroups. A process growing 64 MiB of anon
// memory is named first with its growth, an idle sibling near zero (on the
// tracepoints and on the /proc fallback); memfd writes count as shmem and a
// file written on disk as file; and no trace program stays attached after
// the command ends normally, on SIGTERM or on SIGKILL.
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "trace/bpf_tracer.hpp"
#include "util/fd.hpp"
#include "ready_child.hpp"
#include "workload.hpp"
#include "skip.hpp"

using nlohmann::json;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// Loaded BPF programs whose name starts with "owt_" (the trace object's).
int trace_progs_loaded() {
  int n = 0;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    ow::UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid()) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 && std::strncmp(info.name, "owt_", 4) == 0) n++;
  }
  return n;
}

// What bpftool itself shows: no owt_ program, no link on a memcg stat tracepoint.
void require_nothing_attached() {
  REQUIRE(owtest::wait_for([] { return trace_progs_loaded() == 0; }, 5000));
  auto p = owtest::run({"bpftool", "prog", "show"});
  if (p.exit_code == 127) return;  // no bpftool (the VM tier's busybox guest): the enumeration above holds
  auto l = owtest::run({"bpftool", "link", "show"});
  REQUIRE(p.exit_code == 0);
  REQUIRE(l.exit_code == 0);
  CHECK(p.out.find("owt_") == std::string::npos);
  CHECK(l.out.find("mod_memcg") == std::string::npos);
}

bool have_tracepoints() {
  auto m = ow::trace::missing_tracepoints(ow::trace::kStatTracepoints);
  return m && m->empty();
}

// `oomwatch trace` in the background until it says it measures: programs
// attached, or the /proc baseline taken. Growth after that is in its report,
// however long the binary (under a sanitizer, say) took to get there.
std::unique_ptr<owtest::Background> start_trace(const std::string& cg, const std::string& method) {
  auto b = owtest::start({owtest::oomwatch_bin(), "trace", "--cgroup", cg, "--duration", "60s", "--json", "--method",
                          method});
  bool started = owtest::wait_for([&] { return b->err().find("tracing ") != std::string::npos || !owtest::alive(b->pid); },
                                  30000);
  INFO(b->err());
  REQUIRE(started);
  REQUIRE(owtest::alive(b->pid));
  if (method == "tracepoints") REQUIRE(trace_progs_loaded() >= 2);
  return b;
}

// SIGINT (the trace prints its report then) and the parsed report.
json stop_trace(owtest::Background& b) {
  ::kill(b.pid, SIGINT);
  REQUIRE(owtest::wait_for([&] { return ::waitpid(b.pid, nullptr, WNOHANG) == b.pid; }, 10000));
  b.pid = -1;
  INFO(b.err());
  auto out = b.out();
  REQUIRE(!out.empty());
  return json::parse(out);
}

const json* proc(const json& j, int pid) {
  for (const auto& p : j["processes"])
    if (p["tgid"] == pid) return &p;
  return nullptr;
}

void check_grower(const std::string& method) {
  auto cg = owtest::make_cgroup(ow::kUnlimited, "owtest-trace");
  auto procs = cg.hierarchy().abs(cg.path()) + "/cgroup.procs";
  // Both are owalloc, not forks of this (perhaps instrumented) test binary:
  // what they charge is the 4 and 64 MiB asked for.
  owtest::Workload idle(procs, {{4 * kMiB, 0, owtest::kUntilReleased}});
  REQUIRE(idle.reached(0, 20000));
  // The grower runs (4 MiB) before the trace starts and grows 64 MiB during
  // it: the growth of a process, not the start-up of one (a process born
  // during a /proc-sampled trace is first seen mid-fork/exec, where its
  // baseline is uncertain).
  owtest::Workload grower(procs, {{4 * kMiB, 0, owtest::kUntilReleased}, {68 * kMiB, 0, owtest::kUntilReleased}});
  REQUIRE(grower.reached(0, 20000));
  auto b = start_trace(cg.path(), method);
  grower.release();
  REQUIRE(grower.reached(1, 20000));
  auto j = stop_trace(*b);
  INFO(j.dump());
  CHECK(j["method"] == (method == "proc" ? "proc-sampling" : "tracepoints"));
  REQUIRE(!j["processes"].empty());
  CHECK(j["processes"][0]["tgid"] == grower.pid());
  const json* g = proc(j, grower.pid());
  REQUIRE(g);
  CHECK((*g)["share"].get<double>() >= 0.9);
  auto net = (*g)["net_bytes"].get<int64_t>();
  CHECK(net >= static_cast<int64_t>(64 * kMiB * 0.9));
  CHECK(net <= static_cast<int64_t>(64 * kMiB * 1.1));
  auto anon = (*g)["kinds"]["anon"]["net_bytes"].get<int64_t>();
  CHECK(anon >= static_cast<int64_t>(64 * kMiB * 0.9));
  const json* i = proc(j, idle.pid());
  if (i) CHECK(std::llabs((*i)["net_bytes"].get<int64_t>()) < static_cast<int64_t>(kMiB));
}

}  // namespace

TEST_CASE("trace names the process growing 64 MiB anon first, an idle sibling near zero", "[integration][trace]") {
  if (!have_tracepoints()) {
    OWTEST_SKIP("no memcg stat tracepoints in this kernel (6.13+)");
  }
  check_grower("tracepoints");
  require_nothing_attached();
}

TEST_CASE("trace --method proc names the grower from /proc RSS deltas", "[integration][trace]") {
  check_grower("proc");
}

TEST_CASE("trace classifies memfd writes as shmem and a file written under /var/tmp as file", "[integration][trace]") {
  if (!have_tracepoints()) {
    OWTEST_SKIP("no memcg stat tracepoints in this kernel (6.13+)");
  }
  auto cg = owtest::make_cgroup(ow::kUnlimited, "owtest-trace");
  auto procs = cg.hierarchy().abs(cg.path()) + "/cgroup.procs";
  std::string file = "/var/tmp/owtest-trace-" + std::to_string(::getpid());
  struct Unlink {
    std::string p;
    ~Unlink() { ::unlink(p.c_str()); }
  } unlink_file{file};
  auto b = start_trace(cg.path(), "tracepoints");
  std::vector<char> buf(kMiB, 'z');
  auto write_mib = [&](int fd, int n) {
    for (int k = 0; k < n; k++)
      if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) return false;
    return true;
  };
  owtest::ReadyChild shm(procs, [&] {
    int fd = ::memfd_create("owtest-trace", 0);
    return fd >= 0 && write_mib(fd, 32);  // the fd stays open: the pages stay
  });
  REQUIRE(shm.done());
  owtest::ReadyChild disk(procs, [&] {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    return fd >= 0 && write_mib(fd, 32);
  });
  REQUIRE(disk.done());
  auto j = stop_trace(*b);
  INFO(j.dump());
  const json* s = proc(j, shm.pid());
  const json* d = proc(j, disk.pid());
  REQUIRE(s);
  REQUIRE(d);
  auto near32 = [](int64_t v) { return v >= static_cast<int64_t>(29 * kMiB) && v <= static_cast<int64_t>(36 * kMiB); };
  CHECK(near32((*s)["kinds"]["shmem"]["net_bytes"].get<int64_t>()));
  CHECK(std::llabs((*s)["kinds"]["file"]["net_bytes"].get<int64_t>()) < static_cast<int64_t>(kMiB));
  CHECK(near32((*d)["kinds"]["file"]["net_bytes"].get<int64_t>()));
  CHECK(std::llabs((*d)["kinds"]["shmem"]["net_bytes"].get<int64_t>()) < static_cast<int64_t>(kMiB));
  require_nothing_attached();
}

TEST_CASE("no trace program stays attached after trace ends, times out, or is killed", "[integration][trace]") {
  if (!have_tracepoints()) {
    OWTEST_SKIP("no memcg stat tracepoints in this kernel (6.13+): nothing is ever attached");
  }
  auto cg = owtest::make_cgroup(ow::kUnlimited, "owtest-trace");
  SECTION("its --duration ends") {
    auto r = owtest::run({owtest::oomwatch_bin(), "trace", "--cgroup", cg.path(), "--duration", "300ms"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("tracepoints") != std::string::npos);
  }
  for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
    DYNAMIC_SECTION("signal " << sig) {
      auto b = start_trace(cg.path(), "tracepoints");
      ::kill(b->pid, sig);
      int status = 0;
      REQUIRE(owtest::wait_for([&] { return ::waitpid(b->pid, &status, WNOHANG) == b->pid; }, 10000));
      b->pid = -1;
      if (sig == SIGKILL) CHECK(WIFSIGNALED(status));
      else CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
  }
  require_nothing_attached();
}

TEST_CASE("trace refuses bad input with one line", "[integration][trace]") {
  auto bad = [](std::vector<std::string> extra, const std::string& want) {
    std::vector<std::string> argv{owtest::oomwatch_bin(), "trace"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = owtest::run(argv);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(want) != std::string::npos);
    CHECK(r.out.empty());
  };
  bad({"--cgroup", "/owtest-no-such-cgroup"}, "unknown cgroup");
  bad({"--cgroup", "/", "--duration", "6m"}, "trace_max_duration");
  bad({"--cgroup", "/", "--duration", "0s"}, "above zero");
  bad({"--cgroup", "/", "--interval", "20s"}, "longer than --duration");
  bad({"--cgroup", "/", "--method", "ebpf"}, "--method");
  owtest::TmpTree dir("owtest-trace-cfg");
  std::ofstream(dir.path + "/c.toml") << "trace_max_duration = \"2s\"\n";
  bad({"--cgroup", "/", "--config", dir.path + "/c.toml", "--duration", "3s"}, "trace_max_duration (2s)");
  std::ofstream(dir.path + "/bad.toml") << "trace_max_duration = \"never\"\n";
  bad({"--cgroup", "/", "--config", dir.path + "/bad.toml"}, "trace_max_duration");
}
