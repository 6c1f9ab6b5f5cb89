// The fleet path's error paths against the same real Prometheus: split
// ranges giving the unsplit figures, the owner label, the OOM counter, an
// unknown metric, a bad selector, NaN, https, a 404, a server that goes away
// after a run's first query, a frozen (SIGSTOP) and a stopped server. One
// line each, never a figure.
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fleet/http_client.hpp"
#include "fleet_tsdb.hpp"

using nlohmann::json;
using namespace fleettest;

namespace {

// Forwards the first connection to Prometheus, then stops listening: the
// server is gone after a run's first query (connects are refused).
struct OneShotProxy {
  std::atomic<int> lfd{-1};
  int port = 0;
  std::thread t;
  explicit OneShotProxy(int target) {
    lfd = owtest::listen_loopback(port);
    t = std::thread([this, target] {
      int c = ::accept(lfd.load(), nullptr, nullptr);
      ::close(lfd.exchange(-1));  // stopped: the next connect is refused
      if (c < 0) return;
      int u = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in ta{};
      ta.sin_family = AF_INET;
      ta.sin_port = htons(static_cast<uint16_t>(target));
      ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (u >= 0 && ::connect(u, reinterpret_cast<sockaddr*>(&ta), sizeof ta) == 0) {
        std::string req;
        char buf[65536];
        while (req.find("\r\n\r\n") == std::string::npos) {  // a GET: headers only
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
        }
        ::send(u, req.data(), req.size(), MSG_NOSIGNAL);
        for (ssize_t n; (n = ::recv(u, buf, sizeof buf, 0)) > 0;) ::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
      }
      if (u >= 0) ::close(u);
      ::close(c);
    });
  }
  ~OneShotProxy() {
    if (int fd = lfd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);  // wakes accept when no run came
    t.join();
  }
};

}  // namespace

TEST_CASE("fleet: split ranges give the unsplit figures; Prometheus's errors are one line each", "[fleet][integration][hosttools]") {
  FleetProm fp;
  INFO(fp.err);
  REQUIRE(fp.ok);
  // 6 h at 1 s is 21600 points per series: split in two per query, merged.
  auto a = recommend(fp, {"--selector", "namespace=\"shop\"", "--step", "30s", "--format", "json"});
  auto b = recommend(fp, {"--selector", "namespace=\"shop\"", "--step", "1s", "--format", "json"});
  INFO(a.err << b.err);
  REQUIRE((a.exit_code == 0 && b.exit_code == 0));
  json ja = json::parse(a.out), jb = json::parse(b.out);
  // + the request and limit over the 30 min cooldown (1800 points at 1 s: one range each)
  CHECK(ja["source"]["range_queries"] == 4 + 2);
  CHECK(jb["source"]["range_queries"] == 8 + 2);
  REQUIRE(ja["containers"].size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(ja["containers"][i]["observed"] == jb["containers"][i]["observed"]);
    CHECK(ja["containers"][i]["recommended"] == jb["containers"][i]["recommended"]);
  }
  // --max-points forces splitting at 30s too: still the same figures.
  auto c = recommend(fp, {"--selector", "namespace=\"shop\"", "--step", "30s", "--max-points", "100", "--format", "json"});
  REQUIRE(c.exit_code == 0);
  json jc = json::parse(c.out);
  // 720 points in ranges of 100 for 4 series; the request and limit over the
  // 30 min cooldown, 60 points, one range each.
  CHECK(jc["source"]["range_queries"] == 4 * 8 + 2);
  CHECK(jc["containers"][0]["observed"] == ja["containers"][0]["observed"]);

  // --owner: only the series of that class, named by it; the OOM counter
  // instead of kube-state-metrics' gauge finds the same kill.
  auto own = recommend(fp, {"--owner", "fn-class", "--format", "json"});
  INFO(own.err);
  REQUIRE(own.exit_code == 0);
  json jo = json::parse(own.out);
  REQUIRE(jo["containers"].size() == 1);
  CHECK(jo["containers"][0]["name"] == "oaas/fn-class/function");
  CHECK(jo["containers"][0]["workload"]["kind"] == "StatefulSet");
  CHECK(jo["containers"][0]["current"]["request_bytes"] == 128 * kMi);  // joined by pod: no owner label on it
  CHECK(jo["containers"][0]["current"]["limit_bytes"] == 256 * kMi);
  auto cnt = recommend(fp, {"--selector", "namespace=\"shop\"", "--metric-oom", "container_oom_events_total", "--format", "json"});
  REQUIRE(cnt.exit_code == 0);
  json jn = json::parse(cnt.out);
  CHECK(jn["containers"][0]["name"] == "shop/db/postgres");
  CHECK(jn["containers"][0]["observed"]["oom_kill_used"] == ja["containers"][0]["observed"]["oom_kill_used"]);
  CHECK(jn["containers"][0]["recommended"] == ja["containers"][0]["recommended"]);
  CHECK(jn["containers"][1]["observed"]["oom_kill_used"].is_null());

  // One error line, and at most a HINT line after it.
  auto one_line = [](const std::string& s) {
    auto n = std::count(s.begin(), s.end(), '\n');
    return n == 1 || (n == 2 && s.find("\nHINT: ") != std::string::npos);
  };
  auto unknown = recommend(fp, {"--metric-working-set", "no_such_metric_bytes"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("Prometheus has no no_such_metric_bytes series"));
  auto sel = recommend(fp, {"--selector", "namespace=~\"(\""});
  CHECK(sel.exit_code == 2);
  CHECK_THAT(sel.err, Catch::Contains("bad_data") && Catch::Contains("HTTP 400"));
  CHECK(one_line(sel.err));
  auto nan = recommend(fp, {"--selector", "namespace=\"bad\""});
  CHECK(nan.exit_code == 1);
  CHECK_THAT(nan.err, Catch::Contains("NaN value") && Catch::Contains("nan-0"));
  CHECK(one_line(nan.err));
  auto https = owtest::run({owtest::oomwatch_bin(), "recommend", "--prometheus", "https://127.0.0.1:1"});
  CHECK(https.exit_code == 2);
  CHECK_THAT(https.err, Catch::Contains("https is not supported"));
  CHECK(one_line(https.err));
  auto patch_node = owtest::run({owtest::oomwatch_bin(), "recommend", "--format", "patch"});
  CHECK(patch_node.exit_code == 2);
  auto notfound = owtest::run({owtest::oomwatch_bin(), "recommend", "--prometheus", fp.prom.base() + "/no/such/prefix",
                               "--end", std::to_string(fp.end), "--window", "6h", "--retries", "0"});
  CHECK(notfound.exit_code == 2);  // a wrong --prometheus prefix is the caller's to fix
  CHECK_THAT(notfound.err, Catch::Contains("HTTP 404") && Catch::Contains("check --prometheus"));
  CHECK(unknown.err.find("check --prometheus") != std::string::npos);
  CHECK(nan.err.find("check --") == std::string::npos);  // bad data is not a usage error

  // Gone mid-run: the first query (the working set) is answered, the next is refused.
  {
    OneShotProxy proxy(fp.prom.port);
    auto mid = owtest::run({owtest::oomwatch_bin(), "recommend", "--prometheus",
                            "http://127.0.0.1:" + std::to_string(proxy.port), "--window", "6h", "--end",
                            std::to_string(fp.end), "--retries", "1", "--selector", "namespace!=\"bad\""},
                           60);
    CHECK(mid.exit_code == 1);
    // The query that failed is the second one: the working set's came through.
    CHECK_THAT(mid.err, Catch::Contains("connection refused") && Catch::Contains("(2 attempts)") &&
                            Catch::Contains("for max_over_time(container_memory_rss{"));
    CHECK(one_line(mid.err));
  }
  // Stopped (SIGSTOP): it accepts connections and never answers -> timeouts, retried, then one line.
  REQUIRE(::kill(fp.prom.bg->pid, SIGSTOP) == 0);
  auto frozen = recommend(fp, {"--timeout", "1s", "--retries", "1"});
  ::kill(fp.prom.bg->pid, SIGCONT);
  CHECK(frozen.exit_code == 1);
  CHECK_THAT(frozen.err, Catch::Contains("timed out after 1s (2 attempts)"));
  CHECK(one_line(frozen.err));
  // Gone: connection refused.
  fp.prom.bg->stop();
  auto gone = recommend(fp, {"--retries", "2"});
  CHECK(gone.exit_code == 1);
  CHECK_THAT(gone.err, Catch::Contains("connection refused") && Catch::Contains("(3 attempts)"));
  CHECK(one_line(gone.err));
}

namespace {

// A server that answers one request with headers and then a byte of its body
// every 200 ms, never finishing within the client's timeout: the connection is
// never silent, so only a deadline on the whole answer ends the client's wait.
struct DripServer {
  int lfd = -1, port = 0;
  std::atomic<bool> stop{false};
  std::thread t;
  DripServer() {
    lfd = owtest::listen_loopback(port);
    t = std::thread([this] {
      int c = ::accept(lfd, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      (void)::recv(c, buf, sizeof buf, 0);
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
      ::send(c, head.data(), head.size(), MSG_NOSIGNAL);
      // Until the client gives up (the send fails) or the test ends; at most 2 minutes.
      for (int i = 0; i < 600 && !stop; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (::send(c, " ", 1, MSG_NOSIGNAL) != 1) break;
      }
      ::close(c);
    });
  }
  ~DripServer() {
    stop = true;
    ::shutdown(lfd, SHUT_RDWR);
    t.join();
    ::close(lfd);
  }
};

}  // namespace

TEST_CASE("fleet: an answer that drips a byte at a time ends at --timeout, like a silent one", "[fleet][integration]") {
  DripServer s;
  ow::fleet::HttpOptions o;
  o.timeout_ms = 1500;
  o.attempts = 1;
  auto r = ow::fleet::http_get("http://127.0.0.1:" + std::to_string(s.port) + "/api/v1/query?query=up", o);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "timed out after 1500ms (1 attempt)");
}
