// A real container runtime on the host: Debian's containerd, runc and ctr,
// with no kubelet. The test starts its own containerd (own root, state,
// socket and config under a temp dir), runs containers from a directory
// rootfs (busybox-static and owalloc) with the cgroup parent a kubelet's
// cgroupfs driver asks for (<test cgroup>/kubepods/burstable/pod<uid>/<id>)
// and their stdout in the kubelet's log layout
// (pods/<ns>_<pod>_<uid>/<container>/0.log), lets owalloc grow past the
// container's memory limit, and checks what the real oomwatch says about the
// kill: `events --json` and `run`'s lines name namespace, pod and container,
// /metrics labels them, and `recommend` keys its rows by them. A plain ctr
// container (ctr's own /<namespace>/<id> shape, under the test cgroup) is
// named by its id. What runc made is removed in every cgroup hierarchy,
// with the containers, tasks, shims and the daemon, on every way out.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "skip.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMiB = 1 << 20;
// Ids as the kubelet and containerd's CRI make them: a pod uid with dashes,
// a 64-hex container id.
constexpr const char* kUid = "7c2a9d4e-1f3b-4c6d-8e9f-0a1b2c3d4e5f";
constexpr const char* kCid = "c0ffee00d1e5e7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829";
constexpr const char* kPlainId = "0b5e55ed1d00fe1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899a";

// The first executable `name` in PATH, "" when there is none.
std::string in_path(const std::string& name) {
  const char* p = ::getenv("PATH");
  for (auto dir : ow::split(p ? p : "/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    std::string f = std::string(dir) + "/" + name;
    if (!dir.empty() && ::access(f.c_str(), X_OK) == 0) return f;
  }
  return "";
}

// Mount points of every cgroup hierarchy (v1 controllers, named ones, v2).
std::vector<std::string> cgroup_mounts() {
  std::vector<std::string> out;
  std::string text = ow::read_text("/proc/self/mountinfo").value_or("");
  for (auto l : ow::split_lines(text)) {
    auto dash = l.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto f = ow::split(l.substr(0, dash), ' ');
    auto t = ow::split(l.substr(dash + 3), ' ');
    if (f.size() > 4 && !t.empty() && (t[0] == "cgroup" || t[0] == "cgroup2")) out.emplace_back(f[4]);
  }
  return out;
}

// Kills what runs in rel's subtree (memory hierarchy) and removes rel, and
// whatever runc made below it, in every hierarchy, deepest first.
void remove_everywhere(const std::string& mem_mount, const std::string& rel) {
  std::error_code ec;
  for (int round = 0; round < 50; ++round) {
    bool any = false;
    if (fs::exists(mem_mount + rel, ec))
      for (const auto& e : fs::recursive_directory_iterator(mem_mount + rel, ec))
        if (e.path().filename() == "cgroup.procs")
          for (auto l : ow::split_lines(ow::read_text(e.path().string()).value_or("")))
            if (!l.empty()) {
              ::kill(std::stoi(std::string(l)), SIGKILL);
              any = true;
            }
    if (!any) break;
    ::usleep(100'000);
  }
  for (const auto& m : cgroup_mounts()) {
    std::string top = m + rel;
    if (!fs::is_directory(top, ec)) continue;
    std::vector<std::string> dirs{top};
    for (const auto& e : fs::recursive_directory_iterator(top, ec))
      if (e.is_directory(ec) && !e.is_symlink(ec)) dirs.push_back(e.path().string());
    std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& d : dirs)
      for (int i = 0; i < 50 && ::rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(100'000);
  }
}

// Pids whose command line names `needle` (the daemon's socket: its shims).
std::vector<int> pids_mentioning(const std::string& needle) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string n = e.path().filename();
    if (n.empty() || !std::all_of(n.begin(), n.end(), ::isdigit)) continue;
    std::string cmd = ow::read_text(e.path().string() + "/cmdline").value_or("");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) out.push_back(std::stoi(n));
  }
  return out;
}

// The test's own containerd: config, root, state and socket under a temp
// dir; a namespace of its own; runc's state and ctr's fifos there too. The
// shims' sockets go where containerd 1.6 puts them, /run/containerd/s: the
// directories made there are removed again when they were not there before.
// Cgroup subtrees handed to own() are removed in every hierarchy at the end.
struct Containerd {
  owtest::TmpTree dir{"owtest-ctrd"};
  std::string sock = dir.path + "/containerd.sock", ns = "owtest", rootfs = dir.path + "/rootfs";
  std::string why_not;  // why it cannot run here: the test skips
  std::unique_ptr<owtest::Background> daemon;
  ow::cg::Hierarchy h = owtest::hierarchy();
  std::vector<std::string> owned;
  std::vector<std::string> made_ancestors;  // cgroup dirs runc makes above an owned path
  std::vector<std::string> made_run_dirs;  // under /run/containerd, made by this daemon's shims

  // False with why_not set when this machine cannot run it (the test
  // skips); fails the test when containerd does not come up. Called after
  // construction, so the destructor cleans up whatever it got to.
  bool start() {
    for (const char* tool : {"containerd", "ctr", "runc", "containerd-shim-runc-v2"})
      if (in_path(tool).empty()) {
        why_not = std::string(tool) + " is not installed (apt-get install containerd runc)";
        return false;
      }
    if (!owtest::exists("/bin/busybox")) {
      why_not = "/bin/busybox is not installed (apt-get install busybox-static)";
      return false;
    }
    for (const char* d : {"/run/containerd", "/run/containerd/s", "/run/containerd/fifo", "/run/containerd/runc"})
      if (!owtest::exists(d)) made_run_dirs.insert(made_run_dirs.begin(), d);  // deepest first
    make_rootfs();
    std::ofstream(dir.path + "/config.toml")
        << "version = 2\n"
        << "root = \"" << dir.path << "/root\"\n"
        << "state = \"" << dir.path << "/state\"\n"
        << "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
        << "[grpc]\n  address = \"" << sock << "\"\n"
        << "[ttrpc]\n  address = \"" << sock << ".ttrpc\"\n"
        << "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" << dir.path << "/opt\"\n";
    daemon = owtest::start({"containerd", "--config", dir.path + "/config.toml"});
    bool up = owtest::wait_for(
        [&] { return !owtest::alive(daemon->pid) || (owtest::exists(sock) && ctr({"version"}).exit_code == 0); }, 20000);
    if (!up || !owtest::alive(daemon->pid)) FAIL("containerd did not start: " << daemon->err());
    return true;
  }

  // busybox-static with the applets the containers use, and owalloc.
  void make_rootfs() {
    for (const char* d : {"/bin", "/proc", "/sys", "/dev", "/tmp", "/etc"}) REQUIRE(ow::mkdir_p(rootfs + d).ok());
    REQUIRE(owtest::run({"cp", "/bin/busybox", owtest::alloc_bin(), rootfs + "/bin/"}).exit_code == 0);
    for (const char* a : {"sh", "sleep", "echo", "cat"})
      REQUIRE(::symlink("busybox", (rootfs + "/bin/" + a).c_str()) == 0);
  }

  owtest::CmdResult ctr(std::vector<std::string> args, int timeout_s = 30) {
    std::vector<std::string> argv{"ctr", "-a", sock, "-n", ns};
    argv.insert(argv.end(), args.begin(), args.end());
    return owtest::run(argv, timeout_s);
  }

  // `ctr run` of the rootfs as container `id` in cgroup `cg` (relative to
  // the hierarchy root), with a memory limit; extra: flags before the rootfs.
  owtest::CmdResult run(const std::string& id, const std::string& cg, uint64_t limit,
                        const std::vector<std::string>& extra, const std::vector<std::string>& cmd) {
    std::vector<std::string> a{"run", "--rootfs", "--env", "PATH=/bin", "--cgroup", cg, "--memory-limit",
                               std::to_string(limit), "--runc-root", dir.path + "/runc", "--fifo-dir",
                               dir.path + "/fifo"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back(rootfs);
    a.push_back(id);
    a.insert(a.end(), cmd.begin(), cmd.end());
    return ctr(a);
  }

  // A fresh cgroup path under the test's own memory cgroup, removed in every
  // hierarchy at the end. Made in the memory hierarchy now (so oomwatch's
  // --cgroup can name it); runc makes it in the others.
  std::string own(const std::string& name) {
    std::string rel = (h.self() == "/" ? "" : h.self()) + "/" + name + "-" + std::to_string(::getpid());
    owned.push_back(rel);
    // In the other hierarchies this process may sit elsewhere (often at
    // "/"), so runc makes rel's ancestors there too: those absent now are
    // removed at the end, deepest first.
    for (const auto& m : cgroup_mounts())
      for (auto p = fs::path(rel).parent_path(); p != p.root_path(); p = p.parent_path())
        if (!fs::exists(m + p.string())) made_ancestors.push_back(m + p.string());
    REQUIRE(h.create(rel).ok());
    return rel;
  }

  ~Containerd() {
    if (daemon && owtest::alive(daemon->pid)) {
      auto ls = ctr({"containers", "ls", "-q"});
      for (auto id : ow::split_lines(ls.out)) {
        if (id.empty()) continue;
        std::string i(id);
        ctr({"tasks", "kill", "-s", "SIGKILL", i});
        ctr({"tasks", "rm", "-f", i});
        ctr({"containers", "rm", i});
      }
    }
    daemon.reset();  // SIGINT, SIGKILL after 3 s, reaped
    for (int pid : pids_mentioning(sock)) ::kill(pid, SIGKILL);  // shims of a daemon that died
    for (const auto& rel : owned) remove_everywhere(h.mount(), rel);
    std::sort(made_ancestors.begin(), made_ancestors.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& d : made_ancestors) ::rmdir(d.c_str());  // only when empty
    // Nothing of runc's stays mounted under the dir before it is removed.
    std::string mi = ow::read_text("/proc/self/mountinfo").value_or("");
    for (auto l : ow::split_lines(mi)) {
      auto f = ow::split(l, ' ');
      if (f.size() > 4 && f[4].starts_with(dir.path)) ::umount2(std::string(f[4]).c_str(), MNT_DETACH);
    }
    for (const auto& d : made_run_dirs) ::rmdir(d.c_str());  // only when empty: another containerd may use it
  }
};

// Lines of `out` that are OOM kills of cgroup cg.
std::vector<json> kills_of(const std::string& out, const std::string& cg) {
  std::vector<json> r;
  for (auto l : ow::split_lines(out)) {
    if (l.empty() || l[0] != '{') continue;
    auto j = json::parse(l, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == "oom_kill" && j.value("cgroup", "") == cg) r.push_back(j);
  }
  return r;
}

// The sample line of `family` for cgroup cg in a Prometheus exposition.
std::string series_line(const std::string& body, const std::string& family, const std::string& cg) {
  for (auto l : ow::split_lines(body))
    if (l.starts_with(family + "{") && l.find("cgroup=\"" + cg + "\"") != std::string_view::npos) return std::string(l);
  return "";
}

void check_k8s(const json& k, const std::string& qos = "burstable") {
  INFO(k.dump());
  CHECK(k["namespace"] == "shop");
  CHECK(k["pod"] == "web-1");
  CHECK(k["container"] == "app");
  CHECK(k["pod_uid"] == kUid);
  CHECK(k["container_id"] == kCid);
  CHECK(k["qos"] == qos);
}

}  // namespace

TEST_CASE("containerd: an OOM kill in a kubelet-shaped container is named namespace/pod/container by events, run, "
          "/metrics and recommend",
          "[integration][containerd][hosttools]") {
  Containerd c;
  if (!c.start()) OWTEST_SKIP(c.why_not);
  const std::string base = c.own("owtest-ctrd");
  const std::string pod = base + "/kubepods/burstable/pod" + kUid, ctr_cg = pod + "/" + kCid;
  // The kubelet's log tree: it makes the pod's and the container's log
  // directories and the containers/ link; the runtime writes 0.log (restart 0).
  const std::string logs = c.dir.path + "/log", podlog = logs + "/pods/shop_web-1_" + kUid;
  REQUIRE(ow::mkdir_p(podlog + "/app").ok());
  REQUIRE(ow::mkdir_p(logs + "/containers").ok());
  REQUIRE(::symlink((podlog + "/app/0.log").c_str(),
                    (logs + "/containers/web-1_shop_app-" + std::string(kCid) + ".log").c_str()) == 0);

  // The agent (observe-only) with its history and /metrics, and the event stream.
  std::string cfg = c.dir.path + "/oomwatch.toml", db = c.dir.path + "/history.db";
  std::ofstream(cfg) << "[recommend]\npods_log_dir = \"" << logs << "\"\n";
  int port = owtest::free_port();
  auto agent = owtest::start({owtest::oomwatch_bin(), "run", "--interval", "200ms", "--db", db, "--audit-log",
                              c.dir.path + "/audit.jsonl", "--state-dir", c.dir.path + "/state", "--pin-dir", "none",
                              "--config", cfg, "--listen", "127.0.0.1:" + std::to_string(port)});
  INFO("agent stderr: " << agent->err());
  REQUIRE(owtest::wait_for([&] { return owtest::exists(c.dir.path + "/state/ready") || !owtest::alive(agent->pid); },
                           30000));
  REQUIRE(owtest::alive(agent->pid));
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", base, "--pods-log-dir", logs});
  INFO("events stderr: " << ev->err());
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));

  // 40 MiB for 4 s (history for recommend), then past the 64 MiB limit; the
  // shell (the container's init) outlives owalloc, so the cgroup stays.
  auto r = c.run(kCid, ctr_cg, 64 * kMiB, {"--detach", "--log-uri", "file://" + podlog + "/app/0.log"},
                 {"sh", "-c", "echo started; owalloc 41943040:10:4000 268435456:10:0; echo owalloc=$?; exec sleep 600"});
  INFO("ctr run: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // What runc made is the path the kubelet would have asked for, with the limit.
  CHECK(c.h.limit(ctr_cg).value_or(0) == 64 * kMiB);
  INFO("agent stderr: " << agent->err());
  std::string log0;
  REQUIRE(owtest::wait_for(
      [&] { return (log0 = ow::read_text(podlog + "/app/0.log").value_or("")).find("owalloc=") != std::string::npos; },
      40000));
  CHECK(log0.find("started\n") != std::string::npos);
  CHECK(log0.find("owalloc=137\n") != std::string::npos);

  // events --json: the kill, its cgroup, and who it was.
  REQUIRE(owtest::wait_for([&] { return !kills_of(ev->out(), ctr_cg).empty(); }, 30000));
  auto ek = kills_of(ev->out(), ctr_cg);
  REQUIRE(ek.size() == 1);
  CHECK(ek[0]["comm"] == "owalloc");
  CHECK(ek[0]["limit_cgroup"] == ctr_cg);
  CHECK(ek[0]["limit_bytes"] == 64 * kMiB);
  check_k8s(ek[0]["kubernetes"]);
  CHECK_FALSE(ek[0].contains("container"));

  // run's event line: the same identity, before its "oomwatch" object.
  REQUIRE(owtest::wait_for([&] { return !kills_of(agent->out(), ctr_cg).empty(); }, 30000));
  check_k8s(kills_of(agent->out(), ctr_cg)[0]["kubernetes"]);

  // /metrics: the container's series carry namespace, pod and container; its kill is counted.
  std::string body, kills;
  REQUIRE(owtest::wait_for(
      [&] {
        body = owtest::http_get(port, "/metrics");
        kills = series_line(body, "oomwatch_cgroup_oom_kills_total", ctr_cg);
        return kills.ends_with(" 1");
      },
      10000));
  INFO(kills);
  CHECK_THAT(kills, Catch::Contains("namespace=\"shop\"") && Catch::Contains("pod=\"web-1\"") &&
                        Catch::Contains("container=\"app\""));
  std::string pod_usage = series_line(body, "oomwatch_cgroup_memory_usage_bytes", pod);
  INFO(pod_usage);
  CHECK_THAT(pod_usage, Catch::Contains("pod=\"web-1\"") && !Catch::Contains("container="));
  ::kill(agent->pid, SIGTERM);
  REQUIRE(owtest::wait_for([&] { return !owtest::alive(agent->pid); }, 15000));

  // recommend from the agent's history: rows keyed by pod and container, the kill counted.
  auto rec = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--cgroup", base, "--pods-log-dir", logs,
                          "--format", "json"});
  INFO(rec.err);
  REQUIRE(rec.exit_code == 0);
  auto doc = json::parse(rec.out);
  json row, pod_row;
  for (const auto& x : doc["containers"]) {
    if (x["cgroup"] == ctr_cg) row = x;
    if (x["cgroup"] == pod) pod_row = x;
  }
  INFO(rec.out);
  REQUIRE(row.is_object());
  CHECK(row["name"] == "shop/web-1/app");
  check_k8s(row["kubernetes"]);
  CHECK(row["observed"]["oom_kills"] == 1);
  uint64_t used = row["observed"]["oom_kill_used_bytes"].is_number() ? row["observed"]["oom_kill_used_bytes"].get<uint64_t>() : 0;
  CHECK(used > 56 * kMiB);  // the usage at the kill: at the 64 MiB limit
  CHECK(used <= 64 * kMiB);
  CHECK(row["recommended"]["limit_bytes"].get<uint64_t>() > used);
  REQUIRE(pod_row.is_object());
  CHECK(pod_row["name"] == "shop/web-1");
}

TEST_CASE("containerd: an OOM kill in a plain ctr container is named by the container's id",
          "[integration][containerd][hosttools]") {
  Containerd c;
  if (!c.start()) OWTEST_SKIP(c.why_not);
  const std::string base = c.own("owtest-ctrdplain");
  // ctr's own cgroup shape, /<containerd namespace>/<id>, under the test's cgroup.
  const std::string cg = base + "/" + c.ns + "/" + kPlainId;
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", base, "--pods-log-dir",
                           c.dir.path + "/nolog"});
  INFO("events stderr: " << ev->err());
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));
  auto human = owtest::start({owtest::oomwatch_bin(), "events", "--cgroup", base});
  REQUIRE(owtest::wait_for([&] { return human->err().find("watching OOM kills") != std::string::npos; }, 15000));

  auto r = c.run(kPlainId, cg, 32 * kMiB, {"--rm"}, {"sh", "-c", "owalloc 268435456:10:0; echo owalloc=$?"});
  INFO("ctr run: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("owalloc=137") != std::string::npos);

  REQUIRE(owtest::wait_for([&] { return !kills_of(ev->out(), cg).empty(); }, 30000));
  auto k = kills_of(ev->out(), cg);
  REQUIRE(k.size() == 1);
  CHECK(k[0]["comm"] == "owalloc");
  CHECK(k[0]["limit_bytes"] == 32 * kMiB);
  CHECK(k[0]["container"] == json({{"id", kPlainId}, {"runtime", ""}}));
  CHECK_FALSE(k[0].contains("kubernetes"));
  // The human line ends with the id.
  REQUIRE(owtest::wait_for([&] { return human->out().find(" oom_kill ") != std::string::npos; }, 30000));
  std::string line = human->out();
  INFO(line);
  CHECK(line.find("cgroup=" + cg + " ") != std::string::npos);
  CHECK(line.find(" container=" + std::string(kPlainId) + "\n") != std::string::npos);
}
