// Root, real cgroups (v1 here, v2 in the VM tier): the agent never leaves the
// node worse off. Signals of every kind end with nothing paused, guarded or
// hinted; observe-only changes nothing; one agent per state dir; a symlink at
// the audit log is refused; names that are not UTF-8 are reported, escaped,
// by every command watching.
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "store/history.hpp"
#include "util/clock.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

using nlohmann::json;
using ow::cg::Hierarchy;
using ow::cg::ScopedCgroup;

namespace {
constexpr uint64_t kMiB = 1 << 20;

struct TempDir : owtest::TmpTree {
  TempDir() : TmpTree("owtest-safety") {}
};

// A pin dir of the test's own on bpffs, removed with whatever is left in it.
struct PinDir {
  std::string path = "/sys/fs/bpf/owtest-" + std::to_string(::getpid());
  ~PinDir() { owtest::run({"rm", "-rf", path}); }
  // Entries in the pinned GOMEMLIMIT map (0 when it is not pinned).
  int hints() const {
    ow::UniqueFd fd(bpf_obj_get((path + "/gomemlimit").c_str()));
    if (!fd.valid()) return 0;
    int n = 0;
    uint64_t key, next;
    uint64_t* prev = nullptr;
    while (bpf_map_get_next_key(fd.get(), prev, &next) == 0 && n < 100000) {
      ++n;
      key = next;
      prev = &key;
    }
    return n;
  }
};

using owtest::armed;
using owtest::child;

bool has_xattr_hint(const Hierarchy& h, const std::string& rel) {
  char buf[64];
  return ::getxattr(h.abs(rel).c_str(), "user.oomwatch.gomemlimit", buf, sizeof buf) > 0;
}

std::vector<json> json_lines(const std::string& s) {
  std::vector<json> out;
  for (auto l : ow::split_lines(s)) out.push_back(json::parse(l));  // throws on a bad line: the test fails
  return out;
}

struct Agent {
  TempDir dir;
  PinDir pins;
  std::unique_ptr<owtest::Background> bg;
  std::string state() const { return dir.path + "/state"; }
  std::string audit_log() const { return dir.path + "/audit.jsonl"; }
  std::vector<std::string> argv(const std::vector<std::string>& extra) const {
    // --cpu-budget 0: the 100 ms interval these checks count snapshots at
    // (the budget, tested in test_cpu_budget.cpp, stretches it within
    // seconds in a slow VM guest).
    std::vector<std::string> a{owtest::oomwatch_bin(), "run",       "--interval", "100ms",      "--cpu-budget", "0", "--db",
                               "none",                 "--audit-log", audit_log(), "--state-dir", state(),
                               "--pin-dir",            pins.path, "--donor-min-history", "300ms"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  void start(const std::vector<std::string>& extra) { bg = owtest::start(argv(extra)); }
  bool ready() const {
    return owtest::wait_for([&] { return owtest::exists(state() + "/ready") || !owtest::alive(bg->pid); }, 30000) &&
           owtest::alive(bg->pid);
  }
  void reap() {
    ::waitpid(bg->pid, nullptr, 0);
    bg->pid = -1;
  }
  std::string hint_file(const Hierarchy& h, const std::string& rel) const {
    return state() + "/gomemlimit/" + std::to_string(*h.id_of(rel));
  }
  // Nothing of the agent's left on a: not armed, no hint anywhere, no ready file.
  bool clean(const Hierarchy& h, const std::string& rel) const {
    return !armed(h, rel) && !has_xattr_hint(h, rel) && !owtest::exists(hint_file(h, rel)) && pins.hints() == 0 &&
           !owtest::exists(state() + "/ready");
  }
};

}  // namespace

TEST_CASE("run --enforce --hints: HUP, TERM, INT and KILL all end with the node put back within 1 s",
          "[integration][safety]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 64 * kMiB);
  Agent ag;
  ag.start({"--enforce", "--hints", "--manage", parent.path()});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  REQUIRE(armed(h, a.path()));
  REQUIRE(has_xattr_hint(h, a.path()));
  REQUIRE(owtest::exists(ag.hint_file(h, a.path())));
  REQUIRE(ag.pins.hints() >= 1);

  SECTION("SIGHUP: the agent stays up and keeps its settings; SIGTERM then restores") {
    ::kill(ag.bg->pid, SIGHUP);
    REQUIRE(owtest::wait_for([&] { return ag.bg->err().find("SIGHUP") != std::string::npos; }, 5000));
    CHECK(owtest::alive(ag.bg->pid));
    CHECK(armed(h, a.path()));
    ::kill(ag.bg->pid, SIGTERM);
    CHECK(owtest::wait_for([&] { return ag.clean(h, a.path()); }, 10000));
  }
  SECTION("SIGINT") {
    ::kill(ag.bg->pid, SIGINT);
    CHECK(owtest::wait_for([&] { return ag.clean(h, a.path()); }, 10000));
  }
  SECTION("SIGKILL: the guardian restores") {
    ::kill(ag.bg->pid, SIGKILL);
    ag.reap();
    CHECK(owtest::wait_for([&] { return ag.clean(h, a.path()); }, 10000));
  }
}

TEST_CASE("run: SIGPIPE on stdout does not stop the agent", "[integration][safety]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 16 * kMiB);
  Agent ag;
  // stdout is a pipe nobody reads: the first OOM-kill line gets EPIPE/SIGPIPE.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);  // as from a shell: the agent must ignore it itself
    ::dup2(p[1], 1);
    ::close(p[0]);
    ::close(p[1]);
    int e = ::open((ag.dir.path + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(e, 2);
    auto av = ag.argv({"--enforce", "--no-rescue", "--manage", parent.path()});
    std::vector<char*> c;
    for (auto& s : av) c.push_back(s.data());
    c.push_back(nullptr);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  ::close(p[0]);
  ::close(p[1]);
  auto err = [&] { return ow::read_text(ag.dir.path + "/err").value_or(""); };
  INFO(err());
  REQUIRE(owtest::wait_for([&] { return owtest::exists(ag.state() + "/ready"); }, 30000));
  auto k = ow::cg::spawn_in(h, a.path(), {"sh", "-c", "exec tail /dev/zero"});
  REQUIRE(k);
  CHECK(ow::cg::wait_child(*k).exit_code == 137);
  // The audit line is written after the event line: it proves the write was tried.
  REQUIRE(owtest::wait_for([&] { return !ow::read_text(ag.audit_log()).value_or("").empty(); }, 10000));
  CHECK(owtest::alive(pid));
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("one agent per state dir: a second run and restore are refused while it runs", "[integration][safety]") {
  Agent ag;
  ag.start({});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  auto second = owtest::run(
      {owtest::oomwatch_bin(), "run", "--db", "none", "--state-dir", ag.state(), "--pin-dir", "none", "--audit-log",
       ag.audit_log()},
      30);
  CHECK(second.exit_code == 1);
  // The first agent by pid, and what to do about it, in one line.
  CHECK(second.err.find("pid " + std::to_string(ag.bg->pid) + " (oomwatch) holds " + ag.state() + "/lock") !=
        std::string::npos);
  CHECK(second.err.find("stop that agent (kill " + std::to_string(ag.bg->pid) + "), or give this one another --state-dir") !=
        std::string::npos);
  CHECK(second.err.find("HINT:") == std::string::npos);
  CHECK(std::count(second.err.begin(), second.err.end(), '\n') == 1);
  auto r = owtest::run({owtest::oomwatch_bin(), "restore", "--state-dir", ag.state()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("an agent is running") != std::string::npos);
  ag.bg->stop();
  r = owtest::run({owtest::oomwatch_bin(), "restore", "--state-dir", ag.state()});
  CHECK(r.exit_code == 0);
}

TEST_CASE("observe-only run through 50 snapshots and two OOM kills changes nothing on the node", "[integration][safety]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 16 * kMiB);
  auto b = child(h, parent.path(), "b", 64 * kMiB);
  auto before = [&](const std::string& rel) {
    auto u = h.read(rel);
    REQUIRE(u);
    return std::make_pair(u->limit_bytes, u->high_bytes);
  };
  auto la = before(a.path()), lb = before(b.path());
  Agent ag;
  int port = owtest::free_port();
  ag.start({"--manage", parent.path(), "--listen", "127.0.0.1:" + std::to_string(port)});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  // OOM kills the agent would have acted on: a dry-run audit line is the
  // positive sign that it processed the event and wrote nothing. The second,
  // after 50 more snapshots (5 s at 100 ms), ends the run on an event.
  auto kill_in = [&](const std::string& rel) {
    auto k = ow::cg::spawn_in(h, rel, {"sh", "-c", "exec tail /dev/zero"});
    REQUIRE(k);
    CHECK(ow::cg::wait_child(*k).exit_code == 137);
    REQUIRE(owtest::wait_for(
        [&] {
          for (const auto& l : json_lines(ow::read_text(ag.audit_log()).value_or("")))
            if (l.value("oom_cgroup", "") == rel) return true;
          return false;
        },
        10000));
  };
  kill_in(a.path());
  REQUIRE(owtest::snapshots_pass(port, 50));
  kill_in(b.path());
  for (const auto& l : json_lines(*ow::read_text(ag.audit_log()))) CHECK(l["dry_run"] == true);
  REQUIRE(owtest::alive(ag.bg->pid));
  for (const auto* c : {&a, &b}) {
    INFO(c->path());
    CHECK_FALSE(armed(h, c->path()));
    CHECK_FALSE(has_xattr_hint(h, c->path()));
  }
  CHECK(before(a.path()) == la);
  CHECK(before(b.path()) == lb);
  CHECK(!owtest::exists(ag.state() + "/gomemlimit"));
  CHECK(!owtest::exists(ag.pins.path + "/gomemlimit"));
  CHECK(!owtest::exists(ag.state() + "/journal.json"));
  CHECK(owtest::child_named(ag.bg->pid, "oomwatch-guard") < 0);  // nothing to guard
}

TEST_CASE("a symlink planted at the audit log is refused", "[integration][safety]") {
  TempDir d;
  std::string target = d.path + "/target", link = d.path + "/audit.jsonl";
  REQUIRE(ow::write_file_atomic(target, "precious\n"));
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  auto r = owtest::run({owtest::oomwatch_bin(), "run", "--db", "none", "--state-dir", d.path + "/state",
                        "--pin-dir", "none", "--audit-log", link},
                       30);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("refusing to follow a symlink at " + link) != std::string::npos);
  CHECK(*ow::read_text(target) == "precious\n");
}

TEST_CASE("a cgroup named with 0xff, a quote and a space, and a comm cut mid-character: every watcher reports it",
          "[integration][safety]") {
  auto h = owtest::hierarchy();
  TempDir d;
  auto weird = owtest::make_cgroup(512 * kMiB, "owtest-w\xff \"q");
  auto victim = child(h, weird.path(), "v\xff", 32 * kMiB);
  // Eight 'é' are 16 bytes; the kernel keeps 15, ending in half a character.
  std::string name = d.path + "/\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
  REQUIRE(owtest::run({"cp", owtest::oomwatch_bin(), name}).exit_code == 0);
  std::string comm = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3";

  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json"});
  Agent ag;
  ag.start({});
  auto col = owtest::start({owtest::oomwatch_bin(), "collect", "--duration", "1m", "--interval", "200ms", "--out",
                            d.path + "/c.jsonl"});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));
  REQUIRE(ag.ready());
  REQUIRE(owtest::wait_for([&] { return !ow::read_text(d.path + "/c.jsonl").value_or("").empty(); }, 15000));

  auto r = owtest::run({name, "test-memory", "--json", "--cgroup", victim.path(), "--alloc", "64M"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("\"oom_killed\":true") != std::string::npos);

  auto killed = [&](const std::string& out) {
    for (auto l : ow::split_lines(out)) {
      auto j = json::parse(l);
      if (j.value("type", "") == "oom_kill" && j["cgroup"] == ow::printable(victim.path())) return j;
    }
    return json();
  };
  REQUIRE(owtest::wait_for([&] { return !killed(ev->out()).is_null() && !killed(ag.bg->out()).is_null(); }, 10000));
  for (const auto& j : {killed(ev->out()), killed(ag.bg->out())}) {
    INFO(j.dump());
    CHECK(j["comm"] == ow::printable(comm));
    CHECK(j["comm"].get<std::string>().find("\\xc3") != std::string::npos);
    CHECK(j["cgroup"].get<std::string>().find("\\xff \"q") != std::string::npos);
  }
  CHECK(owtest::alive(ev->pid));
  CHECK(owtest::alive(ag.bg->pid));
  CHECK(owtest::alive(col->pid));
  col->stop();
  auto lines = json_lines(*ow::read_text(d.path + "/c.jsonl"));  // every line is valid JSON
  CHECK_FALSE(lines.empty());
}

TEST_CASE("a pin dir off bpffs: the agent mounts nothing, creates nothing, and refuses to start with the fix",
          "[integration][safety]") {
  // In a mount namespace of its own with /sys/fs/bpf unmounted, as on a node
  // that never mounted it: the only mount oomwatch may make is bpffs at
  // /sys/fs/bpf, and only for a pin asked for there. A pin dir elsewhere
  // must already be on a bpffs; the start is refused before anything loads.
  TempDir d;
  const std::string script = R"SH(
umount /sys/fs/bpf 2>/dev/null
[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ] && { echo still-mounted; exit 3; }
"$0" run --db none --state-dir "$1/state" --pin-dir "$1/pins/oomwatch" --audit-log "$1/audit.jsonl" 2>"$1/err" &
pid=$!
i=0
while [ ! -e "$1/state/ready" ] && [ $i -lt 300 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
[ -e "$1/state/ready" ] && echo ready
kill -INT $pid
wait $pid
echo "exit $?"
echo "bpf: $(stat -f -c %T /sys/fs/bpf)"
[ -e "$1/pins" ] && echo pins-left
exit 0
)SH";
  auto r = owtest::run({"unshare", "--mount", "--propagation", "private", "sh", "-c", script, owtest::oomwatch_bin(),
                        d.path},
                       60);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("ready") == std::string::npos);
  CHECK(r.out.find("exit 1") != std::string::npos);
  CHECK(r.out.find("bpf: bpf_fs") == std::string::npos);
  CHECK(r.out.find("pins-left") == std::string::npos);
  auto err = ow::read_text(d.path + "/err");
  REQUIRE(err);
  INFO(*err);
  CHECK(err->find("--pin-dir " + d.path + "/pins/oomwatch is not on a bpf filesystem") != std::string::npos);
  CHECK(err->find("mount bpffs there (mkdir -p " + d.path + "/pins/oomwatch && mount -t bpf bpf " + d.path +
                  "/pins/oomwatch) or pick a dir under /sys/fs/bpf") != std::string::npos);
  CHECK(err->find("hooked ") == std::string::npos);  // refused before any program was loaded
}

TEST_CASE("the agent's own files: a FIFO, another user's or a world-writable audit log, a world-writable state dir "
          "are refused at once with one line",
          "[integration][safety]") {
  TempDir d;
  auto run_with = [&](const std::string& audit, const std::string& state) {
    return owtest::run({owtest::oomwatch_bin(), "run", "--enforce", "--db", "none", "--pin-dir", "none",
                        "--state-dir", state, "--audit-log", audit},
                       30);
  };
  auto refusal = [](const std::string& err) {
    std::string out;
    for (auto l : ow::split_lines(err))
      if (l.rfind("oomwatch:", 0) == 0 || l.rfind("HINT:", 0) == 0) out += std::string(l) + "\n";
    return out;
  };
  const std::string state = d.path + "/state";
  SECTION("a FIFO: refused, not waited on (it blocked the agent for good, deaf to SIGTERM)") {
    std::string fifo = d.path + "/audit.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = run_with(fifo, state);
    CHECK(r.exit_code == 1);
    CHECK(refusal(r.err) == "oomwatch: refusing audit log " + fifo + ": a FIFO, not a regular file\n");
  }
  SECTION("mode 0666: anyone could forge agent actions into it") {
    std::string f = d.path + "/audit.jsonl";
    REQUIRE(ow::write_file_atomic(f, "", 0666));
    REQUIRE(::chmod(f.c_str(), 0666) == 0);
    auto r = run_with(f, state);
    CHECK(r.exit_code == 1);
    CHECK(refusal(r.err).find("refusing audit log " + f + ": writable by others (mode 0666)") != std::string::npos);
    // `report` shows such a file, marked.
    std::string html = d.path + "/r.html", db = d.path + "/history.db";
    {
      auto hs = ow::store::HistoryStore::open(db);
      REQUIRE(hs);
      ow::sampler::Sample one;
      one.cgroup_id = 1;
      one.cgroup = "/w";
      one.ts_ns = ow::wall_ns();
      one.usage_bytes = one.working_set_bytes = kMiB;
      one.limit_bytes = 64 * kMiB;
      ow::sampler::Snapshot snap;
      snap.ts_ns = one.ts_ns;
      snap.samples.push_back(one);
      REQUIRE(hs->insert(snap));
    }
    auto rep = owtest::run({owtest::oomwatch_bin(), "report", "--html", html, "--db", db, "--audit-log", f});
    INFO(rep.err);
    REQUIRE(rep.exit_code == 0);
    CHECK(rep.err.find("may be forged") != std::string::npos);
    CHECK(ow::read_text(html)->find("UNTRUSTED: writable by others (mode 0666)") != std::string::npos);
  }
  SECTION("another user's file") {
    std::string f = d.path + "/audit.jsonl";
    REQUIRE(ow::write_file_atomic(f, ""));
    REQUIRE(::chown(f.c_str(), 65534, 65534) == 0);
    auto r = run_with(f, state);
    CHECK(r.exit_code == 1);
    CHECK(refusal(r.err).find("refusing audit log " + f + ": owned by uid 65534, not 0") != std::string::npos);
  }
  SECTION("a state dir anyone may write: its journal could be forged") {
    REQUIRE(ow::mkdir_p(state));
    REQUIRE(::chmod(state.c_str(), 0777) == 0);
    auto r = run_with(d.path + "/audit.jsonl", state);
    CHECK(r.exit_code == 1);
    CHECK(refusal(r.err).find("refusing state dir " + state + ": writable by others (mode 0777)") != std::string::npos);
    CHECK_FALSE(owtest::exists(state + "/lock"));
  }
}
