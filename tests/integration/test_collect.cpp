// Root, real cgroups: `oomwatch collect` (the real binary) samples what the
// cgroups' own usage files say, sees every cgroup of a large subtree in every
// snapshot, loses nothing on Ctrl-C, and refuses bad input with exit 2.
// The independent reader is the usage file itself (memory.usage_in_bytes on
// v1, memory.current on v2), read here while collect runs.
#include <catch2/catch.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "store/samplefile.hpp"
#include "stress/worker.hpp"
#include "util/fs.hpp"

using nlohmann::json;
using namespace ow;

namespace {
constexpr uint64_t kMiB = 1 << 20;

// A throw-away directory for sample files, removed on every path.
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/owtest-collect-XXXXXX";
    if (!::mkdtemp(t)) FAIL("mkdtemp failed");
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// Runs the engine's worker in the cgroup; true once it holds everything.
bool hold(stress::Worker& w) {
  for (int i = 0; i < 200; ++i) {
    pollfd p{w.report_fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    std::vector<stress::WorkerMsg> msgs;
    bool open = w.read_reports(msgs);
    for (const auto& m : msgs)
      if (m.kind == stress::MsgKind::Grown) return true;
    if (!open) return false;
  }
  return false;
}

stress::WorkerSpec anon(uint64_t bytes) {
  stress::WorkerSpec s;
  s.total_bytes = bytes;
  return s;
}

// The independent reader: the cgroup's own usage file, parsed here.
uint64_t usage_file(const cg::Hierarchy& h, const std::string& rel) {
  auto t = read_text(h.abs(rel) + "/" + h.usage_file());
  if (!t) FAIL("read " << h.usage_file() << " of " << rel << ": " << t.error().message());
  return std::stoull(std::string(trim(*t)));
}

uint64_t median(std::vector<uint64_t> v) {
  REQUIRE_FALSE(v.empty());
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

owtest::CmdResult oomwatch(const std::vector<std::string>& args, int timeout_s = 60) {
  std::vector<std::string> argv{owtest::oomwatch_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return owtest::run(argv, timeout_s);
}

const std::set<std::string> kStatKeys{"min_consumption", "max_consumption", "median_consumption",
                                      "p95_consumption", "avg_consumption", "samples"};

// Every cgroup of a stats object carries the documented keys as integers.
void check_structure(const json& j) {
  REQUIRE(j.is_object());
  for (const auto& [path, st] : j.items()) {
    INFO(path << ": " << st.dump());
    for (const auto& k : kStatKeys) {
      REQUIRE(st.contains(k));
      CHECK(st[k].is_number_unsigned());
    }
  }
}

int wait_exit(int pid, int timeout_ms) {
  int status = 0;
  if (!owtest::wait_for([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout_ms)) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

TEST_CASE("collect: medians of three held cgroups match their own usage files", "[integration][collect]") {
  auto h = owtest::hierarchy();
  TempDir dir;
  const std::vector<uint64_t> sizes{16 * kMiB, 32 * kMiB, 48 * kMiB};
  // Cgroups before workers: the workers die (SIGKILL, reaped) before their cgroups go.
  std::vector<cg::ScopedCgroup> cgs;
  for (size_t i = 0; i < sizes.size(); ++i) cgs.push_back(owtest::make_cgroup(kUnlimited, "owtest-coll"));
  std::vector<stress::Worker> workers;
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto w = stress::Worker::spawn(h, cgs[i].path(), anon(sizes[i]));
    REQUIRE(w.ok());
    workers.push_back(std::move(*w));
    REQUIRE(hold(workers.back()));
  }
  std::vector<std::string> cgroup_args;
  for (const auto& c : cgs) cgroup_args.insert(cgroup_args.end(), {"--cgroup", c.path()});

  // Runs collect in the background while this process reads every usage file
  // itself, every 100 ms, for as long as collect runs.
  auto collect_and_read = [&](std::vector<std::string> extra, std::vector<std::vector<uint64_t>>& truth) {
    std::vector<std::string> argv{owtest::oomwatch_bin(), "collect"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), cgroup_args.begin(), cgroup_args.end());
    auto b = owtest::start(argv);
    truth.assign(cgs.size(), {});
    int status = 0;
    bool done = false;
    for (int i = 0; i < 300 && !done; ++i) {  // 30 s at most
      for (size_t c = 0; c < cgs.size(); ++c) truth[c].push_back(usage_file(h, cgs[c].path()));
      done = ::waitpid(b->pid, &status, WNOHANG) == b->pid;
      if (!done) ::poll(nullptr, 0, 100);
    }
    REQUIRE(done);
    b->pid = -1;
    INFO(b->err());
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return std::pair{b->out(), b->err()};
  };

  std::string file = dir / "x.jsonl";
  std::vector<std::vector<uint64_t>> truth;
  auto [summary, err] = collect_and_read({"--duration", "3s", "--interval", "200ms", "--out", file, "--json"}, truth);
  INFO("collect summary: " << summary << " stderr: " << err);
  auto sum = json::parse(summary);
  CHECK(sum["type"] == "summary");
  CHECK(sum["out"] == file);
  // Slots at t = 0, 0.2, ..., 3.0 s: 16, each taken or (on an overloaded machine) counted as skipped.
  CHECK(sum["snapshots"].get<int64_t>() + sum["skipped"].get<int64_t>() == 16);
  CHECK(sum["snapshots"].get<uint64_t>() >= 10);
  CHECK(sum["interrupted"] == false);
  CHECK(sum["cgroups"] == cgs.size());
  WARN("collect source: " << sum["source"]);
  // The summary's keys in the documented order, "type" first.
  CHECK(summary.rfind("{\"type\":\"summary\",\"out\":", 0) == 0);
  // The cgroups have no limit: null in the file, as in every JSON oomwatch
  // prints, never "max" or the kernel's huge number.
  {
    const std::string text = read_text(file).value_or("");
    auto recs = split_lines(text);
    REQUIRE(!recs.empty());
    for (auto l : recs) {
      auto rec = json::parse(l);
      if (rec["cgroup"] != cgs[0].path()) continue;
      CHECK(rec["limit_bytes"].is_null());
      CHECK(rec["usage_bytes"].is_number_unsigned());
    }
    CHECK(text.find("\"max\"") == std::string::npos);
  }

  auto st = oomwatch({"stats", "--input", file, "--format", "json"});
  INFO(st.err);
  REQUIRE(st.exit_code == 0);
  auto j = json::parse(st.out);
  check_structure(j);
  CHECK(j.size() == cgs.size());
  for (size_t c = 0; c < cgs.size(); ++c) {
    const auto& path = cgs[c].path();
    REQUIRE(j.contains(path));
    uint64_t med = j[path]["median_consumption"].get<uint64_t>();
    uint64_t ref = median(truth[c]);
    WARN(path << ": held " << sizes[c] / kMiB << " MiB anon; collect median " << med << ", usage file median " << ref
              << " (" << truth[c].size() << " reads), diff " << (static_cast<double>(med) - ref) * 100.0 / ref
              << " %");
    CHECK(med == Approx(ref).epsilon(0.05));
    CHECK(med >= sizes[c]);  // the worker's anon memory is all charged here
    CHECK(med <= sizes[c] + 8 * kMiB);
    CHECK(j[path]["samples"] == sum["snapshots"]);
    CHECK(j[path]["min_consumption"].get<uint64_t>() <= med);
    CHECK(j[path]["max_consumption"].get<uint64_t>() >= med);
  }

  SECTION("without --out, the same structure on stdout") {
    std::vector<std::vector<uint64_t>> truth2;
    auto [out, err2] = collect_and_read({"--duration", "1s", "--interval", "200ms", "--json"}, truth2);
    INFO("stdout: " << out << " stderr: " << err2);
    auto k = json::parse(out);  // one object, as `stats --json` prints
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    check_structure(k);
    std::set<std::string> keys_collect, keys_stats;
    for (const auto& [p, v] : k.items()) {
      keys_collect.insert(p);
      std::set<std::string> fields;
      for (const auto& [f, x] : v.items()) fields.insert(f);
      std::set<std::string> want;
      for (const auto& [f, x] : j[p].items()) want.insert(f);
      CHECK(fields == want);  // the same keys as stats prints for this cgroup
    }
    for (const auto& [p, v] : j.items()) keys_stats.insert(p);
    CHECK(keys_collect == keys_stats);
    for (size_t c = 0; c < cgs.size(); ++c) {
      const auto& path = cgs[c].path();
      uint64_t med = k[path]["median_consumption"].get<uint64_t>();
      WARN(path << " (no --out): collect median " << med << ", usage file median " << median(truth2[c]));
      CHECK(med == Approx(median(truth2[c])).epsilon(0.05));
      CHECK(k[path]["samples"].get<uint64_t>() >= 5);  // 0, 0.2, ..., 1.0 s: 6
      CHECK(k[path]["samples"].get<uint64_t>() <= 6);
    }
  }
}

TEST_CASE("collect: 1,000 empty cgroups are in every snapshot", "[integration][collect]") {
  auto h = owtest::hierarchy();
  TempDir dir;
  auto parent = owtest::make_cgroup(kUnlimited, "owtest-collmany");  // removes its children on every path
  std::set<std::string> want{parent.path()};
  for (int i = 0; i < 1000; ++i) {
    std::string rel = cg::join_rel(parent.path(), "c" + std::to_string(i));
    REQUIRE(h.create(rel).ok());
    want.insert(rel);
  }
  // The default source (the BPF iterator here), and the cgroupfs fallback forced;
  // the parent given as an absolute cgroupfs path.
  for (const char* source : {"auto", "files"}) {
    INFO("--source " << source);
    {
      std::string file = dir / (std::string("f-") + source + ".jsonl");
      // cgroupfs reads of 1,001 cgroups take over 500 ms in the TCG guest of
      // the VM tier: the fallback gets 2 s slots (t = 0, 2 s).
      bool files = std::string(source) == "files";
      const char* every = files ? "2s" : "500ms";
      const char* dur = files ? "2s" : "1s";
      const int slots = files ? 2 : 3;
      auto r = oomwatch({"collect", "--duration", dur, "--interval", every, "--cgroup", h.abs(parent.path()),
                         "--out", file, "--source", source, "--json"});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      auto sum = json::parse(r.out);
      WARN(source << ": " << sum.dump());
      if (std::string(source) == "files") CHECK(sum["source"] == "cgroupfs");
      auto samples = store::read_sample_file(file);
      REQUIRE(samples.ok());
      std::map<int64_t, std::set<std::string>> by_snapshot;
      for (const auto& s : *samples) by_snapshot[s.ts_ns].insert(s.cgroup);
      CHECK(by_snapshot.size() == sum["snapshots"].get<size_t>());
      CHECK(sum["snapshots"].get<int64_t>() + sum["skipped"].get<int64_t>() == slots);
      CHECK(by_snapshot.size() >= (files ? 1u : 2u));
      for (const auto& [ts, got] : by_snapshot) {
        CHECK(got.size() == want.size());
        CHECK(got == want);
      }
      CHECK(samples->size() == by_snapshot.size() * want.size());
    }
  }
}

// Each --cgroup is walked on its own (not the node's whole hierarchy): two
// disjoint subtrees and one nested in the first give every cgroup of the two
// subtrees exactly once per snapshot, and nothing else.
TEST_CASE("collect: several --cgroup roots, nested or not, give each cgroup once", "[integration][collect]") {
  auto h = owtest::hierarchy();
  TempDir dir;
  auto a = owtest::make_cgroup(kUnlimited, "owtest-colla");
  auto b = owtest::make_cgroup(kUnlimited, "owtest-collb");
  auto other = owtest::make_cgroup(kUnlimited, "owtest-collo");  // not selected
  std::multiset<std::string> want{a.path(), b.path()};
  for (const auto* p : {&a, &b, &other})
    for (const char* c : {"x", "y", "x/z"}) {
      std::string rel = cg::join_rel(p->path(), c);
      REQUIRE(h.create(rel).ok());
      if (p != &other) want.insert(rel);
    }
  for (const char* source : {"auto", "files"}) {
    INFO("--source " << source);
    std::string file = dir / (std::string("roots-") + source + ".jsonl");
    auto r = oomwatch({"collect", "--duration", "1ns", "--cgroup", a.path(), "--cgroup", cg::join_rel(a.path(), "x"),
                       "--cgroup", b.path(), "--out", file, "--source", source});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto samples = store::read_sample_file(file);
    REQUIRE(samples.ok());
    std::multiset<std::string> got;
    for (const auto& s : *samples) got.insert(s.cgroup);
    CHECK(got == want);
  }
}

TEST_CASE("collect: Ctrl-C closes the file and loses nothing; stats still print", "[integration][collect]") {
  auto cg = owtest::make_cgroup(kUnlimited, "owtest-coll");
  TempDir dir;
  std::string file = dir / "ctrlc.csv";
  auto b = owtest::start({owtest::oomwatch_bin(), "collect", "--duration", "1m", "--interval", "50ms", "--cgroup",
                          cg.path(), "--out", file, "--json"});
  // At least 5 data rows below the CSV header before the interrupt.
  REQUIRE(owtest::wait_for([&] { return split_lines(read_text(file).value_or("")).size() >= 6; }, 10000));
  ::kill(b->pid, SIGINT);
  int rc = wait_exit(b->pid, 3000);
  b->pid = rc == -1 ? b->pid : -1;  // still running: the destructor kills it
  INFO(b->err());
  CHECK(rc == 0);
  auto sum = json::parse(b->out());
  CHECK(sum["interrupted"] == true);
  auto samples = store::read_sample_file(file);  // refuses a cut-short last line
  REQUIRE(samples.ok());
  CHECK(samples->size() == sum["samples"].get<size_t>());
  CHECK(samples->size() >= 5);
  for (const auto& s : *samples) CHECK(s.cgroup == cg.path());

  auto m = owtest::start({owtest::oomwatch_bin(), "collect", "--duration", "1m", "--interval", "50ms", "--cgroup",
                          cg.path()});
  ::poll(nullptr, 0, 1500);  // the BPF program may take a while to load on a busy machine
  ::kill(m->pid, SIGINT);
  rc = wait_exit(m->pid, 3000);
  m->pid = rc == -1 ? m->pid : -1;
  INFO(m->err());
  CHECK(rc == 0);
  // Without --json the statistics are the table `stats` prints: a header,
  // then one row per cgroup ending in its path, SAMPLES before it.
  const std::string table = m->out();
  auto lines = split_lines(table);
  INFO(table);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("MIN") != std::string::npos);
  CHECK(lines[0].find("SAMPLES  CGROUP") != std::string::npos);
  CHECK(table.find('{') == std::string::npos);
  REQUIRE(lines[1].size() > cg.path().size() + 2);
  CHECK(lines[1].substr(lines[1].size() - cg.path().size() - 2) == "  " + cg.path());
  auto fields = ow::split_ws(lines[1]);
  REQUIRE(fields.size() == 7);
  CHECK(std::stoull(std::string(fields[5])) >= 1);
  WARN("interrupted after 1.5 s: " << fields[5] << " samples in the printed statistics");
}

TEST_CASE("collect: bad input exits 2 with one line naming it", "[integration][collect]") {
  TempDir dir;
  auto expect = [](const owtest::CmdResult& r, const std::string& needle) {
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("oomwatch: ", 0) == 0);
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);  // the message and at most a HINT
  };
  expect(oomwatch({"collect", "--duration", "1s", "--cgroup", "/owtest/no/such/cgroup"}), "unknown cgroup /owtest/no/such/cgroup");
  expect(oomwatch({"collect", "--duration", "1s", "--interval", "10ms"}), "--interval 10ms");
  expect(oomwatch({"collect", "--duration", "1s", "--out", dir / "f.txt"}), "f.txt");
  CHECK_FALSE(std::filesystem::exists(dir / "f.txt"));
  expect(oomwatch({"collect", "--interval", "1s"}), "--duration");
  // A bad --cgroup among good ones still refuses before anything is written.
  auto cg = owtest::make_cgroup(kUnlimited, "owtest-coll");
  expect(oomwatch({"collect", "--duration", "1s", "--cgroup", cg.path(), "--cgroup", "nope-owtest", "--out",
                   dir / "g.jsonl"}),
         "nope-owtest");
  CHECK_FALSE(std::filesystem::exists(dir / "g.jsonl"));
}

// --state-dir DIR: the iterator's cut-down kernel BTF is made in DIR/btf by
// the first run, used by the next (the same figures), made again when it is
// corrupt; --state-dir "" keeps nothing.
TEST_CASE("collect: --state-dir caches the iterator's BTF once; a corrupt cache is made again", "[integration][collect]") {
  auto h = owtest::hierarchy();
  TempDir dir;
  auto parent = owtest::make_cgroup(kUnlimited, "owtest-collbtf");
  for (int i = 0; i < 3; ++i) REQUIRE(h.create(cg::join_rel(parent.path(), "c" + std::to_string(i))).ok());
  const std::string state = dir / "state";
  const std::string btf = state + "/btf/vmlinux-core.btf";
  // Whether the run made the cache (its debug line says so), after checking it sampled through the iterator.
  auto run = [&](const std::string& state_dir) {
    std::string file = dir / "s.jsonl";
    auto r = oomwatch({"--log-level", "debug", "collect", "--duration", "1ns", "--cgroup", parent.path(), "--out", file,
                       "--state-dir", state_dir, "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto sum = json::parse(r.out);
    CHECK(sum["source"] == "bpf-iter");
    CHECK(sum["cgroups"] == 4);
    ::unlink(file.c_str());
    return r.err.find("CO-RE BTF of this kernel written") != std::string::npos;
  };
  CHECK(run(state));
  REQUIRE(owtest::exists(btf));
  CHECK_FALSE(run(state));
  auto blob = read_text(btf);
  REQUIRE(blob);
  (*blob)[blob->size() / 2] ^= 0x20;
  REQUIRE(write_text(btf, *blob));
  CHECK(run(state));
  CHECK_FALSE(run(state));
  CHECK_FALSE(run(""));  // no cache: nothing made
}
