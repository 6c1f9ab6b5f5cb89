// The /metrics server's hand-over (exporter/server.hpp), without the
// agent: published snapshots, hints and recommendations show in render(),
// the annotate hook labels cgroups, managed cgroups survive the cap. And a
// real HTTP GET over loopback, answered from the server's own thread.
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/server.hpp"
#include "util/fs.hpp"
#include "helpers.hpp"
#include "skip.hpp"

using namespace ow;

namespace {

sampler::Sample sample(std::string path, uint64_t usage, uint64_t limit = kUnlimited) {
  sampler::Sample s;
  s.cgroup = std::move(path);
  s.usage_bytes = usage;
  s.working_set_bytes = usage / 2;
  s.limit_bytes = limit;
  s.high_bytes = kUnlimited;
  s.ev_oom_kill = 2;
  return s;
}

bool has(const std::string& out, const std::string& line) { return out.find(line + "\n") != std::string::npos; }

}  // namespace

TEST_CASE("metrics server: what is published is what a scrape renders", "[metrics]") {
  exporter::MetricsOptions o;
  auto addr = parse_listen("127.0.0.1:" + std::to_string(owtest::free_port()));
  REQUIRE(addr);
  o.addr = *addr;
  o.max_cgroups = 2;
  o.managed_roots = {"/m"};
  o.annotate = [](metrics::CgroupFigures& c) {
    if (c.cgroup == "/m/a") c.pod = "web-0";
  };
  auto s = exporter::MetricsServer::start(o);
  REQUIRE(s);
  auto& srv = **s;
  // Nothing published yet: agent figures at zero, build info, no cgroup.
  auto empty = srv.render();
  CHECK(has(empty, "oomwatch_snapshots_total 0"));
  CHECK(empty.find("oomwatch_cgroup_") == std::string::npos);

  auto snap = std::make_shared<sampler::Snapshot>();
  snap->samples = {sample("/big", 900), sample("/m/a", 10, 64), sample("/other", 500)};
  srv.publish_snapshot(snap);
  CHECK(empty.find("oomwatch_gomemlimit_hints_timestamp_seconds") == std::string::npos);  // no round yet
  srv.publish_hints(std::make_shared<const exporter::HintTable>(exporter::HintTable{{"/m/a", {48, 4096}}}),
                    1765000000.5);
  srv.publish_recommendations(
      std::make_shared<const exporter::RecommendationTable>(exporter::RecommendationTable{{"/m/a", 32}}));
  metrics::AgentFigures a;
  a.snapshots = 7;
  a.oom_kills_cgroup = 3;
  a.oom_kills_global = 1;
  a.actions[{"pressure", "global", "applied"}] = 1;
  srv.publish_agent(std::make_shared<const metrics::AgentFigures>(a));

  auto out = srv.render();
  CHECK(has(out, "oomwatch_snapshots_total 7"));
  CHECK(has(out, "oomwatch_oom_kill_events_total{scope=\"cgroup\"} 3"));
  CHECK(has(out, "oomwatch_oom_kill_events_total{scope=\"global\"} 1"));
  // The hint round's time, which the agent figures do not carry.
  CHECK(has(out, "oomwatch_gomemlimit_hints_timestamp_seconds 1765000000.5"));
  CHECK(has(out, "oomwatch_actions_total{trigger=\"pressure\",source=\"global\",result=\"applied\"} 1"));
  CHECK(has(out, "oomwatch_cgroup_memory_usage_bytes{pod=\"web-0\",cgroup=\"/m/a\"} 10"));
  CHECK(has(out, "oomwatch_cgroup_memory_limit_bytes{pod=\"web-0\",cgroup=\"/m/a\"} 64"));
  CHECK(has(out, "oomwatch_cgroup_gomemlimit_hint_bytes{pod=\"web-0\",cgroup=\"/m/a\"} 48"));
  CHECK(has(out, "oomwatch_cgroup_ebpf_memory_bytes{pod=\"web-0\",cgroup=\"/m/a\"} 4096"));
  CHECK(has(out, "oomwatch_cgroup_recommended_limit_bytes{pod=\"web-0\",cgroup=\"/m/a\"} 32"));
  CHECK(has(out, "oomwatch_cgroup_oom_kills_total{cgroup=\"/big\"} 2"));
  // Cap 2: the managed cgroup, then the largest; /other is dropped.
  CHECK(out.find("cgroup=\"/other\"") == std::string::npos);
  CHECK(has(out, "oomwatch_metrics_cgroups_dropped 1"));
  CHECK(has(out, "oomwatch_tracked_cgroups 0"));  // the daemon's figure, not published here

  // Over HTTP, from the server's thread.
  auto r = owtest::run({"curl", "-sS", "--max-time", "5", "http://" + o.addr.str() + "/metrics"}, 10);
  if (r.exit_code == 127) {
    OWTEST_SKIP("curl is not installed: the HTTP part cannot run (tools/install-deps.sh installs it)");
  }
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, "oomwatch_snapshots_total 7"));
  // The old snapshot stays valid for as long as a scrape holds it.
  snap.reset();
  CHECK(srv.render().find("cgroup=\"/big\"") != std::string::npos);
}

TEST_CASE("metrics server: an address in use is an error naming it, its holder and the fix", "[metrics]") {
  int port = owtest::free_port();
  exporter::MetricsOptions o;
  o.addr = *parse_listen("127.0.0.1:" + std::to_string(port));
  auto first = exporter::MetricsServer::start(o);
  REQUIRE(first);
  auto second = exporter::MetricsServer::start(o);
  REQUIRE(!second);
  // The first server's socket is this process's: /proc/net/tcp -> /proc/self/fd.
  CHECK(second.error().message() == "metrics listener: 127.0.0.1:" + std::to_string(port) + " is in use by pid " +
                                        std::to_string(::getpid()) + " (" + std::string(trim(*read_text("/proc/self/comm"))) +
                                        "): stop it, or give --listen another port");
}

namespace {

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// The server closed fd: a read gives EOF (or a reset), not a timeout.
bool closed_by_server(int fd) {
  char b[256];
  ssize_t n = ::recv(fd, b, sizeof b, 0);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

TEST_CASE("metrics server: a client dripping its request a byte at a time is cut at the deadline", "[metrics]") {
  exporter::MetricsOptions o;
  int port = owtest::free_port();
  o.addr = *parse_listen("127.0.0.1:" + std::to_string(port));
  o.request_deadline = std::chrono::seconds(1);
  auto s = exporter::MetricsServer::start(o);
  REQUIRE(s);
  int fd = connect_to(port);
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  // A byte every 200 ms never lets evhttp's 10 s silence timeout fire; up to
  // 8 s of it (eight deadlines) unless the server closes first.
  bool cut = false;
  for (size_t i = 0; i < 40 && !cut; ++i) {
    if (::send(fd, &req[i % req.size()], 1, MSG_NOSIGNAL) != 1) cut = true;  // reset: closed
    else
      cut = closed_by_server(fd);  // waits 200 ms
  }
  ::close(fd);
  CHECK(cut);
  // The server still answers others.
  CHECK_FALSE(owtest::http_get(port, "/metrics").empty());
}

TEST_CASE("metrics server: past the connection cap, a new connection is closed at once; below it, served",
          "[metrics]") {
  exporter::MetricsOptions o;
  int port = owtest::free_port();
  o.addr = *parse_listen("127.0.0.1:" + std::to_string(port));
  o.max_connections = 4;
  auto s = exporter::MetricsServer::start(o);
  REQUIRE(s);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(connect_to(port));
  int extra = connect_to(port);
  // The fifth is closed without a word; the four stay open (a read times out).
  CHECK(owtest::wait_for([&] { return closed_by_server(extra); }, 5000));
  ::close(extra);
  for (int fd : idle) CHECK_FALSE(closed_by_server(fd));
  for (int fd : idle) ::close(fd);
  // Their slots come back once the server has seen them go.
  CHECK(owtest::wait_for([&] { return !owtest::http_get(port, "/metrics").empty(); }, 5000));
}
