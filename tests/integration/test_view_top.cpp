// `oomwatch top` on a real terminal: the real binary under tmux (its own
// server socket, a fixed 200x45 size), driven by send-keys and read back with
// capture-pane. Real cgroups with real workloads; a real OOM kill must show
// in the event pane. The tmux server is killed on every path.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "kube_tree.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"
#include "workload.hpp"

using namespace ow;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// One tmux server per test: kill-server on every path takes the session and
// the oomwatch inside it down.
struct Tmux {
  // An explicit socket path: kill-server leaves the socket file behind.
  std::string sock = "/tmp/owview-tmux-" + std::to_string(::getpid());
  owtest::CmdResult tmux(std::vector<std::string> args) const {
    args.insert(args.begin(), {"tmux", "-S", sock});
    return owtest::run(args, 20);
  }
  std::string exit_file = sock + ".exit";  // the shell in the pane writes top's exit code here
  ~Tmux() {
    tmux({"kill-server"});
    ::unlink(sock.c_str());
    ::unlink(exit_file.c_str());
  }
  std::string screen() const { return tmux({"capture-pane", "-p", "-t", "top"}).out; }
  void keys(const std::vector<std::string>& k) const {
    std::vector<std::string> a{"send-keys", "-t", "top"};
    a.insert(a.end(), k.begin(), k.end());
    tmux(a);
  }
  bool wait_screen(const std::function<bool(const std::string&)>& pred, int ms = 10000) const {
    return owtest::wait_for([&] { return pred(screen()); }, ms);
  }
};

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// The screen line that ends with the cgroup's path (the path is the last column).
std::string line_of(const std::string& screen, const std::string& path) {
  std::istringstream in(screen);
  for (std::string l; std::getline(in, l);) {
    auto end = l.find_last_not_of(' ');
    if (end == std::string::npos) continue;
    l.resize(end + 1);
    if (l.size() >= path.size() && l.compare(l.size() - path.size(), path.size(), path) == 0) return l;
  }
  return {};
}

// First column of a row: USAGE as format_size printed it.
uint64_t usage_cell(const std::string& line) {
  std::istringstream in(line);
  std::string cell;
  in >> cell;
  auto b = parse_size(cell);
  return b ? *b : 0;
}

size_t row_index(const std::string& screen, const std::string& path) {
  auto l = line_of(screen, path);
  return l.empty() ? std::string::npos : screen.find(l);
}

}  // namespace

// [hosttools]: tmux is Debian's, not in the VM tier's busybox guests.
TEST_CASE("top under tmux: usage of real cgroups, sort, filter, tree, an OOM kill, quit",
          "[integration][view][hosttools]") {
  REQUIRE(owtest::is_root());
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(kUnlimited, "owview");
  auto big = cg::ScopedCgroup::create(h, parent.path(), "big", 512 * kMiB);
  auto tight = cg::ScopedCgroup::create(h, parent.path(), "tight", 40 * kMiB);
  auto oom = cg::ScopedCgroup::create(h, parent.path(), "oom", 16 * kMiB);
  REQUIRE(big.ok());
  REQUIRE(tight.ok());
  REQUIRE(oom.ok());
  // Steady usage (hold, then stay) so the screen and memory.usage_in_bytes agree.
  owtest::Workload wb(h.abs(big->path()) + "/cgroup.procs", {{64 * kMiB, 0, 0}}, false, true);
  owtest::Workload wt(h.abs(tight->path()) + "/cgroup.procs", {{28 * kMiB, 0, 0}}, false, true);
  REQUIRE(owtest::wait_for([&] { return h.usage(big->path()).value_or(0) >= 64 * kMiB; }, 10000));
  REQUIRE(owtest::wait_for([&] { return h.usage(tight->path()).value_or(0) >= 28 * kMiB; }, 10000));

  Tmux t;
  std::string cmd = owtest::oomwatch_bin() + " top --cgroup " + parent.path() +
                    " --interval 200ms --audit-log none --hint-dir none; echo $? > " + t.exit_file;
  auto started = t.tmux({"new-session", "-d", "-s", "top", "-x", "200", "-y", "45", cmd});
  INFO(started.err);
  REQUIRE(started.exit_code == 0);
  REQUIRE(t.wait_screen([&](const std::string& s) { return !line_of(s, big->path()).empty() && !line_of(s, tight->path()).empty(); }));

  SECTION("usage within 5 % of memory.usage_in_bytes, sort by usage then by % of limit") {
    std::string s = t.screen();
    INFO(s);
    for (const auto* c : {&*big, &*tight}) {
      uint64_t shown = usage_cell(line_of(s, c->path()));
      uint64_t real = h.usage(c->path()).value_or(0);
      CAPTURE(c->path(), shown, real);
      CHECK(shown > 0);
      CHECK(static_cast<double>(shown) == Approx(static_cast<double>(real)).epsilon(0.05));
    }
    CHECK(has(s, "sort usage"));
    CHECK(row_index(s, big->path()) < row_index(s, tight->path()));  // 64 MiB above 28 MiB
    t.keys({"p"});
    REQUIRE(t.wait_screen([](const std::string& x) { return has(x, "sort percent"); }));
    s = t.screen();
    INFO(s);
    CHECK(row_index(s, tight->path()) < row_index(s, big->path()));  // 70 % above 12.5 %
  }

  SECTION("filter with / and the tree view with t") {
    t.keys({"/"});
    t.keys({"-l", "tight"});
    t.keys({"Enter"});
    REQUIRE(t.wait_screen([](const std::string& x) { return has(x, "filter tight"); }));
    std::string s = t.screen();
    INFO(s);
    CHECK(!line_of(s, tight->path()).empty());
    CHECK(line_of(s, big->path()).empty());
    t.keys({"Escape"});  // opens nothing: Esc outside the prompt is ignored
    t.keys({"/"});
    t.keys({"Escape"});  // Esc in the prompt clears the filter
    REQUIRE(t.wait_screen([&](const std::string& x) { return !has(x, "filter tight") && !line_of(x, big->path()).empty(); }));
    t.keys({"t"});
    REQUIRE(t.wait_screen([](const std::string& x) { return has(x, "  tree"); }));
    s = t.screen();
    INFO(s);
    // Children two spaces deeper than their parent.
    auto pl = line_of(s, parent.path()), bl = line_of(s, "  " + big->path());
    CHECK(!pl.empty());
    CHECK(!bl.empty());
  }

  SECTION("a real OOM kill shows in the event pane") {
    auto pid = cg::spawn_in(h, oom->path(), {"sh", "-c", "exec tail /dev/zero"});
    REQUIRE(pid.ok());
    auto st = cg::wait_child(*pid);
    CHECK(st.exit_code == 137);
    REQUIRE(t.wait_screen([&](const std::string& x) { return has(x, "oom_kill " + oom->path()); }));
    std::string s = t.screen();
    INFO(s);
    CHECK(has(s, "oom_kill " + oom->path() + " 1 kill (counters)"));
    CHECK_FALSE(has(s, "latest OOM kills and agent actions: none"));
  }

  // q quits with exit 0.
  t.keys({"q"});
  std::string code;
  CHECK(owtest::wait_for([&] {
    code = ow::read_text(t.exit_file).value_or("");
    return !code.empty();
  }, 10000));
  CHECK(code == "0\n");
}

TEST_CASE("top --json frames: a real cgroup's usage and its published GOMEMLIMIT hint", "[integration][view]") {
  REQUIRE(owtest::is_root());
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(128 * kMiB, "owview");
  owtest::Workload w(h.abs(cg.path()) + "/cgroup.procs", {{32 * kMiB, 0, 0}}, false, true);
  REQUIRE(owtest::wait_for([&] { return h.usage(cg.path()).value_or(0) >= 32 * kMiB; }, 10000));
  // A hint file as the agent publishes it: <hint dir>/<cgroup id>, decimal bytes.
  char dir[] = "/tmp/owview-hints-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string hint = std::string(dir) + "/" + std::to_string(h.id_of(cg.path()).value_or(0));
  struct Cleanup {
    std::string dir, file;
    ~Cleanup() {
      ::unlink(file.c_str());
      ::rmdir(dir.c_str());
    }
  } cleanup{dir, hint};
  REQUIRE(write_file_atomic(hint, "100663296\n"));
  // An audit log with one decision about the cgroup: the pane's other source.
  std::string audit = std::string(dir) + "/audit.jsonl";
  struct Unlink {
    std::string p;
    ~Unlink() { ::unlink(p.c_str()); }
  } unlink_audit{audit};
  REQUIRE(write_file_atomic(audit, R"({"oom_cgroup":")" + cg.path() +
                                       R"(","ts":"2026-01-02T03:04:05.000Z","trigger":"oom_kill","source":"global",)"
                                       R"("dry_run":true,"result":"planned"})" "\n"));
  // cgroupfs files: the iterator is covered under tmux; this case also runs
  // in the VM tier (cgroup v2), where loading BPF under emulation is slow.
  // The cgroup's usage moves a little while it holds its 32 MiB (the kernel
  // settles its own charges): a frame's figure must lie within what the
  // files said just before and just after top ran (5 % either side).
  double before = static_cast<double>(h.usage(cg.path()).value_or(0));
  auto r = owtest::run({owtest::oomwatch_bin(), "top", "--json", "--iterations", "2", "--interval", "100ms", "--cgroup",
                        cg.path(), "--hint-dir", dir, "--audit-log", audit, "--source", "files"});
  double after = static_cast<double>(h.usage(cg.path()).value_or(0));
  INFO(r.err);
  INFO("usage before top " << before << ", after " << after);
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  int frames = 0;
  for (std::string line; std::getline(in, line); ++frames) {
    auto j = nlohmann::json::parse(line);
    REQUIRE(j["rows"].size() == 1);
    auto row = j["rows"][0];
    CHECK(row["cgroup"] == cg.path());
    CHECK(row["limit_bytes"] == 128 * kMiB);
    CHECK(row["gomemlimit_bytes"] == 100663296);
    double shown = row["usage_bytes"].get<double>();
    CHECK(shown >= std::min(before, after) * 0.95);
    CHECK(shown <= std::max(before, after) * 1.05);
    CHECK(row["oom_kills"] == 0);
    CHECK(j["source"] == "cgroupfs");
    REQUIRE(j["events"].size() == 1);
    CHECK(j["events"][0]["source"] == "audit");
    CHECK(j["events"][0]["cgroup"] == cg.path());
    CHECK(j["events"][0]["detail"] == "planned from global (dry run)");
  }
  CHECK(frames == 2);
}

TEST_CASE("top with a TERM terminfo does not know: one line, exit 1, the terminal left alone",
          "[integration][view][hosttools]") {
  Tmux t;
  std::string cmd = "TERM=owview-no-such-term " + owtest::oomwatch_bin() +
                    " top --audit-log none --hint-dir none --source files; echo $? > " + t.exit_file + "; sleep 30";
  REQUIRE(t.tmux({"new-session", "-d", "-s", "top", "-x", "200", "-y", "20", cmd}).exit_code == 0);
  std::string code;
  REQUIRE(owtest::wait_for([&] {
    code = ow::read_text(t.exit_file).value_or("");
    return !code.empty();
  }, 10000));
  CHECK(code == "1\n");
  std::string s = t.screen();
  INFO(s);
  CHECK(has(s, "oomwatch: terminal type 'owview-no-such-term' is unknown to terminfo"));
}

TEST_CASE("top holds its log lines while the screen is up: the newest on screen, all on stderr after",
          "[integration][view][hosttools]") {
  REQUIRE(owtest::is_root());
  auto cg = owtest::make_cgroup(64 * kMiB, "owview-log");
  Tmux t;
  const std::string err_file = t.sock + ".err";
  struct Unlink {
    std::string p;
    ~Unlink() { ::unlink(p.c_str()); }
  } unlink_err{err_file};
  // A directory as the audit log: top warns once and goes on without it.
  std::string cmd = owtest::oomwatch_bin() + " top --cgroup " + cg.path() +
                    " --interval 200ms --audit-log /tmp --hint-dir none --source files 2> " + err_file +
                    "; echo $? > " + t.exit_file;
  REQUIRE(t.tmux({"new-session", "-d", "-s", "top", "-x", "200", "-y", "30", cmd}).exit_code == 0);
  REQUIRE(t.wait_screen([&](const std::string& s) { return !line_of(s, cg.path()).empty(); }));
  std::string s = t.screen();
  INFO(s);
  CHECK(has(s, "log warning: top: read audit log (not a regular file) /tmp"));
  CHECK(has(s, "latest OOM kills and agent actions:"));  // the pane is still whole below it
  CHECK(read_text(err_file).value_or("?").empty());       // nothing written under the screen
  t.keys({"q"});
  std::string code;
  REQUIRE(owtest::wait_for([&] {
    code = read_text(t.exit_file).value_or("");
    return !code.empty();
  }, 10000));
  CHECK(code == "0\n");
  std::string err = read_text(err_file).value_or("");
  INFO(err);
  CHECK(has(err, "warning top: read audit log (not a regular file) /tmp"));
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

namespace {

// A counter straight from the kernel's file, independent of oomwatch's readers:
// "oom_kill N" in v1 memory.oom_control or v2 memory.events, and v1
// memory.failcnt or v2 memory.events "max".
uint64_t kernel_counter(const cg::Hierarchy& h, const std::string& rel, const std::string& key) {
  bool v2 = h.version() == cg::Version::V2;
  if (!v2 && key == "max") return std::stoull(ow::read_text(h.abs(rel) + "/memory.failcnt").value_or("0"));
  std::istringstream in(ow::read_text(h.abs(rel) + (v2 ? "/memory.events" : "/memory.oom_control")).value_or(""));
  for (std::string k, v; in >> k >> v;)
    if (k == key) return std::stoull(v);
  return UINT64_MAX;
}

// The cells of the --batch rows that end in `path`, frame by frame.
std::vector<std::vector<std::string>> batch_rows(const std::string& out, const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    std::istringstream cells(l);
    std::vector<std::string> c;
    for (std::string x; cells >> x;) c.push_back(x);
    if (c.size() == 11 && c.back() == path) rows.push_back(c);
  }
  return rows;
}

}  // namespace

// Columns: USAGE WS LIMIT %LIM PEAK HIGH GROW/s MAX OOM GOMEMLIMIT CGROUP.
TEST_CASE("top --batch and --json: MAX and OOM are the kernel's counters, kills before top included; - for what "
          "does not exist",
          "[integration][view]") {
  REQUIRE(owtest::is_root());
  auto h = owtest::hierarchy();
  const bool v2 = h.version() == cg::Version::V2;
  auto parent = owtest::make_cgroup(kUnlimited, "owview-k");
  auto oom = cg::ScopedCgroup::create(h, parent.path(), "oom", 16 * kMiB);
  REQUIRE(oom.ok());
  // Three real OOM kills before top starts.
  for (int i = 0; i < 3; ++i) {
    auto pid = cg::spawn_in(h, oom->path(), {"sh", "-c", "exec tail /dev/zero"});
    REQUIRE(pid.ok());
    CHECK(cg::wait_child(*pid).exit_code == 137);
  }
  const uint64_t kills = kernel_counter(h, oom->path(), "oom_kill");
  const uint64_t max = kernel_counter(h, oom->path(), "max");
  REQUIRE(kills == 3);
  REQUIRE(max > 0);  // the charges that failed at the limit before each kill

  auto top = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv{owtest::oomwatch_bin(), "top",         "--iterations", "2",     "--interval",
                                  "200ms",                "--cgroup",    parent.path(),  "--audit-log", "none",
                                  "--hint-dir",           "none"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = owtest::run(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  SECTION("--batch, the BPF iterator where it loads") {
    std::string out = top({"--batch"});
    INFO(out);
    auto rows = batch_rows(out, oom->path());
    REQUIRE(rows.size() == 2);
    for (const auto& c : rows) {
      CHECK(c[8] == std::to_string(kills));  // OOM
      CHECK(c[7] == std::to_string(max));    // MAX
      CHECK(c[2] == "16MiB");
      CHECK(c[5] == (v2 ? "max" : "-"));     // HIGH: v1 has no memory.high
    }
    CHECK(rows[0][6] == "-");  // GROW/s: no rate from one snapshot
    CHECK(rows[1][6] != "-");
    auto prow = batch_rows(out, parent.path());
    REQUIRE(prow.size() == 2);
    CHECK(prow[0][2] == "max");  // LIMIT: none
    CHECK(prow[0][3] == "-");    // %LIM of no limit
  }
  SECTION("--since-start counts from top's first frame") {
    auto rows = batch_rows(top({"--batch", "--since-start"}), oom->path());
    REQUIRE(rows.size() == 2);
    for (const auto& c : rows) {
      CHECK(c[8] == "0");
      CHECK(c[7] == "0");
    }
  }
  SECTION("--json, cgroupfs files") {
    std::istringstream in(top({"--json", "--source", "files"}));
    int frames = 0;
    for (std::string line; std::getline(in, line); ++frames) {
      auto j = nlohmann::json::parse(line);
      CHECK(line.rfind("{\"ts\":", 0) == 0);  // keys in the documented order
      REQUIRE(j["rows"].size() == 2);
      for (const auto& row : j["rows"]) {
        INFO(row.dump());
        CHECK(row["high_bytes"].is_null());  // v1: none; v2: not set
        CHECK(row["growth_bytes_per_s"].is_null() == (frames == 0));
        if (row["cgroup"] == oom->path()) {
          CHECK(row["oom_kills"] == kills);
          CHECK(row["max_events"] == max);
          CHECK(row["limit_bytes"] == 16 * kMiB);
        } else {
          CHECK(row["cgroup"] == parent.path());
          CHECK(row["limit_bytes"].is_null());  // no limit: null, never "max"
          CHECK(row["percent"].is_null());
        }
      }
    }
    CHECK(frames == 2);
  }
}

TEST_CASE("top --json names kubelet-shaped cgroups from the kubelet's log tree; other cgroups stay unnamed",
          "[integration][view][k8s]") {
  REQUIRE(owtest::is_root());
  auto h = owtest::hierarchy();
  auto c = owtest::make_cgroup(kUnlimited, "owview-k8s");
  owtest::TmpTree dir("owview-k8s");
  owtest::KubePod k(h, c.path(), dir.path);
  REQUIRE(k.ok);
  // A runtime's container outside Kubernetes: its leaf is a 64-hex id.
  const std::string rid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const std::string plain = c.path() + "/docker/" + rid;
  REQUIRE(h.create(c.path() + "/docker").ok());
  REQUIRE(h.create(plain).ok());
  owtest::Workload w(h.abs(k.ctr) + "/cgroup.procs", {{16 * kMiB, 0, 0}}, false, true);
  REQUIRE(owtest::wait_for([&] { return h.usage(k.ctr).value_or(0) >= 16 * kMiB; }, 10000));

  auto r = owtest::run({owtest::oomwatch_bin(), "top", "--json", "--iterations", "2", "--interval", "100ms", "--cgroup",
                        c.path(), "--source", "files", "--pods-log-dir", k.logs, "--audit-log", "none",
                        "--hint-dir", "none"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  int frames = 0;
  for (std::string line; std::getline(in, line); ++frames) {
    auto j = nlohmann::json::parse(line);
    std::map<std::string, nlohmann::json> by_path;
    for (const auto& row : j["rows"]) by_path[row["cgroup"].get<std::string>()] = row;
    REQUIRE(by_path.count(k.ctr));
    auto ctr = by_path[k.ctr];
    INFO(ctr.dump());
    CHECK(ctr["name"] == "shop/web-1/app");
    CHECK(ctr["kubernetes"]["namespace"] == "shop");
    CHECK(ctr["kubernetes"]["pod"] == "web-1");
    CHECK(ctr["kubernetes"]["container"] == "app");
    CHECK(ctr["kubernetes"]["pod_uid"] == owtest::KubePod::kUid);
    CHECK(ctr["kubernetes"]["container_id"] == owtest::KubePod::kContainerId);
    CHECK(ctr["kubernetes"]["qos"] == "burstable");
    CHECK(ctr["container"].is_null());
    CHECK(ctr["usage_bytes"].get<uint64_t>() >= 16 * kMiB);
    REQUIRE(by_path.count(k.pod));
    CHECK(by_path[k.pod]["name"] == "shop/web-1");
    CHECK(by_path[k.pod]["kubernetes"]["container"] == "");
    REQUIRE(by_path.count(plain));
    CHECK(by_path[plain]["name"] == "container 0123456789ab");
    CHECK(by_path[plain]["container"]["id"] == rid);
    CHECK(by_path[plain]["container"]["runtime"] == "docker");
    CHECK(by_path[plain]["kubernetes"].is_null());
    REQUIRE(by_path.count(c.path()));
    CHECK(by_path[c.path()]["name"].is_null());
    CHECK(by_path[c.path()]["kubernetes"].is_null());
    // Existing keys first, in their order; the new ones at the end of the row.
    CHECK(line.find("\"gomemlimit_bytes\":null,\"name\":\"shop/web-1/app\",\"kubernetes\":{") != std::string::npos);
  }
  CHECK(frames == 2);

  // The text frame: the name before the path; --filter matches the name.
  auto t = owtest::run({owtest::oomwatch_bin(), "top", "--batch", "--iterations", "1", "--cgroup", c.path(),
                        "--source", "files", "--pods-log-dir", k.logs, "--audit-log", "none", "--hint-dir", "none",
                        "--filter", "web-1/app"});
  INFO(t.out);
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("shown 1 of 1") != std::string::npos);
  CHECK(t.out.find("shop/web-1/app  ") != std::string::npos);

  // Without the log tree the cgroup is still a pod's container, unnamed.
  auto u = owtest::run({owtest::oomwatch_bin(), "top", "--json", "--iterations", "1", "--cgroup", k.ctr, "--source",
                        "files", "--pods-log-dir", dir.path + "/none", "--audit-log", "none", "--hint-dir", "none"});
  REQUIRE(u.exit_code == 0);
  auto row = nlohmann::json::parse(u.out)["rows"][0];
  CHECK(row["name"] == std::string("pod ") + owtest::KubePod::kUid + "/container 4f9c1d2e3b4a");
  CHECK(row["kubernetes"]["pod"] == "");
}
